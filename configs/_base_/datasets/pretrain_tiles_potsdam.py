# Unlabeled ISPRS Potsdam tiles for self-supervised pretraining (mmpretrain scope).
# Reads the *training* crops of the mmseg layout (data/potsdam/img_dir/train, 512x512, so no
# val image is seen in pretraining). To cut the raw 6000x6000 scenes instead, set
# ``data_root='data/potsdam_raw'``, ``data_prefix='2_Ortho_RGB'`` (RGB tifs) or '4_Ortho_RGBIR'
# with ``bands=(0, 1, 2)``; scenes are read one at a time, tile by tile.
dataset_type = 'RSTileDataset'
data_root = 'data/potsdam'
crop_size = 224
data_preprocessor = dict(
    type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True
)
geometric_pipeline = [
    dict(type='RandomResizedCrop', scale=crop_size, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
]
photometric_pipeline = [
    dict(
        type='RandomApply',
        # hue jitter works under numpy >= 2 thanks to grass_mm.runtime.compat (mmcv 2.1 fix)
        transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)],
        prob=0.8,
    ),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
]
view_pipeline = geometric_pipeline + photometric_pipeline
train_pipeline = [
    dict(type='LoadRSTile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='img_dir/train',
        tile_size=512,
        stride=512,
        pipeline=train_pipeline,
    ),
)
