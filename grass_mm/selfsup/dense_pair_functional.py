"""Tensor math of the dense pixel-pair loss for co-registered positive pairs.

Two co-registered images of one place (two dates, pre/post disaster, VTS clean/noisy), cut
with the SAME crop / flip (:class:`~grass_mm.selfsup.transforms.PairedViews` with
``shared_geometry=True``), give feature maps whose position ``l`` shows the same ground
point in both views: the correspondence is the identity, no feature matching is needed
(unlike DenseCL's arg-max matching).
"""

from typing import Optional

import torch
import torch.nn.functional as F


def sample_positions(length: int, num_samples: Optional[int], device) -> Optional[torch.Tensor]:
    """Random subset of ``num_samples`` of ``length`` positions (None: keep all).

    Returns:
        torch.Tensor | None: (num_samples,) long indices on ``device``.
    """
    if num_samples is None or num_samples >= length:
        return None
    return torch.randperm(length, device=device)[:num_samples]


def dense_pair_info_nce(
    z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.2, index: Optional[torch.Tensor] = None
) -> torch.Tensor:
    """Symmetric pixel-level InfoNCE with identity correspondence.

    Each (image n, position l) of view 1 is a query whose positive is (n, l) of view 2; the
    negatives are all other (image, position) pairs of view 2 in the batch (and the reverse
    for view 2 queries). With ``L == 1`` this is the usual global InfoNCE / NT-Xent between
    two views (cross-view negatives only).

    Args:
        z1 (torch.Tensor): (N, C, L) or (N, C, H, W) embeddings of view 1 (not necessarily
            normalised; they are L2-normalised over C here).
        z2 (torch.Tensor): embeddings of view 2, same shape as ``z1``.
        temperature (float): softmax temperature. Default 0.2.
        index (torch.Tensor, optional): (S,) positions to keep (see
            :func:`sample_positions`) to bound the (N*S)x(N*S) logit matrix.

    Returns:
        torch.Tensor: scalar loss.
    """
    if z1.shape != z2.shape:
        raise ValueError(
            f'dense_pair_info_nce: views differ in shape {tuple(z1.shape)} vs '
            f'{tuple(z2.shape)}; identity correspondence needs shared geometry'
        )
    n, c = z1.shape[:2]
    z1 = z1.reshape(n, c, -1)
    z2 = z2.reshape(n, c, -1)
    if index is not None:
        z1 = z1.index_select(2, index)
        z2 = z2.index_select(2, index)
    a = F.normalize(z1, dim=1).permute(0, 2, 1).reshape(-1, c)  # (N*L, C)
    b = F.normalize(z2, dim=1).permute(0, 2, 1).reshape(-1, c)  # (N*L, C)
    logits = a @ b.t() / temperature  # (N*L, N*L), positives on the diagonal
    target = torch.arange(logits.shape[0], device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
