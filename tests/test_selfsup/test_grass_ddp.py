"""GraSS GS steps under DistributedDataParallel, 2 CPU processes on gloo."""

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from _grass_helpers import random_views, small_grass


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank, port, out_dir):
    os.environ.update(
        MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE='2', LOCAL_RANK=str(rank)
    )
    dist.init_process_group('gloo', rank=rank, world_size=2)
    torch.set_num_threads(1)
    from mmengine.model import MMDistributedDataParallel
    from mmengine.optim import OptimWrapper

    torch.manual_seed(0)  # same initial weights on both ranks
    model = small_grass()
    init = torch.cat([p.detach().flatten() for p in model.parameters()])
    ddp = MMDistributedDataParallel(module=model, broadcast_buffers=False)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    losses = []
    for step in range(3):
        model.set_gs(step >= 1)  # warm-up step, then two GS steps
        views = random_views(n=2, size=32, seed=10 * rank + step)  # different data per rank
        log = ddp.train_step(dict(inputs=[v * 255 for v in views], data_samples=None), optim)
        losses.append(float(log['loss'].detach()))
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    torch.save(dict(losses=losses, params=flat, init=init), os.path.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_gs_steps_under_ddp_two_cpu_processes(tmp_path):
    # forked where possible: the ranks start with grass_mm imported (spawned ones import it again)
    method = 'fork' if 'fork' in mp.get_all_start_methods() else 'spawn'
    mp.start_processes(_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True, start_method=method)
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in range(2))
    assert all(torch.isfinite(torch.tensor(r['losses'])).all() for r in (r0, r1))
    # gradients were all-reduced: parameters stay identical across ranks after GS steps
    torch.testing.assert_close(r0['params'], r1['params'])
    # the steps moved the weights (NT-Xent over the gathered 2N views: same loss on both ranks)
    assert not torch.equal(r0['params'], r0['init'])
    assert r0['losses'] == r1['losses']
