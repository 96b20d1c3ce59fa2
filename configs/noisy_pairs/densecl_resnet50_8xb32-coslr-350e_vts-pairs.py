# DenseCL on VTS positive pairs (two co-registered images),
# same crop/flip on both views (dense correspondence); see ./README.md.
_base_ = [
    '../_base_/datasets/pretrain_pairs_vts.py',
    '../baselines/_base_/pretrain_8xb32-coslr-350e.py',
    '../baselines/_base_/densecl_r50.py',
    './_base_/paired_views.py',
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.shared_pair_pipeline}}))
