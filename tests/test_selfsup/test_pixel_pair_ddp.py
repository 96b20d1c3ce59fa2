"""PixelPairContrast under DistributedDataParallel (find_unused_parameters=False), 2 CPU processes on gloo.

With ``global_weight=0`` (the default) the DenseCL neck's global MLP had no gradient, and DDP raised at the second
iteration ("Expected to have finished reduction in the prior iteration"). It is not built now.
"""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import grass_mm  # noqa: F401


def pixel_pair(global_weight):
    cfg = dict(
        type='PixelPairContrast',
        global_weight=global_weight,
        num_samples=4,
        backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8, out_indices=(3,)),
        neck=dict(type='DenseCLNeck', in_channels=64, hid_channels=32, out_channels=16, num_grid=None),
        data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[0.0] * 3, std=[1.0] * 3),
    )
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank, port, out_dir, global_weight):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE='2')
    dist.init_process_group('gloo', rank=rank, world_size=2)
    torch.set_num_threads(1)
    from mmengine.model import MMDistributedDataParallel
    from mmengine.optim import OptimWrapper

    torch.manual_seed(0)  # same initial weights on both ranks
    model = pixel_pair(global_weight)
    ddp = MMDistributedDataParallel(module=model, broadcast_buffers=False, find_unused_parameters=False)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    g = torch.Generator().manual_seed(rank)  # different data per rank
    losses = []
    for _ in range(3):  # DDP raises at the 2nd iteration when a parameter got no gradient in the 1st
        views = [torch.rand(2, 3, 64, 64, generator=g) * 255 for _ in range(2)]
        log = ddp.train_step(dict(inputs=views, data_samples=None), optim)
        losses.append(float(log['loss_dense'].detach()))
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    torch.save(dict(losses=losses, params=flat), os.path.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_global_weight_zero_builds_no_global_mlp():
    assert isinstance(pixel_pair(0.0).neck.mlp, torch.nn.Identity)
    assert not isinstance(pixel_pair(0.5).neck.mlp, torch.nn.Identity)
    model = pixel_pair(0.0)
    losses = model.loss([torch.rand(2, 3, 64, 64) for _ in range(2)], None)
    sum(losses.values()).backward()
    assert set(losses) == {'loss_dense'}
    assert all(p.grad is not None for p in model.parameters())  # every parameter is used


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason='needs torch.distributed gloo')
def test_pixel_pair_default_global_weight_under_ddp_two_cpu_processes(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path), 0.0), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in range(2))
    assert all(torch.isfinite(torch.tensor(r['losses'])).all() for r in (r0, r1))
    torch.testing.assert_close(r0['params'], r1['params'])  # gradients were all-reduced
