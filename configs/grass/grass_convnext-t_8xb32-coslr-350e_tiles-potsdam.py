# GraSS with a ConvNeXt-T backbone (mmpretrain ConvNeXt 'tiny', feature map output) on unlabeled Potsdam tiles;
# otherwise grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py. LAM from the last stage (768x7x7 for 224 views).
# Fine-tune with mmseg's `mmpretrain.ConvNeXt` backbone (as mmseg's own ConvNeXt configs).
_base_ = ['./grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py', './_base_/transformer_paramwise.py']
model = dict(
    backbone=dict(_delete_=True, type='ConvNeXt', arch='tiny', drop_path_rate=0.1, gap_before_final_norm=False),
    neck=dict(in_channels=768),
)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={{_base_.transformer_custom_keys}}))
