# GraSS-R50 with the paper's schedule: SimCLR warm-up for the first 100 epochs (the middle of the 0-200
# range the paper studied), then gradient-guided sampling. The hook derives the stage from the epoch, so
# --resume continues in the right stage. Leaf configs add the data and its two-view pipeline.
_base_ = ['../../baselines/_base_/pretrain_8xb32-coslr-350e.py', './grass_r50.py']
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='DeterministicWarnOnlyHook'),
    dict(type='GraSSWarmupHook', warmup_epochs=100),
]
