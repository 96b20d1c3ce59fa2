# pixel-pair_resnet50_8xb32-coslr-350e_vts-pairs.py with fp16 mixed precision (CUDA): mmengine's AmpOptimWrapper,
# dynamic loss scaling (the dense InfoNCE's cross-entropy runs in fp32 under autocast).
_base_ = ['./pixel-pair_resnet50_8xb32-coslr-350e_vts-pairs.py']
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
