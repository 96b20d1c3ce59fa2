# Runtime for segmentation (mmseg scope). Inherits mmseg's own default runtime through the
# ``mmseg::`` prefix and adds what every grass_mm run needs.
_base_ = ['mmseg::_base_/default_runtime.py']

custom_imports = dict(imports=['grass_mm'], allow_failed_imports=False)
default_scope = 'mmseg'
# env_cfg: mmseg's (cudnn_benchmark=True: fixed-shape crops; NCCL, which tools/train.py switches to gloo on CPU).
# Per-rank seeds (seed + rank): the random draws of the contrast heads differ across GPUs; DDP still starts every
# rank from rank 0's weights, the samplers still shard one shuffled order. CPU runs are bit-identical on one machine,
# GPU runs are not by default: docs/gpu_and_determinism.md.
randomness = dict(seed=0, diff_rank_seed=True)
# PlainCheckpointHook: checkpoints hold plain data only, so they load with torch.load(weights_only=True).
# (default_hooks come from the schedule, as in mmseg; tools/train.py re-adds this hook if a
# child config replaces custom_hooks.)
# DeterministicWarnOnlyHook: with randomness.deterministic=True, kernels without a deterministic CUDA version warn
# instead of raising (nothing changes otherwise). A child config that replaces custom_hooks keeps both.
custom_hooks = [dict(type='PlainCheckpointHook'), dict(type='DeterministicWarnOnlyHook')]
