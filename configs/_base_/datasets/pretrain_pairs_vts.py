# VTS clean/noisy pairs generated on the fly (deterministic from (seed, index)); the noisy
# twin re-fills ``r_img`` of the 20 Voronoi cells with a third "noise" texture.
# Items carry in-memory ``img`` and ``pair_img`` (256x256x3 uint8, grey textures so channel
# order does not matter); ``LoadImagePair`` passes them on.
_base_ = ['./pretrain_tiles_potsdam.py']
dataset_type = 'VTSPairDataset'
data_root = ''
crop_size = 224
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
    num_workers=2,
    dataset=dict(_delete_=True, type=dataset_type, num_samples=10000, seed=0, r_img=0.5, pipeline=train_pipeline),
)
