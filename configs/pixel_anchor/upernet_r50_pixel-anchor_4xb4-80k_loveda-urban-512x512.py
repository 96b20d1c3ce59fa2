# UPerNet-R50 + pixel-anchor loss (Contextrast) on LoveDA Urban, 512x512, 80k iterations (see ./README.md).
_base_ = ['../_base_/datasets/loveda_urban.py', './_base_/upernet_r50_pixel-anchor_80k.py']
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}),
)
