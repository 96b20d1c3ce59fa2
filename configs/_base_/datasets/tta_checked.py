# Test-time augmentation (tools/test.py --tta) for the grass_mm dataset bases that have no mmseg base to
# inherit it from (Dubai, xBD): mmseg's own 6 scales x flip, with the checked loaders.
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
