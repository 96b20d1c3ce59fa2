# SimCLR-R18 on the real Potsdam/Vaihingen/LoveDA crops in ../shared/data, cut into 128 px tiles,
# 64 px views, 2 iterations: the CPU smoke test of the mmpretrain side (also `mim train mmpretrain`).
_base_ = [
    '../_base_/datasets/pretrain_tiles_potsdam.py',
    '../_base_/default_runtime_selfsup.py',
    '../_base_/models/simclr_r18.py',
]
view_pipeline = [
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomApply',
        transforms=[dict(type='ColorJitter', brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2)],
        prob=0.8,
    ),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root='../shared/data/mmseg_rs_tiles',
        data_prefix='',
        tile_size=128,
        stride=128,
        pipeline=[
            dict(type='LoadRSTile'),
            dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
            dict(type='PackInputs'),
        ],
    ),
)
model = dict(data_preprocessor={{_base_.data_preprocessor}})
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-6))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=False, begin=0, end=2)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1), checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2)
)
log_processor = dict(by_epoch=False)
