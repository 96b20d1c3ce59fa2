# SimCLR ResNet-18 on the unlabeled VTS training images: the baseline pretraining of
# tools/quickstart.py (16 images = 32 views of 64 px per step, 200 iterations, cosine LR).
# tools/quickstart.py sets data_root, max_iters and the batch from its flags.
_base_ = [
    '../_base_/datasets/pretrain_tiles_vts.py',
    '../_base_/default_runtime_selfsup.py',
    '../_base_/models/simclr_r18.py',
]
max_iters = 200
model = dict(data_preprocessor={{_base_.data_preprocessor}})
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_iters, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1),
)
log_processor = dict(by_epoch=False)
