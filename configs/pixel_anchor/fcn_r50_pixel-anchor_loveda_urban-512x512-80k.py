# FCN-R50 on LoveDA Urban with the boundary-aware pixel-anchor loss (Contextrast).
# Inherits the plain baseline (base model + dataset + runtime + schedule); the diff against it is the
# `type='ContrastEncoderDecoder'` line and the component block(s) below (training only: prediction is the
# plain model's).
_base_ = [
    '../_base_/models/fcn_r50.py', '../_base_/datasets/loveda_urban.py', '../_base_/default_runtime_seg.py',
    '../_base_/schedules/seg_80k.py'
]
num_classes = {{_base_.num_classes}}
crop_size = {{_base_.crop_size}}
model = dict(
    type='ContrastEncoderDecoder',
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes),
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
