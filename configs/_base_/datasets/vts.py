# Synthetic Voronoi-texture set (VTS), generated on the fly and deterministic from
# (seed, index): 256x256 images, 20 Voronoi cells, two texture classes (0, 1) taken
# from scikit-image's bundled brick/grass/gravel photographs. No files are needed.
# To train from disk instead, write the set with tools/dataset_converters/vts.py and use
# ``data_root`` + ``data_prefix`` like any mmseg dataset (``on_the_fly=False``).
dataset_type = 'VTSSegDataset'
data_root = ''
crop_size = (256, 256)
num_classes = 2
train_pipeline = [dict(type='LoadImageFromNDArray'), dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]
test_pipeline = [dict(type='LoadImageFromNDArray'), dict(type='PackSegInputs')]
# Test-time augmentation (tools/test.py --tta): flip only. The items carry their mask in memory, so a resize
# would resize it with the image (mmseg's dataset bases load the mask after the resize); SegTTAModel scores
# against the mask of the first view, the unflipped one.
tta_pipeline = [
    dict(type='LoadImageFromNDArray'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='RandomFlip', prob=0.0, direction='horizontal'),
                dict(type='RandomFlip', prob=1.0, direction='horizontal'),
            ],
            [dict(type='PackSegInputs')],
        ],
    ),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, num_samples=2000, seed=0, pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, num_samples=200, seed=1, pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
