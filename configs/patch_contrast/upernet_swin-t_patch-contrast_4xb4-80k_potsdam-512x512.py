# UPerNet-Swin-T + patch-contrastive head (CT) on the strides-16/32 token maps, Potsdam, 512x512, 80k (see ./README.md).
_base_ = ['../_base_/datasets/potsdam.py', './_base_/upernet_swin-t_patch-contrast_80k.py']
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}),
)
