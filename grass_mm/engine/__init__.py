"""Training-loop extensions (as ``mmpretrain.engine`` / ``mmseg.engine``): the hooks."""

from .hooks import *  # noqa: F401,F403
