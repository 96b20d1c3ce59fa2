"""Self-supervised pretraining (mmpretrain scope): GraSS and paired-view pretraining (GraSS's warm-up hook is in
:mod:`grass_mm.engine.hooks`)."""

from . import dense_pair_contrast, grass_functional, transforms  # noqa: F401  (registration; noisy-pairs issue 6)
from .grass import GraSS  # noqa: F401
