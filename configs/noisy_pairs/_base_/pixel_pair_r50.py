# PixelPairContrast ResNet-50: dense InfoNCE with the identity correspondence of co-registered
# pairs (needs shared_geometry=True views), DenseCL-style neck, in-batch negatives.
# SyncBN backbone (like SimCLR's in mmpretrain): on 8 GPUs BN statistics span the whole batch, so no
# per-GPU statistics leak which views belong together; one process / CPU DDP turn it into BN.
model = dict(
    type='PixelPairContrast',
    temperature=0.2,
    global_weight=0.5,  # 0.5 dense + 0.5 global, as DenseCL's loss_lambda
    num_samples=16,  # grid positions per image in the dense term (7x7 grid at 224 input)
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='SyncBN'), zero_init_residual=False),
    neck=dict(type='DenseCLNeck', in_channels=2048, hid_channels=2048, out_channels=128, num_grid=None),
)
