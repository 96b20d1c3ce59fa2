"""Self-supervised pretraining (mmpretrain scope): GraSS and paired-view pretraining."""
from .grass import GraSS  # noqa: F401
from .grass_warmup_hook import GraSSWarmupHook  # noqa: F401
from . import grass_functional  # noqa: F401
from . import dense_pair_contrast, transforms  # noqa: F401,E402  (noisy-pairs issue 6)
