# GraSS with a Swin-T backbone (mmpretrain SwinTransformer 'tiny') on unlabeled Potsdam tiles; otherwise
# grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py. LAM from the last stage (768x7x7 tokens as a grid for 224
# views). Its checkpoint initialises
# ../patch_contrast/upernet_swin-t-grass-pre_patch-contrast_4xb4-80k_potsdam-512x512.py.
# out_indices=(0, 1, 2, 3) as in the UPerNet backbone: the backbone has the output norms of all four stages (norm0-3),
# so the checkpoint loads into mmseg's Swin with zero missing keys. GraSS's neck gets the last output; norm0-2 get no
# gradient, GraSS freezes them (they stay as initialised, as a fresh mmseg backbone would have them).
_base_ = ['./grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py', './_base_/transformer_paramwise.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        arch='tiny',
        img_size=224,
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3),
    ),
    neck=dict(in_channels=768),
)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={{_base_.transformer_custom_keys}}))
