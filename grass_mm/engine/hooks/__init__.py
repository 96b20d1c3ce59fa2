"""grass_mm's hooks, one registered hook per module (as ``mmpretrain.engine.hooks`` / ``mmseg.engine.hooks``).

Registered where configs look them up: mmengine's ``HOOKS`` (visible from every scope) for the runtime hooks,
mmpretrain's for GraSS's warm-up, mmseg's for the fine-tuning hooks.
"""

from .atomic_checkpoint_hook import AtomicCheckpointHook  # mmengine HOOKS
from .deterministic_warn_only_hook import DeterministicWarnOnlyHook  # mmengine HOOKS
from .grass_warmup_hook import GraSSWarmupHook  # mmpretrain HOOKS
from .plain_checkpoint_hook import PlainCheckpointHook  # mmengine HOOKS
from .probe_then_finetune_hook import ProbeThenFinetuneHook  # mmseg HOOKS
from .reestimate_bn_hook import ReestimateBNHook  # mmseg HOOKS

__all__ = [
    'AtomicCheckpointHook',
    'DeterministicWarnOnlyHook',
    'GraSSWarmupHook',
    'PlainCheckpointHook',
    'ProbeThenFinetuneHook',
    'ReestimateBNHook',
]
