# The same FCN-R18 smoke run, but every base except grass_mm's runtime comes from mmseg itself
# through the `mmseg::` prefix (model, schedule): shows that mmseg's own base configs compose
# with grass_mm's.
_base_ = [
    'mmseg::_base_/models/fcn_r50-d8.py',
    '_base_/potsdam_crop.py',
    '../_base_/default_runtime_seg.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg, init_cfg=None),
    decode_head=dict(in_channels=512, channels=64, num_classes=6, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=32, num_classes=6, norm_cfg=norm_cfg),
)
train_cfg = dict(max_iters=2, val_interval=2)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=2, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
