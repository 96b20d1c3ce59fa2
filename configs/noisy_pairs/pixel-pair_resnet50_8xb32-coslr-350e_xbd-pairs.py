# PixelPairContrast on XBD positive pairs (two co-registered images),
# same crop/flip on both views (dense correspondence); see ./README.md.
_base_ = [
    '../_base_/datasets/pretrain_pairs_xbd.py',
    '../baselines/_base_/pretrain_8xb32-coslr-350e.py',
    './_base_/pixel_pair_r50.py',
    './_base_/paired_views.py',
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.shared_pair_pipeline}}))
