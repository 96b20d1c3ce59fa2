# FCN-R18 on the real Potsdam crop, 4 iterations at 128x128.
_base_ = [
    '../_base_/models/fcn_r50.py',
    '_base_/potsdam_crop.py',
    '../_base_/default_runtime_seg.py',
    '_base_/smoke_schedule.py',
]
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(depth=18),
    decode_head=dict(in_channels=512, channels=64, num_classes=6),
    auxiliary_head=dict(in_channels=256, channels=32, num_classes=6),
)
