"""Cross-rank gathering (gather=True): a 2-process gloo run with per-rank random draws equals one process on the
concatenated batch with the same draws."""

import socket

import pytest
import torch

from grass_mm.seg.gather import global_topk, scale_grad_by_world, sum_over_ranks, take_rows

from _gather_worker import SEED, WORLD, B, make_case, per_rank_draws, rank_main, replaced_draws, run


def test_single_process_is_the_identity():
    x = torch.randn(3, 5, requires_grad=True)
    assert sum_over_ranks(x) is x and scale_grad_by_world(x) is x
    idx, val = global_topk(x, 2, largest=True)
    assert torch.equal(val, x.topk(2, dim=1).values)
    rows = torch.randn(5, 4)  # 5 entries (the columns of x), 4 features
    assert torch.equal(take_rows(rows, idx), rows[idx])


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason='needs torch.distributed with gloo',
)
def test_two_ranks_equal_one_process_on_the_concatenated_batch(tmp_path):
    """Each rank draws its own random numbers (seed + rank, mmengine's diff_rank_seed); one process on the
    concatenated batch with the same per-rank draws gives the same losses and gradients."""
    # forked where possible: the ranks start with grass_mm imported (spawned ones import it again, ~7 s of CPU each)
    method = 'fork' if 'fork' in torch.multiprocessing.get_all_start_methods() else 'spawn'
    torch.multiprocessing.start_processes(
        rank_main, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=True, start_method=method
    )
    outs = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in range(WORLD)]
    case = make_case(gather=True)
    with replaced_draws(per_rank_draws([SEED + r for r in range(WORLD)])) as draws:
        single = run(*case)  # one process: gathering is the identity
    assert single['loss_patch'] > 0 and single['loss_anchor'] > 0
    # the ranks drew different numbers, and the reference drew exactly theirs, side by side
    assert len(draws) == len(outs[0]['draws']) == len(outs[1]['draws']) > 0
    for i, ref in enumerate(draws):
        assert not torch.equal(outs[0]['draws'][i], outs[1]['draws'][i]), i
        assert torch.equal(ref, torch.cat([o['draws'][i] for o in outs], dim=-1)), i
    for r, out in enumerate(outs):
        sl = slice(r * B, (r + 1) * B)
        torch.testing.assert_close(out['loss_patch'], single['loss_patch'], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(out['loss_anchor'], single['loss_anchor'], rtol=1e-5, atol=1e-6)
        # each rank's own images get WORLD x the global gradient (DDP then averages over ranks)
        for g, ref in zip(out['feat_grads'], single['feat_grads'], strict=True):
            torch.testing.assert_close(g, WORLD * ref[sl], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(out['dec_grad'], WORLD * single['dec_grad'][sl], rtol=1e-4, atol=1e-6)
        for k, g in out['param_grads'].items():  # averaged like DDP: the global loss's gradient
            torch.testing.assert_close(g, single['param_grads'][k], rtol=1e-4, atol=1e-6, msg=k)
    # the draws matter: every rank drawing rank 0's numbers (one seed for all ranks) gives other losses
    case = make_case(gather=True)
    with replaced_draws(per_rank_draws([SEED] * WORLD)):
        same_seed = run(*case)
    assert not torch.allclose(same_seed['loss_patch'], single['loss_patch'])
    assert not torch.allclose(same_seed['loss_anchor'], single['loss_anchor'])
    # without gathering each rank sees only its own images: a different loss
    patch, anchor, feats, dec, gt, logits = make_case(gather=False)
    local = run(patch, anchor, [f[:B] for f in feats], dec[:B], gt[:B], logits[:B])
    assert not torch.allclose(local['loss_patch'], single['loss_patch'])
