# grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py with fp16 mixed precision (CUDA): mmengine's AmpOptimWrapper,
# dynamic loss scaling. The guidance pass runs in fp32 (GraSS guide_autocast=False), so the DAR boxes are the
# fp32 ones; the training passes run in fp16 (see ./README.md, docs/gpu_and_determinism.md).
_base_ = ['./grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py']
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
