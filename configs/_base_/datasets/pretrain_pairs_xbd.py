# xBD pre/post-disaster pairs (two distinct images of one place) for pretraining, read from
# the official layout ``{split}/images/{disaster}_{id}_{pre|post}_disaster.png``.
# Each item carries ``img_path`` (pre) and ``pair_path`` (post); ``LoadImagePair`` loads both
# and the paired view pipeline augments each image on its own.
_base_ = ['./pretrain_tiles_potsdam.py']
dataset_type = 'XBDPairDataset'
data_root = 'data/xbd'
train_pipeline = [
    dict(type='LoadImagePair'),
    # co-registered pairs: same crop/flip for both views (dense methods); global methods
    # (SimCLR, MoCo v2) may set shared_geometry=False.
    dict(
        type='PairedViews',
        geometric={{_base_.geometric_pipeline}},
        photometric={{_base_.photometric_pipeline}},
        pair_prob=1.0,
        shared_geometry=True,
    ),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True, type=dataset_type, data_root=data_root, splits=('train', 'tier3'), pipeline=train_pipeline
    )
)
