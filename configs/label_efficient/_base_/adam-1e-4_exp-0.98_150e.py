# The lab's fine-tuning schedule: Adam lr 1e-4 (betas 0.9, 0.99; weight decay 1e-5), learning rate x0.98 after
# every epoch, 150 epochs. Validation and a checkpoint every 50 epochs; the reported figure is the last one.
# (Log by epoch: the protocol config sets log_processor, which default_runtime_seg.py also has.)
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99), weight_decay=1e-5), clip_grad=None
)
param_scheduler = [dict(type='ExponentialLR', gamma=0.98, by_epoch=True, begin=0, end=150)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=150, val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=50, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
)
