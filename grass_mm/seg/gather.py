"""Cross-rank sampling for the contrastive components (``gather=True``), as pure functions.

With data parallelism every rank holds ``B`` images; without gathering, anchors and patches are drawn from
those ``B`` images only. With ``gather=True`` a component draws them from the ``W * B`` images of all ranks,
exactly as one process would on the concatenated batch, while moving only small tensors:

* counts and class sums are summed over ranks (:func:`sum_over_ranks`);
* a fixed-size top-k over all ranks' pixels/patches is the top-k of the ranks' local top-k candidates
  (:func:`global_topk`): each rank ranks its own entries, the ``(C, k)`` candidate scores and indices are
  gathered (mmengine's ``all_gather``), and the global top-k is taken among the ``W * k`` candidates;
  indices are global (``rank * N_local + local index``);
* embeddings of the selected entries are filled in by their owning rank and summed over ranks
  (:func:`take_rows`), so only ``(C, K, D)`` embeddings travel.

Gradient: each rank backpropagates the same global loss through its own entries only; DDP then averages
the ranks' gradients, i.e. divides by ``W``. :func:`scale_grad_by_world` multiplies the gradient (not the
value) by ``W`` so that the sum equals the gradient of the global loss.

Every function is the identity (no communication) when torch.distributed is not initialised, has a
single rank, or ``enabled=False`` (the components' ``gather=False``). All ranks must call them in the same
order with the same shapes (equal local batch sizes and image sizes, as mmseg's fixed-size crops give).
"""

from typing import Tuple

import torch
from mmengine.dist import all_gather, all_reduce, get_dist_info
from torch import Tensor


def world(enabled: bool = True) -> Tuple[int, int]:
    """``(rank, world_size)`` of the default process group (``(0, 1)`` when not distributed or not
    ``enabled``)."""
    return get_dist_info() if enabled else (0, 1)


def sum_over_ranks(x: Tensor, enabled: bool = True) -> Tensor:
    """Sum of ``x`` over ranks; the gradient flows into the local ``x`` only.

    Args:
        x (Tensor): any shape, same on every rank.

    Returns:
        Tensor: same shape.
    """
    _, ws = world(enabled)
    if ws == 1:
        return x
    total = x.detach().clone()
    all_reduce(total, op='sum')
    return x + (total - x.detach())


def global_topk(score: Tensor, k: int, largest: bool, enabled: bool = True) -> Tuple[Tensor, Tensor]:
    """Row-wise top-k over the entries of all ranks.

    Args:
        score (Tensor): (C, N) local scores (N entries per rank, same N on every rank); masked entries
            carry a fill value that ranks last.
        k (int): slots per row (clipped to ``W * N``).
        largest (bool): rank by descending score.

    Returns:
        tuple: ``idx`` (C, k) global indices (``rank * N + local``) and ``value`` (C, k) their scores.
    """
    rank, ws = world(enabled)
    n = score.shape[1]
    k_local = min(k, n)
    value, idx = score.topk(k_local, dim=1, largest=largest)
    if ws == 1:
        return idx, value
    values = torch.cat(all_gather(value.contiguous()), dim=1)  # (C, W * k_local)
    idxs = torch.cat([part + r * n for r, part in enumerate(all_gather(idx.contiguous()))], dim=1)
    k = min(k, values.shape[1])
    value, pos = values.topk(k, dim=1, largest=largest)
    return idxs.gather(1, pos), value


def take_rows(flat: Tensor, idx: Tensor, fn=None, enabled: bool = True) -> Tensor:
    """Rows of the global (all ranks') ``flat`` at global indices, filled in by their owning rank.

    Args:
        flat (Tensor): (N, D_in) local rows.
        idx (Tensor): (...,) global indices from :func:`global_topk` (local indices when not distributed).
        fn (callable | None): applied to the selected local rows before the exchange (e.g. a projection
            ``(..., D_in) -> (..., D)``), so only its output travels.

    Returns:
        Tensor: (..., D); gradient flows into the local rows only.
    """
    rank, ws = world(enabled)
    if ws == 1:
        rows = flat[idx]
        return fn(rows) if fn is not None else rows
    n = flat.shape[0]
    own = (idx // n) == rank
    rows = flat[idx % n]
    if fn is not None:
        rows = fn(rows)
    rows = rows * own[..., None].to(rows.dtype)
    return sum_over_ranks(rows, enabled)


def gather_cat(x: Tensor, enabled: bool = True) -> Tensor:
    """Concatenation of ``x`` (B, ...) of all ranks along dim 0 in rank order (no gradient)."""
    _, ws = world(enabled)
    if ws == 1:
        return x
    return torch.cat(all_gather(x.detach().contiguous()), dim=0)


def scale_grad_by_world(loss: Tensor, enabled: bool = True) -> Tensor:
    """Same value, gradient multiplied by the world size (undoes DDP's averaging of a global loss)."""
    _, ws = world(enabled)
    if ws == 1:
        return loss
    return loss * ws - loss.detach() * (ws - 1)
