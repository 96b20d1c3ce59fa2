# GraSS with a Swin-T backbone (mmpretrain SwinTransformer 'tiny') on unlabeled Potsdam tiles; otherwise
# grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py. LAM from the last stage (768x7x7 tokens as a grid for 224
# views). Its checkpoint initialises
# ../patch_contrast/upernet_swin-t_grass-pretrain_patch-contrast_potsdam-512x512-80k.py.
_base_ = ['./grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py', './_base_/transformer_paramwise.py']
model = dict(
    backbone=dict(_delete_=True, type='SwinTransformer', arch='tiny', img_size=224, drop_path_rate=0.2),
    neck=dict(in_channels=768),
)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={{_base_.transformer_custom_keys}}))
