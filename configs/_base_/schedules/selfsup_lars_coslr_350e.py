# GraSS paper schedule on mmpretrain's LARS + cosine schedule (SGD + layer-wise adaptive rate, weight decay
# 1e-6, 10 epochs of linear lr warm-up then cosine decay), with the paper's differences: 350 epochs, lr 0.3
# for 256 images (SimCLR's 0.3 x batch / 256; auto_scale_lr rescales it when the total batch differs,
# tools/train.py --auto-scale-lr), no weight decay and no LARS adaptation for BN and biases.
_base_ = ['mmpretrain::_base_/schedules/imagenet_lars_coslr_200e.py']
optim_wrapper = dict(
    optimizer=dict(lr=0.3),
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
train_cfg = dict(max_epochs=350)
auto_scale_lr = dict(base_batch_size=256)
