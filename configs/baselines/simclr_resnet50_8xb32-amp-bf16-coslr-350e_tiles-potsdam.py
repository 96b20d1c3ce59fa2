# simclr_resnet50_8xb32-coslr-350e_tiles-potsdam.py with bf16 mixed precision (CUDA, Ampere or newer): mmengine's
# AmpOptimWrapper, no loss scaling; the AMP baseline of
# ../grass/grass_resnet50_8xb32-amp-bf16-coslr-350e_tiles-potsdam.py.
_base_ = ['./simclr_resnet50_8xb32-coslr-350e_tiles-potsdam.py']
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', loss_scale=1.0)
