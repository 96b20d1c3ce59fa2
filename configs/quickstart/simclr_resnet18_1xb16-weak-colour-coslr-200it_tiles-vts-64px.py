# SimCLR ResNet-18 as simclr_resnet18_1xb16-coslr-200it_tiles-vts-64px.py, with colour augmentation that keeps the
# colours remote-sensing classes are told apart by (water, vegetation, bare land): brightness/contrast jitter only (no
# saturation or hue jitter), no grayscale. SimCLR's default jitter (0.4/0.4/0.4/0.1, grayscale 0.2) teaches colour
# invariance.
_base_ = ['./simclr_resnet18_1xb16-coslr-200it_tiles-vts-64px.py']
view_pipeline = [
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(
        type='RandomApply',
        transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.0, hue=0.0)],
        prob=0.8,
    ),
]
train_dataloader = dict(
    dataset=dict(
        pipeline=[
            dict(type='LoadRSTile'),
            dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
            dict(type='PackInputs'),
        ]
    )
)
