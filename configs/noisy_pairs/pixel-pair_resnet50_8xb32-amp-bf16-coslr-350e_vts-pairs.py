# pixel-pair_resnet50_8xb32-coslr-350e_vts-pairs.py with bf16 mixed precision (CUDA, Ampere or newer): mmengine's
# AmpOptimWrapper, no loss scaling (bf16 has fp32's range).
_base_ = ['./pixel-pair_resnet50_8xb32-coslr-350e_vts-pairs.py']
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', loss_scale=1.0)
