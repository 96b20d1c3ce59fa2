# The protocol on ISPRS Potsdam as the lab runs it: the 24 official training scenes cut into 256-px tiles
# (24 x 576 = 13,824), the 14 official test scenes (8,064 tiles) for evaluation, tiles used as they are.
# Make that split with mmseg's converter (see ../README.md):
#   python tools/dataset_converters/potsdam.py /path/to/potsdam_zips -o data/potsdam_256 --clip_size 256
# Leaves set the labelled share: train_dataloader.dataset.dataset.fraction (its seed: ...dataset.dataset.seed).
_base_ = ['../../_base_/datasets/potsdam.py', './deeplabv3plus_r50-os16_1xb16-adam-150e.py']
data_root = 'data/potsdam_256'
crop_size = (256, 256)
# The lab's augmentation as far as mmseg has it: flips (h, v, both), scale +-10 %, colour jitter
# (no 90-degree rotation: mmseg has no such transform).
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(256, 256), ratio_range=(0.9, 1.1), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=[0.2, 0.2, 0.2], direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [  # 256-px test tiles, as they are
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    drop_last=True,  # as the lab; a last batch of one sample would stop BN in ASPP's image pooling
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=1,  # one epoch = one pass over the labelled tiles
        dataset=dict(
            type='LabelSubsetDataset',
            fraction=1.0,
            seed=0,  # the subset's own seed, independent of the training seed (randomness.seed)
            dataset=dict(
                type={{_base_.dataset_type}},
                data_root=data_root,
                data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                pipeline=train_pipeline,
            ),
        ),
    ),
)
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUKappaMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
# default: the GraSS checkpoint of ../../grass/ (--cfg-options model.backbone.init_cfg.checkpoint=PATH)
pretrained_ckpt = 'work_dirs/grass_resnet50_8xb32-coslr-350e_tiles-potsdam/epoch_350.pth'
model = dict(
    backbone=dict(init_cfg=dict(checkpoint=pretrained_ckpt)), decode_head=dict(num_classes={{_base_.num_classes}})
)
