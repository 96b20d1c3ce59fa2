# ISPRS Potsdam (0.05 m), mmseg layout produced by mmseg's own converter
# (``python tools/dataset_converters/potsdam.py /path/to/zips -o data/potsdam``,
# see grass_mm/tools/dataset_converters/README.md): 512x512 crops, index masks
# 0 = clutter/boundary ignore, 1..6 = impervious surface, building, low vegetation,
# tree, car, clutter; ``reduce_zero_label=True`` maps them to 0..5 and 0 to 255.
# mmseg's own dataset base (loaders, IoUMetric, test-time augmentation: 6 scales x flip); grass_mm's
# difference: the checked loaders (a corrupt image or mask stops with one line naming the file).
_base_ = ['mmseg::_base_/datasets/potsdam.py']
num_classes = 6
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(512, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=(512, 512), keep_ratio=True),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='CheckedLoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
            [
                dict(type='RandomFlip', prob=0.0, direction='horizontal'),
                dict(type='RandomFlip', prob=1.0, direction='horizontal'),
            ],
            [dict(type='CheckedLoadAnnotations')],
            [dict(type='PackSegInputs')],
        ],
    ),
]
# mmengine puts the base's own pipelines into its loaders when it reads the base: set the checked ones again.
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
