# UPerNet ResNet-18 fine-tuned on VTS at 128 px (tools/quickstart.py --decoder upernet); same
# schedule as fcn_r18_1xb4-150it_vts-128x128.py.
_base_ = ['./fcn_r18_1xb4-150it_vts-128x128.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg={{_base_.norm_cfg}},
        norm_eval=False,
        style='pytorch',
        init_cfg=None,
    ),
    decode_head=dict(
        _delete_=True,
        type='UPerHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=128,
        dropout_ratio=0.1,
        num_classes={{_base_.num_classes}},
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    ),
)
