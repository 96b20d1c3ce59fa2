# Runtime for segmentation (mmseg scope). Inherits mmseg's own default runtime through the
# ``mmseg::`` prefix and adds what every grass_mm run needs.
_base_ = ['mmseg::_base_/default_runtime.py']

custom_imports = dict(imports=['grass_mm'], allow_failed_imports=False)
default_scope = 'mmseg'
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='nccl'))  # tools/train.py switches to gloo on CPU
randomness = dict(seed=0)
# Checkpoints hold plain data only, so they load with torch.load(weights_only=True).
# (default_hooks come from the schedule, as in mmseg; tools/train.py re-adds this hook if a
# child config replaces custom_hooks.)
custom_hooks = [dict(type='PlainCheckpointHook')]
