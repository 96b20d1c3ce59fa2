# MoCo v2 on XBD positive pairs (two co-registered images),
# independent geometry per view (global InfoNCE); see ./README.md.
_base_ = [
    '../_base_/datasets/pretrain_pairs_xbd.py',
    '../baselines/_base_/pretrain_8xb32-coslr-350e.py',
    '../baselines/_base_/mocov2_r50.py',
    './_base_/paired_views.py',
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.independent_pair_pipeline}}))
