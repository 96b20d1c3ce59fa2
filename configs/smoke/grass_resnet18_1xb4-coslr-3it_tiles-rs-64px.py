# GraSS-R18 on the real tiles of ../shared/data: 1 SimCLR warm-up iteration, then gradient-guided
# sampling. For tests (single process and `tools/dist_train.sh ... 2` on CPU) and a first look.
_base_ = ['simclr_resnet18_1xb4-coslr-2it_tiles-rs-64px.py']
model = dict(type='GraSS', gs_stage=-1, threshold=0.5, lam_norm='original', crop_mode='nearest')
train_cfg = dict(max_iters=3)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=3, by_epoch=False, begin=0, end=3)]
default_hooks = dict(checkpoint=dict(interval=3))
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='DeterministicWarnOnlyHook'),
    dict(type='GraSSWarmupHook', warmup_iters=1),
]
