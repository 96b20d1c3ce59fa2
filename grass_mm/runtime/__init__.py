"""Runtime fixes in one place: safe checkpoint loading, CPU distributed launch, config checks, safe outputs.

The hooks that use them are in :mod:`grass_mm.engine.hooks`."""

from .atomic_checkpoint import AtomicLocalBackend, atomic_write  # noqa: F401
from .checkpoint import (  # noqa: F401
    CHECKPOINT_SAFE_GLOBALS,
    NUMPY_SAFE_GLOBALS,
    CheckpointError,
    CorruptCheckpointError,
    UntrustedCheckpointError,
    ensure_plain_checkpoint_hook,
    history_buffer_getattr,
    install_safe_loader,
    is_trusted,
    safe_torch_load,
    trust_checkpoint,
)
from .compat import adjust_hue, install_numpy2_fixes  # noqa: F401
from .config_check import (  # noqa: F401
    ConfigCheckError,
    check_cfg_options,
    check_config,
    check_pretrain_config,
    read_config,
)
from .dist import CPUDistributedDataParallel, setup_cpu_distributed, use_cpu_distributed  # noqa: F401
from .external_configs import drop_package_scope, install_external_config_support  # noqa: F401

install_safe_loader()
install_numpy2_fixes()
install_external_config_support()  # grass_mm:: configs (mmengine's MODULE2PACKAGE, editable installs)

__all__ = [
    'CheckpointError',
    'UntrustedCheckpointError',
    'CorruptCheckpointError',
    'install_safe_loader',
    'safe_torch_load',
    'trust_checkpoint',
    'is_trusted',
    'ensure_plain_checkpoint_hook',
    'history_buffer_getattr',
    'CHECKPOINT_SAFE_GLOBALS',
    'NUMPY_SAFE_GLOBALS',
    'CPUDistributedDataParallel',
    'setup_cpu_distributed',
    'use_cpu_distributed',
    'ConfigCheckError',
    'check_config',
    'check_cfg_options',
    'check_pretrain_config',
    'read_config',
    'adjust_hue',
    'install_numpy2_fixes',
    'drop_package_scope',
    'install_external_config_support',
]
