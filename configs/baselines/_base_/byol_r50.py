# BYOL ResNet-50 (mmpretrain's model settings), with the paper's views.
# SyncBN backbone (as mmpretrain's own config): on 8 GPUs BN statistics span the whole batch, so no
# per-GPU statistics leak which views belong together; one process / CPU DDP turn it into BN.
_base_ = ['./paper_views.py']
model = dict(
    type='BYOL',
    base_momentum=0.01,
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='SyncBN'), zero_init_residual=False),
    neck=dict(
        type='NonLinearNeck',
        in_channels=2048,
        hid_channels=4096,
        out_channels=256,
        num_layers=2,
        with_bias=True,
        with_last_bn=False,
        with_avg_pool=True,
    ),
    head=dict(
        type='LatentPredictHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=4096,
            out_channels=256,
            num_layers=2,
            with_bias=True,
            with_last_bn=False,
            with_avg_pool=False,
        ),
        loss=dict(type='CosineSimilarityLoss'),
    ),
)
