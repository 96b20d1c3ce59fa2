"""Runtime fixes in one place: safe checkpoint loading, CPU distributed launch, config checks."""
from .checkpoint import (NUMPY_SAFE_GLOBALS, PlainCheckpointHook, UntrustedCheckpointError,  # noqa: F401
                         ensure_plain_checkpoint_hook, install_safe_loader, is_trusted, safe_torch_load,
                         trust_checkpoint)
from .compat import adjust_hue, install_numpy2_fixes  # noqa: F401
from .config_check import ConfigCheckError, check_config  # noqa: F401
from .dist import CPUDistributedDataParallel, setup_cpu_distributed, use_cpu_distributed  # noqa: F401

install_safe_loader()
install_numpy2_fixes()

__all__ = [
    'PlainCheckpointHook', 'UntrustedCheckpointError', 'install_safe_loader', 'safe_torch_load', 'trust_checkpoint',
    'is_trusted', 'ensure_plain_checkpoint_hook', 'NUMPY_SAFE_GLOBALS', 'CPUDistributedDataParallel',
    'setup_cpu_distributed', 'use_cpu_distributed', 'ConfigCheckError', 'check_config', 'adjust_hue', 'install_numpy2_fixes'
]
