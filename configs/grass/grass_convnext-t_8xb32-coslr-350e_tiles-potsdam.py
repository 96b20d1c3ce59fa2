# GraSS with a ConvNeXt-T backbone (mmpretrain ConvNeXt 'tiny', feature map output) on unlabeled Potsdam tiles;
# otherwise grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py. LAM from the last stage (768x7x7 for 224 views).
# Fine-tune with mmseg's `mmpretrain.ConvNeXt` backbone (as mmseg's own ConvNeXt configs).
# out_indices=(0, 1, 2, 3) as in mmseg's UPerNet-ConvNeXt: the backbone has the output norms of all four stages
# (norm0-3), so the checkpoint loads with zero missing keys. GraSS's neck gets the last output; norm0-2 get no
# gradient, GraSS freezes them (they stay as initialised, as a fresh segmentation backbone would have them).
_base_ = ['./grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py', './_base_/transformer_paramwise.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='ConvNeXt',
        arch='tiny',
        drop_path_rate=0.1,
        gap_before_final_norm=False,
        out_indices=(0, 1, 2, 3),
    ),
    neck=dict(in_channels=768),
)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={{_base_.transformer_custom_keys}}))
