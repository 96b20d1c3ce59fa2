# UPerNet-Swin-T + patch-contrastive head (CT) on Potsdam, trained with the recipe of the official CT code
# ("A Contrastive Learning Scheme with Transformer Innate Patches"): projection Linear(C, 128)-GELU-
# Linear(128, 128), hard anchor i paired with easy positive i, loss weight 1, contrastive loss clamped at 1.5,
# AdamW (lr 1e-4) with gradient clipping at norm 1.0. The diff against
# ./upernet_swin-t_patch-contrast_4xb4-80k_potsdam-512x512.py is the block below; what stays the project's: the
# encoder stages (in_index [2, 3]), the hard-positive share (0.4), the sample caps, the poly decay over 80k
# iterations, batch 4 per GPU and the 512x512 crops (see ../../README.md, "CT recipe").
_base_ = ['../_base_/datasets/potsdam.py', './_base_/upernet_swin-t_patch-contrast_80k.py']
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}),
    patch_contrast_head=dict(hidden_channels=128, pairing='paired', clip=1.5, loss_weight=1.0),
)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.01),
    clip_grad=dict(max_norm=1.0, norm_type=2),
)
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=80000, by_epoch=False)]
