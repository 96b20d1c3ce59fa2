# The official GraSS code's schedule shape, for comparison with selfsup_lars_coslr_350e.py (this package's default,
# mmpretrain's SimCLR schedule). Differences from the default, as the issue on evidence lists them:
#   * learning rate: a linear ramp from 0.6 to 4.8 (start_factor 0.6 / 4.8 = 0.125) over the first 10 epochs, then
#     cosine annealing restarted every third of the remaining 340 epochs (periods 113, 113, 114 epochs);
#     the default ramps 3e-5 -> 0.3 and decays once.
#   * optimizer: the official code wraps SGD in apex's LARC (trust coefficient 0.001); mmpretrain's LARS applies the
#     same layer-wise trust ratio (eta 0.001) but never clips it at the base learning rate as LARC's clip mode can.
#   * the ramp length (10 epochs) and whether 0.6 -> 4.8 was meant for the official total batch are assumptions,
#     not read from a released config: auto_scale_lr is left off here, so the values are used as written.
_base_ = ['./selfsup_lars_coslr_350e.py']
optim_wrapper = dict(optimizer=dict(lr=4.8))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.125, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(
        type='CosineRestartLR',
        periods=[113, 113, 114],
        restart_weights=[1.0, 1.0, 1.0],
        eta_min=0.0,
        by_epoch=True,
        begin=10,
        end=350,
        convert_to_iter_based=True,
    ),
]
auto_scale_lr = dict(enable=False, base_batch_size=256)
