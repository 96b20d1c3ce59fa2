# UPerNet-Swin-T + patch-contrastive auxiliary head (CT), 80k iterations; the component block is the diff
# against the plain model.
# Training only: prediction is the plain model's. Leaf configs add the dataset (see ../README.md).
_base_ = [
    '../../_base_/models/upernet_swin_t.py',
    '../../_base_/default_runtime_seg.py',
    '../../_base_/schedules/seg_80k.py',
]
model = dict(
    type='ContrastEncoderDecoder',
    patch_contrast_head=dict(
        type='PatchContrastHead',
        in_index=[2, 3],
        in_channels=[384, 768],
        channels=128,
        purity=1.0,
        hard_share=0.4,
        sampler='hard',
        max_pos=128,
        max_neg=256,
        loss_type='infonce',
        temperature=0.1,
        loss_weight=0.1,
    ),
)
