# ISPRS Potsdam (0.05 m), mmseg layout produced by mmseg's own converter
# (``python tools/dataset_converters/potsdam.py /path/to/zips -o data/potsdam``,
# see grass_mm/tools/dataset_converters/README.md): 512x512 crops, index masks
# 0 = clutter/boundary ignore, 1..6 = impervious surface, building, low vegetation,
# tree, car, clutter; ``reduce_zero_label=True`` maps them to 0..5 and 0 to 255.
dataset_type = 'PotsdamDataset'
data_root = 'data/potsdam'
crop_size = (512, 512)
num_classes = 6
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(512, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
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
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
