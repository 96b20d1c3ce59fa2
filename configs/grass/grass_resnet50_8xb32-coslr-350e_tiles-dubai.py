# GraSS on unlabeled dubai tiles: batch 8 x 32 = 256 images (512 views), 224 views, LARS,
# 350 epochs; SimCLR warm-up for the first 100 epochs (the middle of the 0-200 range the paper
# studied), then gradient-guided sampling. The hook derives the stage from the epoch, so
# --resume continues in the right stage.
_base_ = [
    '../_base_/datasets/pretrain_tiles_dubai.py',
    '../_base_/schedules/selfsup_lars_coslr_350e.py',
    '../_base_/default_runtime_selfsup.py',
    './_base_/grass_r50.py',
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.paper_train_pipeline}}))
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='GraSSWarmupHook', warmup_epochs=100),
]
