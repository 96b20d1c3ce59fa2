# UPerNet-R50 on LoveDA Rural with the patch-contrastive head (CT) + boundary-aware pixel-anchor loss (Contextrast).
# Inherits the plain baseline (base model + dataset + runtime + schedule); the diff against it is the
# `type='ContrastEncoderDecoder'` line and the component block(s) below (training only: prediction is the
# plain model's).
_base_ = [
    '../_base_/models/upernet_r50.py', '../_base_/datasets/loveda_rural.py', '../_base_/default_runtime_seg.py',
    '../_base_/schedules/seg_80k.py'
]
num_classes = {{_base_.num_classes}}
crop_size = {{_base_.crop_size}}
model = dict(
    type='ContrastEncoderDecoder',
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes),
    patch_contrast_head=dict(
        type='PatchContrastHead',
        in_index=[2, 3],
        in_channels=[1024, 2048],
        channels=128,
        purity=1.0,
        hard_share=0.4,
        sampler='hard',
        max_pos=128,
        max_neg=256,
        loss_type='infonce',
        temperature=0.1,
        loss_weight=0.1),
    pixel_anchor_head=dict(
        type='PixelAnchorHead',
        in_index=[1, 2, 3],
        in_channels=[512, 1024, 2048],
        decoder_channels=512,
        channels=256,
        w_low=0.5,
        w_high=0.5,
        k_percent=10.0,
        temperature=0.1,
        loss_weight=0.1),
)
