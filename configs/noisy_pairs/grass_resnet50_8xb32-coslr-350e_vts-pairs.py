# grass pretraining on vts positive pairs (two distinct co-registered images):
# GraSS (SimCLR warm-up then gradient-guided sampling): same crop/flip.
# Same schedule as ../baselines and ../grass; evaluate with ./fcn_r50_frozen-4k_vts.py (frozen)
# or ./fcn_r50_finetune-4k_vts.py. Mix in classic pairs with train_dataloader.dataset.pipeline's
# PairedViews.pair_prob < 1 (see tools/experiments/noisy_pairs.py).
_base_ = [
    '../_base_/datasets/pretrain_pairs_vts.py',
    '../_base_/schedules/selfsup_lars_coslr_350e.py',
    '../_base_/default_runtime_selfsup.py',
    '../grass/_base_/grass_r50.py',
    './_base_/paired_views.py',
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.shared_pair_pipeline}}))
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='GraSSWarmupHook', warmup_epochs=100),
]
