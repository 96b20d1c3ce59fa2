"""grass_mm: contrastive learning for remote-sensing semantic segmentation.

``import grass_mm`` (or ``custom_imports = dict(imports=['grass_mm'])`` in a config)
registers every module of the package:

* :mod:`grass_mm.runtime`  - safe checkpoint loading on torch >= 2.6, CPU distributed
  launch, config checks (mmengine scope, visible from mmseg and mmpretrain).
* :mod:`grass_mm.engine`   - every hook (mmengine, mmpretrain and mmseg scopes).
* :mod:`grass_mm.datasets` - remote-sensing datasets, transforms (mmseg and mmpretrain scopes).
* :mod:`grass_mm.selfsup`  - GraSS and paired-view pretraining (mmpretrain scope).
* :mod:`grass_mm.seg`      - patch-contrast head, pixel-anchor loss (mmseg scope).
"""

from .version import __version__  # noqa: F401

# the order matters: runtime first, it installs the checkpoint loader
# isort: off
from . import runtime  # noqa: F401
from . import engine  # noqa: F401
from . import datasets  # noqa: F401
from . import selfsup  # noqa: F401
from . import seg  # noqa: F401
# isort: on
