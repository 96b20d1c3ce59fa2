# The noisy-pairs paper's evaluation protocol: FROZEN pretrained encoder + FCN head trained on
# top, on VTS segmentation (2 texture classes). Every ResNet stage and the stem are frozen
# (frozen_stages=4, requires_grad=False) and BN statistics too (norm_eval=True): the encoder
# stays bit-identical (tests/test_noisy_pairs/test_frozen_protocol.py). No auxiliary head.
# Set the checkpoint of a ./*_vts-pairs.py run:
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/.../epoch_350.pth
_base_ = [
    '../_base_/models/fcn_r50.py',
    '../_base_/datasets/vts.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/schedules/seg_20k.py',
]
pretrained = 'work_dirs/pixel-pair_resnet50_8xb32-coslr-350e_vts-pairs/epoch_350.pth'
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    backbone=dict(
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=pretrained, prefix='backbone.'),
    ),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=None,
)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=4000, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=4000, val_interval=1000)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000))
