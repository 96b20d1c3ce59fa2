"""Self-supervised pretraining (mmpretrain scope): GraSS and paired-view pretraining."""

from . import dense_pair_contrast, grass_functional, transforms  # noqa: F401  (registration; noisy-pairs issue 6)
from .grass import GraSS  # noqa: F401
from .grass_warmup_hook import GraSSWarmupHook  # noqa: F401
