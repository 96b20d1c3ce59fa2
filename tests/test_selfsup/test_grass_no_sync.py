"""GraSS's contrastive step without host-device syncs: static shapes, cached index buffers, SimCLR's loss value."""

import contextlib

import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.models.selfsup.simclr import SimCLR
from mmpretrain.registry import MODELS

import grass_mm.selfsup.grass as grass_module
from grass_mm.selfsup.grass_functional import nt_xent_index

from _grass_helpers import random_views, small_grass, small_grass_cfg


def reference_logits(s):
    """mmpretrain SimCLR's (2N, 2N-1) logits from the similarity ``s`` (masked_select on its buffers)."""
    n = s.size(0) // 2
    mask, pos_idx, neg_mask = SimCLR._create_buffer(n, s.device)
    s = torch.masked_select(s, mask == 1).reshape(s.size(0), -1)
    negative = torch.masked_select(s, neg_mask == 1).reshape(s.size(0), -1)
    return torch.cat([s[pos_idx].unsqueeze(1), negative], dim=1)


@pytest.mark.parametrize('n', [2, 3, 8, 33])
def test_gather_index_gives_simclr_logits_exactly(n):
    s = torch.randn(2 * n, 2 * n)
    index = nt_xent_index(n)
    assert index.shape == (2 * n, 2 * n - 1) and index.dtype == torch.long
    assert torch.equal(s.gather(1, index), reference_logits(s))


def test_loss_and_gradients_equal_mmpretrain_simclr():
    torch.manual_seed(0)
    grass = small_grass().train()
    cfg = small_grass_cfg()
    cfg['type'] = 'SimCLR'
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        simclr = MODELS.build(cfg).train()
    simclr.load_state_dict(grass.state_dict())
    views = random_views(n=5, size=32)
    losses = []
    for model in (grass, simclr):
        loss = model.loss(views, None)['loss']
        loss.backward()
        losses.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
    (lg, gg), (ls, gs) = losses
    torch.testing.assert_close(lg, ls, rtol=1e-6, atol=1e-7)
    for a, b in zip(gg, gs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_index_buffers_are_built_once_per_batch_size_and_device(monkeypatch):
    calls = []
    monkeypatch.setattr(grass_module, 'nt_xent_index', lambda n, d: calls.append(n) or nt_xent_index(n, d))
    model = small_grass().train()
    for n in (3, 3, 4, 3):
        model.loss(random_views(n=n, size=32), None)
    assert calls == [3, 4]


@contextlib.contextmanager
def no_host_sync_ops(monkeypatch):
    """Make the ops that sync or have data-dependent shapes raise (a CPU-side proxy of CUDA's sync check)."""

    def forbid(owner, name):
        def raiser(*args, **kwargs):
            raise AssertionError(f'{name} called in the step')

        monkeypatch.setattr(owner, name, raiser)

    for name in ('masked_select', 'nonzero', 'unique', 'masked_select'):
        forbid(torch, name)
    for name in ('masked_select', 'nonzero', 'item', 'tolist', 'cpu', 'numpy', '__bool__'):
        forbid(torch.Tensor, name)
    forbid(SimCLR, '_create_buffer')
    to = torch.Tensor.to

    def checked_to(self, *args, **kwargs):  # a host -> device copy blocks the host (pageable memory)
        out = to(self, *args, **kwargs)
        if out.device != self.device:
            raise AssertionError(f'copy {self.device} -> {out.device} in the step')
        return out

    monkeypatch.setattr(torch.Tensor, 'to', checked_to)
    tensor = torch.tensor

    def checked_tensor(data, *args, device=None, **kwargs):
        if device is not None and torch.device(device).type != 'cpu':
            raise AssertionError(f'torch.tensor(..., device={device}) copies host data in the step')
        return tensor(data, *args, device=device, **kwargs)

    monkeypatch.setattr(torch, 'tensor', checked_tensor)
    yield
    monkeypatch.undo()


@pytest.mark.parametrize('box_mode,crop_mode', [('dar', 'nearest'), ('random', 'bilinear')])
def test_step_has_static_shapes_on_the_meta_device(monkeypatch, box_mode, crop_mode):
    """The warm-up and GS steps (forward and backward) run on the meta device, where every data-dependent shape
    (masked_select, nonzero, .item()) raises; the sync ops and host copies are made to raise too."""
    model = small_grass(cc_backend='device', box_mode=box_mode, crop_mode=crop_mode).to('meta').train()
    views = [v.to('meta') for v in random_views(n=4, size=64)]
    with no_host_sync_ops(monkeypatch):
        for gs in (False, True, True):
            model.set_gs(gs)
            loss = model.loss(views, None)['loss']
            loss.backward()
            assert loss.device.type == 'meta' and loss.shape == ()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA (torch.cuda.set_sync_debug_mode); no GPU here')
def test_gs_step_makes_no_cuda_sync():
    model = small_grass(gs_enabled=True).cuda().train()
    views = [v.cuda() for v in random_views(n=8, size=64)]
    model.loss(views, None)['loss'].backward()  # warm-up: cuDNN autotuning, allocator
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        for gs in (False, True):
            model.set_gs(gs)
            model.loss(views, None)['loss'].backward()
    finally:
        torch.cuda.set_sync_debug_mode('default')
