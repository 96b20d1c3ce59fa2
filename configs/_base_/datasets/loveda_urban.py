# LoveDA Urban (0.3 m) only. Layout written by
# ``python tools/dataset_converters/loveda_domains.py /path/to/LoveDA -o data/loveDA_domains``:
# data/loveDA_domains/urban/{img_dir,ann_dir}/{train,val} (+ img_dir/test).
# Masks: 0 = no-data, 1..7 = background, building, road, water, barren, forest,
# agricultural; ``reduce_zero_label=True`` (the dataset default) gives 0..6 and 255.
# mmseg's own LoveDA base (loaders, IoUMetric, test-time augmentation: 6 scales x flip); grass_mm's
# difference: one domain (its dataset type and folder), training scale 1024 x 1024 (mmseg: 2048 x 512)
# and the checked loaders (a corrupt image or mask stops with one line naming the file).
_base_ = ['mmseg::_base_/datasets/loveda.py']
dataset_type = 'LoveDAUrbanDataset'
data_root = 'data/loveDA_domains/urban'
num_classes = 7
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(1024, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=(1024, 1024), keep_ratio=True),
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
# mmengine puts the base's own type, folder and pipelines into its loaders when it reads the base: set ours.
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
