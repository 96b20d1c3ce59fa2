# grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py with bf16 mixed precision (CUDA, Ampere or newer): mmengine's
# AmpOptimWrapper, no loss scaling (bf16 has fp32's range). The guidance pass runs in fp32 (GraSS
# guide_autocast=False), so the DAR boxes are the fp32 ones (see ./README.md, docs/gpu_and_determinism.md).
_base_ = ['./grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py']
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', loss_scale=1.0)
