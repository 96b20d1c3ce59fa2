# SimCLR ResNet-18 (the R50 baseline at R18 width): projection 512 -> 512 -> 128, NT-Xent,
# temperature 0.5. Leaf configs add ``data_preprocessor={{_base_.data_preprocessor}}`` from their
# dataset config.
model = dict(
    type='SimCLR',
    backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN'), zero_init_residual=True),
    neck=dict(
        type='NonLinearNeck', in_channels=512, hid_channels=512, out_channels=128, num_layers=2, with_avg_pool=True
    ),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.5),
)
