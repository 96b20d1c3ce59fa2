# Two-view pipelines for positive pairs made of two distinct co-registered images
# (Gerard & Sullivan, noisy positive pairs). View 1 comes from the image, view 2 from its partner
# (VTS noisy twin / xBD post-disaster image) with probability ``pair_prob`` (else the same
# image twice), each view with its own photometric augmentation.
pair_crop_size = 224
pair_prob = 1.0
pair_geometric = [
    dict(type='RandomResizedCrop', scale=pair_crop_size, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
]
pair_photometric = [
    dict(
        type='RandomApply',
        transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)],
        prob=0.8,
    ),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
]
# dense methods (DenseCL, PixelPairContrast, GraSS): same crop / flip on both views, so that
# pixel (u, v) of view 1 and of view 2 show the same ground point
shared_pair_pipeline = [
    dict(type='LoadImagePair'),
    dict(
        type='PairedViews',
        geometric=pair_geometric,
        photometric=pair_photometric,
        pair_prob=pair_prob,
        shared_geometry=True,
    ),
    dict(type='PackInputs'),
]
# global methods (MoCo v2): independent geometry per view
independent_pair_pipeline = [
    dict(type='LoadImagePair'),
    dict(
        type='PairedViews',
        geometric=pair_geometric,
        photometric=pair_photometric,
        pair_prob=pair_prob,
        shared_geometry=False,
    ),
    dict(type='PackInputs'),
]
