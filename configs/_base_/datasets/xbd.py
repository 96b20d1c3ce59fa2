# xBD building segmentation (pre-disaster images), converted from the official layout
# ``{split}/images/*_{pre,post}_disaster.png`` + ``{split}/labels/*.json`` by
# ``python tools/dataset_converters/xbd.py /path/to/xBD -o data/xbd_mmseg --task building``:
# data/xbd_mmseg/{img_dir,ann_dir}/{train,test,hold,tier3}; masks 0 = background, 1 = building.
# For the 4 damage levels use ``--task damage`` (post images; 0 background, 1 no-damage,
# 2 minor, 3 major, 4 destroyed, 255 un-classified) with
# ``dataset=dict(type='XBDDamageSegDataset')`` and ``num_classes = 5``.
_base_ = ['./tta_checked.py']  # tools/test.py --tta: 6 scales x flip, checked loaders
dataset_type = 'XBDSegDataset'
data_root = 'data/xbd_mmseg'
crop_size = (512, 512)
num_classes = 2
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
    dict(type='CheckedLoadAnnotations', reduce_zero_label=False),
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
        data_prefix=dict(img_path='img_dir/test', seg_map_path='ann_dir/test'),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
