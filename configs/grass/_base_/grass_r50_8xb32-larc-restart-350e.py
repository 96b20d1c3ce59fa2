# GraSS-R50 with the official code's schedule shape (../../_base_/schedules/selfsup_larc_restart_350e.py: lr ramp
# 0.6 -> 4.8, cosine restarts every third of training) instead of mmpretrain's SimCLR schedule; warm-up, stage
# switch and model as grass_r50_8xb32-coslr-350e.py.
_base_ = [
    '../../_base_/schedules/selfsup_larc_restart_350e.py',
    '../../_base_/default_runtime_selfsup.py',
    './grass_r50.py',
]
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='DeterministicWarnOnlyHook'),
    dict(type='GraSSWarmupHook', warmup_epochs=100),
]
