# GraSS paper schedule: LARS (SGD + layer-wise adaptive rate), weight decay 1e-6, 350 epochs,
# 10 epochs of linear lr warm-up then cosine decay. lr 0.3 for 256 images (SimCLR's
# 0.3 x batch / 256); auto_scale_lr rescales it when the total batch differs
# (tools/train.py --auto-scale-lr).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=0.3, momentum=0.9, weight_decay=1e-6),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            # bn layer in ResNet block downsample module
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }
    ),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR', T_max=340, eta_min=0.0, by_epoch=True, begin=10, end=350, convert_to_iter_based=True
    ),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=350)
auto_scale_lr = dict(base_batch_size=256)
