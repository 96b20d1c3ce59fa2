"""Distributed training on machines without a GPU (torch.distributed with gloo).

mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and its default DDP wrapper passes
``device_ids=[LOCAL_RANK]``, which DDP rejects for a CPU module. :func:`setup_cpu_distributed`
initialises the gloo process group itself (mmengine then skips its own initialisation) and
switches the model wrapper to :class:`CPUDistributedDataParallel`, which passes no
``device_ids``. On a GPU machine nothing changes (NCCL, mmengine's launcher).
"""

import os

import torch
import torch.distributed as torch_dist
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """:class:`MMDistributedDataParallel` for modules that live on the CPU.

    The signature has no ``device_ids`` on purpose: mmengine's runner only fills it in for
    wrappers that declare it, and DDP requires it to be ``None`` for CPU modules.
    ``SyncBatchNorm`` only works on GPU modules, so its layers (e.g. the ``SyncBN`` default of
    mmpretrain's ``NonLinearNeck``) become ordinary BN: each process normalises with its own
    batch statistics, as mmengine already does for a single-process run.
    """

    def __init__(self, module, **kwargs):
        kwargs.pop('device_ids', None)
        if any(isinstance(m, torch.nn.SyncBatchNorm) for m in module.modules()):
            print_log(
                'CPUDistributedDataParallel: SyncBN needs a GPU; using per-process BN on CPU',
                logger='current',
                level=30,
            )
            module = revert_sync_batchnorm(module)
        super().__init__(module=module, device_ids=None, **kwargs)


def use_cpu_distributed(launcher: str) -> bool:
    """True when a distributed launch runs on a machine where torch sees no GPU."""
    return launcher != 'none' and not torch.cuda.is_available()


def setup_cpu_distributed(cfg, launcher: str) -> None:
    """Prepare ``cfg`` and the process group for a gloo run (no-op unless CPU + launcher).

    Args:
        cfg (Config): The runner config; ``env_cfg.dist_cfg.backend`` becomes ``'gloo'`` and
            ``model_wrapper_cfg.type`` becomes ``'CPUDistributedDataParallel'``.
        launcher (str): ``'pytorch'`` (torchrun), ``'slurm'`` or ``'mpi'``.
    """
    if not use_cpu_distributed(launcher):
        return
    cfg.setdefault('env_cfg', {})
    cfg.env_cfg.setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or {}
    if wrapper.get('type', 'MMDistributedDataParallel') in ('MMDistributedDataParallel', MMDistributedDataParallel):
        wrapper = dict(wrapper)
        wrapper['type'] = 'CPUDistributedDataParallel'
        wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
        cfg.model_wrapper_cfg = wrapper
    if launcher == 'pytorch' and not torch_dist.is_initialized():
        missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
        if missing:
            raise RuntimeError(
                f'--launcher pytorch needs the torchrun environment; missing: {", ".join(missing)} '
                '(start it with tools/dist_train.sh CONFIG NPROC)'
            )
        torch_dist.init_process_group(backend='gloo', init_method='env://')
