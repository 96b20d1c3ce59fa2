# UPerNet-R50 with both components: the patch-contrastive head (CT) and the pixel-anchor loss.
_base_ = ['../../patch_contrast/_base_/upernet_r50_patch-contrast_80k.py']
model = dict(
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
