# DenseCL ResNet-50 (mmpretrain's model settings), with the paper's views.
# Backbone BN as in mmpretrain's own config for this method (the negatives come from a queue).
_base_ = ['./paper_views.py']
model = dict(
    type='DenseCL',
    queue_len=65536,
    feat_dim=128,
    momentum=0.001,
    loss_lambda=0.5,
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='DenseCLNeck', in_channels=2048, hid_channels=2048, out_channels=128, num_grid=None),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
)
