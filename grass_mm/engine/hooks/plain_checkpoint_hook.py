"""Checkpoints that hold plain data only, so they load with bare ``torch.load(weights_only=True)``."""

import numpy as np
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...runtime.checkpoint import history_buffers_to_plain


@HOOKS.register_module()
class PlainCheckpointHook(Hook):
    """Write checkpoints that load with bare ``torch.load(weights_only=True)``, without grass_mm.

    Before a checkpoint is saved, the message hub's ``HistoryBuffer`` objects are replaced by
    plain lists and numpy scalars by Python ones. grass_mm's loader
    (:func:`~grass_mm.runtime.checkpoint.safe_torch_load`) rebuilds the buffers, so ``--resume``
    restores the smoothed log values exactly as mmengine would. Not needed for grass_mm to load
    checkpoints (it loads stock ones too); it keeps grass_mm's checkpoints usable in environments
    without grass_mm.
    """

    priority = 'LOWEST'  # runs after every other hook has added to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        hub = checkpoint.get('message_hub')
        if isinstance(hub, dict) and 'log_scalars' in hub:
            hub['log_scalars'] = history_buffers_to_plain(hub['log_scalars'])
        if isinstance(hub, dict) and isinstance(hub.get('runtime_info'), dict):
            # e.g. the ETA is a numpy float: store Python scalars
            hub['runtime_info'] = {
                k: v.item() if isinstance(v, np.generic) else v for k, v in hub['runtime_info'].items()
            }
