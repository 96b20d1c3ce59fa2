# The GraSS paper's two-view augmentation (SimCLR's), shared by GraSS and every baseline so that
# "GraSS vs baselines" differs in the method only. Leaf configs plug it in with
# ``train_dataloader = dict(dataset=dict(pipeline={{_base_.paper_train_pipeline}}))``.
# RandomResizedCrop 224 scale 0.08-1, flip, colour jitter (0.8, 0.8, 0.8, hue) p 0.8,
# grayscale p 0.2, Gaussian blur sigma 0.1-2 p 0.5; ImageNet mean/std (data_preprocessor of
# the pretrain_tiles_* dataset configs).
# (hue jitter runs under numpy >= 2 thanks to grass_mm.runtime.compat, a fix of mmcv 2.1's adjust_hue.)
paper_view_pipeline = [
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.08, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomApply',
        transforms=[dict(type='ColorJitter', brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2)],
        prob=0.8,
    ),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
]
paper_train_pipeline = [
    dict(type='LoadRSTile'),
    dict(type='MultiView', num_views=2, transforms=[paper_view_pipeline]),
    dict(type='PackInputs'),
]
