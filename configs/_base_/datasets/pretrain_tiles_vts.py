# Unlabeled VTS training images (written by tools/dataset_converters/vts.py, 128 px) for
# self-supervised pretraining; only img_dir/train is read, never a val image. 64 px views.
_base_ = ['./pretrain_tiles_potsdam.py']
data_root = 'data/vts'
view_pipeline = [
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(
        type='RandomApply',
        transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)],
        prob=0.8,
    ),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root=data_root,
        data_prefix='img_dir/train',
        tile_size=128,
        stride=128,
        pipeline=[
            dict(type='LoadRSTile'),
            dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
            dict(type='PackInputs'),
        ],
    ),
)
