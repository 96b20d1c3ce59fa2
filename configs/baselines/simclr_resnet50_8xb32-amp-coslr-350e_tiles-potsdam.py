# simclr_resnet50_8xb32-coslr-350e_tiles-potsdam.py with fp16 mixed precision (CUDA): mmengine's AmpOptimWrapper,
# dynamic loss scaling; the AMP baseline of ../grass/grass_resnet50_8xb32-amp-coslr-350e_tiles-potsdam.py.
_base_ = ['./simclr_resnet50_8xb32-coslr-350e_tiles-potsdam.py']
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
