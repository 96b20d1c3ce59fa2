# FCN-R50 + pixel-anchor loss (Contextrast) on Dubai aerial, 512x512, 80k iterations (see ./README.md).
_base_ = ['../_base_/datasets/dubai.py', './_base_/fcn_r50_pixel-anchor_80k.py']
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}),
)
