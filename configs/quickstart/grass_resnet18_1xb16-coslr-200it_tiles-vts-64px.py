# GraSS ResNet-18 on the unlabeled VTS training images, same data, budget and seed as
# simclr_resnet18_1xb16-coslr-200it_tiles-vts-64px.py: SimCLR warm-up for the first half of the iterations, then
# gradient-guided sampling with DAR threshold TA = 0.5. The LAM comes from stage 3 (stride 16:
# a 4x4 map for the 64 px views) rather than the paper's stage 4 (stride 32, 7x7 for 224 px views),
# whose 2x2 map at this view size would make nearly every DAR the whole view.
_base_ = ['./simclr_resnet18_1xb16-coslr-200it_tiles-vts-64px.py']
model = dict(type='GraSS', gs_stage=-2, threshold=0.5, lam_norm='original', crop_mode='nearest')
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='DeterministicWarnOnlyHook'),
    dict(type='GraSSWarmupHook', warmup_iters=100),
]
