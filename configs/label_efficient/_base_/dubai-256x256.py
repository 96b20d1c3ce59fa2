# The protocol on the Dubai aerial set: random 256-px crops of the images (rescaled to fit 1024 px), evaluation on the
# whole val images (../../_base_/datasets/dubai.py). One epoch = 16 random crops per labelled image
# (RepeatDataset times=16): about one pass over its pixels, as one pass over the tiles is on Potsdam; an
# epoch also holds a full batch of 16 when the labelled share is a single image.
# Leaves set the labelled share: train_dataloader.dataset.dataset.fraction (its seed: ...dataset.dataset.seed).
_base_ = ['../../_base_/datasets/dubai.py', './deeplabv3plus_r50-os16_1xb16-adam-150e.py']
crop_size = (256, 256)
train_pipeline = [  # the lab's augmentation as far as mmseg has it (see potsdam-256x256.py)
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=False),
    dict(type='RandomResize', scale=(1024, 1024), ratio_range=(0.9, 1.1), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=[0.2, 0.2, 0.2], direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    drop_last=True,  # as the lab; a last batch of one sample would stop BN in ASPP's image pooling
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=16,
        dataset=dict(
            type='LabelSubsetDataset',
            fraction=1.0,
            seed=0,  # the subset's own seed, independent of the training seed (randomness.seed)
            dataset=dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                pipeline=train_pipeline,
            ),
        ),
    ),
)
val_evaluator = dict(type='IoUKappaMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
# default: the GraSS checkpoint of ../../grass/ (--cfg-options model.backbone.init_cfg.checkpoint=PATH)
pretrained_ckpt = 'work_dirs/grass_resnet50_8xb32-coslr-350e_tiles-dubai/epoch_350.pth'
model = dict(
    backbone=dict(init_cfg=dict(checkpoint=pretrained_ckpt)), decode_head=dict(num_classes={{_base_.num_classes}})
)
