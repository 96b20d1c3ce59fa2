# FCN-R50 + patch-contrastive head (CT) on Potsdam, 512x512, 80k iterations (see ./README.md).
_base_ = ['../_base_/datasets/potsdam.py', './_base_/fcn_r50_patch-contrast_80k.py']
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}),
)
