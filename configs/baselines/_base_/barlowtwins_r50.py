# Barlow Twins ResNet-50 (mmpretrain's model settings), with the paper's views.
# SyncBN backbone (as mmpretrain's own config): on 8 GPUs BN statistics span the whole batch, so no
# per-GPU statistics leak which views belong together; one process / CPU DDP turn it into BN.
_base_ = ['./paper_views.py']
model = dict(
    type='BarlowTwins',
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='SyncBN'), zero_init_residual=True),
    neck=dict(
        type='NonLinearNeck',
        in_channels=2048,
        hid_channels=8192,
        out_channels=8192,
        num_layers=3,
        with_last_bn=False,
        with_last_bn_affine=False,
        with_avg_pool=True,
        init_cfg=dict(type='Kaiming', distribution='uniform', layer=['Linear']),
    ),
    head=dict(type='LatentCrossCorrelationHead', in_channels=8192, loss=dict(type='CrossCorrelationLoss')),
)
