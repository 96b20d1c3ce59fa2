# FCN ResNet-18 (dilated, output stride 8) fine-tuned on VTS at 128 px: the segmentation stage of
# tools/quickstart.py. The backbone is mmpretrain's plain ResNet layout, so a pretraining
# checkpoint's backbone.* keys load with zero missing keys; random init when init_cfg is None:
#   python tools/train.py THIS_CONFIG --cfg-options \
#       model.backbone.init_cfg.type=Pretrained model.backbone.init_cfg.checkpoint=PATH \
#       model.backbone.init_cfg.prefix=backbone.
_base_ = [
    '../_base_/models/fcn_r50.py',
    '../_base_/datasets/vts_files.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/schedules/seg_20k.py',
]
max_iters = 150
num_classes = {{_base_.num_classes}}
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    backbone=dict(depth=18, init_cfg=None),
    decode_head=dict(in_channels=512, channels=128, num_classes=num_classes),
    auxiliary_head=dict(in_channels=256, channels=64, num_classes=num_classes),
)
# the 20k schedule (SGD 0.01, poly decay), shortened; one validation and one checkpoint at the end
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
