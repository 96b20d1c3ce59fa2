# SimCLR ResNet-50 as in the GraSS paper: projection 2048 -> 2048 -> 128, NT-Xent, temperature 0.5.
# SyncBN backbone (as mmpretrain's own config): on 8 GPUs BN statistics span the whole batch, so no
# per-GPU statistics leak which views belong together; one process / CPU DDP turn it into BN.
_base_ = ['./paper_views.py']
model = dict(
    type='SimCLR',
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='SyncBN'), zero_init_residual=True),
    neck=dict(
        type='NonLinearNeck', in_channels=2048, hid_channels=2048, out_channels=128, num_layers=2, with_avg_pool=True
    ),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.5),
)
