# Runtime for self-supervised pretraining (mmpretrain scope). Inherits mmpretrain's default
# runtime through the ``mmpretrain::`` prefix and adds what every grass_mm run needs.
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['grass_mm'], allow_failed_imports=False)
default_scope = 'mmpretrain'
# env_cfg: mmpretrain's (cudnn_benchmark=False, NCCL, which tools/train.py switches to gloo on CPU).
# Per-rank seeds (seed + rank): the augmentations and random crops differ across GPUs; DDP still starts every rank
# from rank 0's weights, the samplers still shard one shuffled order. CPU runs are bit-identical on one machine,
# GPU runs are not by default: docs/gpu_and_determinism.md.
randomness = dict(seed=0, diff_rank_seed=True)
log_processor = dict(window_size=10)
# AtomicCheckpointHook (grass_mm): mmengine's CheckpointHook, but a run killed while it writes a checkpoint
# leaves the previous ones complete (atomic write, old files removed afterwards); --resume continues.
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3),
)
# PlainCheckpointHook: checkpoints hold plain data only, so they load with torch.load(weights_only=True).
# (tools/train.py re-adds this hook if a child config replaces custom_hooks.)
# DeterministicWarnOnlyHook: with randomness.deterministic=True, kernels without a deterministic CUDA version warn
# instead of raising (nothing changes otherwise). A child config that replaces custom_hooks keeps both.
custom_hooks = [dict(type='PlainCheckpointHook'), dict(type='DeterministicWarnOnlyHook')]
