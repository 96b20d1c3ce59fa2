# GraSS ResNet-18 with the colour augmentation of simclr_resnet18_1xb16-weak-colour-coslr-200it_tiles-vts-64px.py
# (brightness/contrast jitter only, no grayscale), so that GraSS and its SimCLR baseline differ only in the
# gradient-guided phase: SimCLR warm-up for the first half of the iterations, then GS with TA = 0.5 and the LAM from
# stage 3.
_base_ = ['./simclr_resnet18_1xb16-weak-colour-coslr-200it_tiles-vts-64px.py']
model = dict(type='GraSS', gs_stage=-2, threshold=0.5, lam_norm='original', crop_mode='nearest')
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='DeterministicWarnOnlyHook'),
    dict(type='GraSSWarmupHook', warmup_iters=100),
]
