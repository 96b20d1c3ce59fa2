# GraSS with a ViT-S/16 backbone (mmpretrain VisionTransformer 'deit-small', patch tokens as a 14x14 map for 224
# views) on unlabeled Potsdam tiles; otherwise grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py. LAM from the last
# layer's patch tokens (after the final norm). Fine-tune with mmseg's `mmpretrain.VisionTransformer` backbone.
_base_ = ['./grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py', './_base_/transformer_paramwise.py']
model = dict(
    backbone=dict(
        _delete_=True, type='VisionTransformer', arch='deit-small', img_size=224, patch_size=16, out_type='featmap'
    ),
    neck=dict(in_channels=384),
)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={{_base_.transformer_custom_keys}}))
