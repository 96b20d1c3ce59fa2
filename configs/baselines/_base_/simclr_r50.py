# SimCLR ResNet-50 as in the GraSS paper: projection 2048 -> 2048 -> 128, NT-Xent, temperature 0.5.
_base_ = ['./paper_views.py']
model = dict(
    type='SimCLR',
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=2048, out_channels=128,
              num_layers=2, with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.5))
