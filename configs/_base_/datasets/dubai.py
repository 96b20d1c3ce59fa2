# Dubai aerial imagery (MBRSC / Humans in the Loop, CC0), converted from the Kaggle layout
# ``tile_N/{images/*.jpg, masks/*.png}`` by
# ``python tools/dataset_converters/dubai_aerial.py ../shared/data/dubai_aerial -o data/dubai_aerial``:
# data/dubai_aerial/{img_dir,ann_dir}/{train,val}; index masks 0..5 = building, land, road,
# vegetation, water, unlabeled; colours outside the palette (pure black) -> 255.
_base_ = ['./tta_checked.py']  # tools/test.py --tta: 6 scales x flip, checked loaders
dataset_type = 'DubaiAerialDataset'
data_root = 'data/dubai_aerial'
crop_size = (512, 512)
num_classes = 6
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=False),
    dict(type='RandomResize', scale=(1024, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=(1024, 1024), keep_ratio=True),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=False),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
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
    num_workers=2,
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
