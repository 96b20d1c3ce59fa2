# FCN-R50 + boundary-aware pixel-anchor loss (Contextrast), 80k iterations; the component block is
# the diff against the plain model.
# Training only: prediction is the plain model's. Leaf configs add the dataset (see ../README.md).
_base_ = ['../../_base_/models/fcn_r50.py', '../../_base_/default_runtime_seg.py', '../../_base_/schedules/seg_80k.py']
model = dict(
    type='ContrastEncoderDecoder',
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
        loss_weight=0.1,
    ),
)
