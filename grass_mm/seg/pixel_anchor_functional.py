"""Tensor math of the boundary-aware pixel-anchor loss (Contextrast, CVPR 2024).

Pure functions, batched over the whole batch on the tensors' device (one-hot matmuls and fixed-size
``topk``: no per-sample Python loop, no host-device synchronisation). Shapes: ``B`` images, ``C`` classes,
``D`` embedding channels, ``h x w`` an embedding grid and ``N = B*h*w`` its flattened pixels.

* :func:`resize_labels`, :func:`mask_ignored`, :func:`valid_onehot` - labels at an embedding's grid;
  ``ignore_index`` (also inside ``[0, C)``) and labels outside ``[0, C)`` become -1 / all-zero one-hot rows.
* :func:`class_sums`, :func:`class_anchors` - per-class embedding sums and mean anchors (C, D).
* :func:`contextual_anchors` - ``A^_i = w_low * A_i + w_high * A_I`` (A_I = last level), L2-normalised.
* :func:`sample_class_pixels`, :func:`gathered_class_samples` - a fixed-size random sample of each class's
  pixels (the latter over the images of all ranks with ``gather``).
* :func:`bane_rank_keys`, :func:`bane_select`, :func:`bane_hard_negatives`, :func:`gathered_bane_negatives`
  - BANE hard negatives (below).
* :func:`pixel_anchor_infonce` - per-class InfoNCE of sampled pixels against the anchors and hard negatives.

BANE: from the current prediction, the error region of class ``n`` is ``(pred == n) xor (gt == n)`` on
labelled pixels; a batched on-device Euclidean distance transform (:func:`batched_edt`) gives every error
pixel its distance to the region's boundary; the ``k_percent`` % false positives of ``n`` (``pred == n``,
``gt != n``) closest to the boundary are the hard negatives of class ``n`` (capped at ``max_hard``). Only
false positives are ever selected (an image whose error region fills it ranks its false positives after
every finite distance, never ties them with non-candidates), and equal distances are ordered at random, so
ties favour neither the first image nor the top rows.
"""

from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .distance_transform import batched_edt
from .fp32 import float32_math
from .gather import global_topk, sum_over_ranks

_NEG_FILL = -1e9  # finite "minus infinity": keeps logsumexp gradients finite when every entry is masked


def resize_labels(gt: Tensor, size: Tuple[int, int]) -> Tensor:
    """Nearest resize of labels (B, 1, H, W) or (B, H, W) to (B, h, w) long."""
    if gt.dim() == 3:
        gt = gt[:, None]
    if tuple(gt.shape[-2:]) == tuple(size):
        return gt[:, 0].long()
    return F.interpolate(gt.float(), size=size, mode='nearest')[:, 0].long()


def mask_ignored(labels: Tensor, num_classes: int, ignore_index: Optional[int] = None) -> Tensor:
    """Labels with ``ignore_index`` (in range or not) and every label outside ``[0, C)`` set to -1.

    Args:
        labels (Tensor): integer labels of any shape.

    Returns:
        Tensor: long, same shape; values in ``[0, C)`` or -1.
    """
    labels = labels.long()
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        bad = bad | (labels == ignore_index)
    return labels.masked_fill(bad, -1)


def valid_onehot(labels: Tensor, num_classes: int, ignore_index: Optional[int] = None) -> Tensor:
    """(B, h, w) labels -> (B*h*w, C) float one-hot; ignored / out-of-range labels give all-zero rows."""
    flat = mask_ignored(labels.reshape(-1), num_classes, ignore_index)
    valid = flat >= 0
    return F.one_hot(torch.where(valid, flat, torch.zeros_like(flat)), num_classes).float() * valid[:, None]


@float32_math
def class_sums(
    emb: Tensor, labels: Tensor, num_classes: int, ignore_index: Optional[int] = None
) -> Tuple[Tensor, Tensor]:
    """Per-class sum of embeddings and pixel counts (one-hot matmul).

    Args:
        emb (Tensor): (B, D, h, w) embeddings.
        labels (Tensor): (B, h, w) labels at the embedding resolution.

    Returns:
        tuple: ``sums`` (C, D) float32 and ``counts`` (C,) float32.
    """
    d = emb.shape[1]
    flat = emb.permute(0, 2, 3, 1).reshape(-1, d).float()
    onehot = valid_onehot(labels, num_classes, ignore_index)  # (N, C)
    return onehot.t() @ flat, onehot.sum(dim=0)


def class_anchors(
    emb: Tensor, labels: Tensor, num_classes: int, ignore_index: Optional[int] = None
) -> Tuple[Tensor, Tensor]:
    """Per-class mean embedding (one-hot matmul).

    Args:
        emb (Tensor): (B, D, h, w) embeddings.
        labels (Tensor): (B, h, w) labels at the embedding resolution.
        num_classes (int): C.
        ignore_index (int | None): label ignored even inside ``[0, C)``.

    Returns:
        tuple: ``anchors`` (C, D) float32 (zeros for absent classes) and ``counts`` (C,) float32.
    """
    sums, counts = class_sums(emb, labels, num_classes, ignore_index)
    return sums / counts.clamp(min=1)[:, None], counts


def contextual_anchors(anchors: Sequence[Tensor], w_low: float, w_high: float) -> List[Tensor]:
    """Contextual update ``A^_i = w_low * A_i + w_high * A_I`` (A_I = last level), L2-normalised.

    Args:
        anchors (list[Tensor]): per level (C, D).

    Returns:
        list[Tensor]: per level (C, D).
    """
    top = anchors[-1]
    return [F.normalize(w_low * a + w_high * top, dim=-1) for a in anchors]


def sample_class_pixels(
    labels: Tensor,
    num_classes: int,
    max_samples: int,
    generator: Optional[torch.Generator] = None,
    ignore_index: Optional[int] = None,
    score: Optional[Tensor] = None,
) -> Tuple[Tensor, Tensor]:
    """Random fixed-size sample of pixels of each class across the batch.

    Args:
        labels (Tensor): (B, h, w).
        score (Tensor | None): (B*h*w,) random scores in [0, 1) (drawn here when None).

    Returns:
        tuple: ``idx`` (C, S) into the B*h*w flattened pixels, ``valid`` (C, S) bool.
    """
    member = valid_onehot(labels, num_classes, ignore_index).t().bool()  # (C, N)
    k = min(max_samples, member.shape[1])
    if score is None:
        score = torch.rand(member.shape, device=labels.device, generator=generator)
    else:
        score = score.reshape(1, -1).expand(member.shape)
    idx = torch.where(member, score, torch.full_like(score, -1.0)).topk(k, dim=1).indices
    valid = torch.arange(k, device=labels.device)[None] < member.sum(dim=1, keepdim=True)
    return idx, valid


def bane_rank_keys(
    pred: Tensor,
    labels: Tensor,
    num_classes: int,
    ignore_index: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> Tuple[Tensor, Tensor, Tensor]:
    """BANE ranking keys: per class, false positives ordered by distance to the error-region boundary.

    The key of a false positive of class ``n`` is ``d^2 * 2^31 + u`` (int64) with ``d^2`` its exact squared
    distance to the nearest non-error pixel of its image and ``u`` a uniform random int in ``[0, 2^31)``:
    smaller distance first, equal distances in random order (no bias towards the first image or the top
    rows). An image whose error region covers every labelled pixel has no boundary (EDT ``inf``): its false
    positives get ``d^2 = h^2 + w^2`` (after every finite distance). Every other pixel (not a false positive
    of ``n``, ignored, or ground truth ``n``) gets the int64 maximum, so it ranks after all false positives.

    Args:
        pred (Tensor): (B, h, w) predicted labels.
        labels (Tensor): (B, h, w) ground truth.
        num_classes (int): C.
        ignore_index (int | None): label ignored even inside ``[0, C)``.
        generator (torch.Generator | None): for the random tie-break (on the labels' device).

    Returns:
        tuple: ``key`` (C, B*h*w) int64, ``fp`` (C, B*h*w) bool false positives, ``dist`` (C, B*h*w)
        float32 distance of every false positive to its error-region boundary (``inf`` elsewhere and in
        images without a boundary).
    """
    b, h, w = labels.shape
    labels = mask_ignored(labels, num_classes, ignore_index)
    cls = torch.arange(num_classes, device=labels.device)[:, None, None, None]  # (C, 1, 1, 1)
    labelled = (labels >= 0)[None]
    is_pred = pred[None] == cls  # (C, B, h, w)
    is_gt = labels[None] == cls
    error = (is_pred ^ is_gt) & labelled
    fp = (is_pred & ~is_gt & labelled).reshape(num_classes, -1)
    dist = batched_edt(error.reshape(-1, h, w)).reshape(num_classes, -1)  # (C, N), inf: no boundary
    d2 = torch.where(torch.isfinite(dist), dist.square().round(), torch.full_like(dist, float(h * h + w * w)))
    tie = torch.randint(0, 2**31, fp.shape, device=labels.device, generator=generator)
    key = (d2.long() << 31) | tie
    key = key.masked_fill(~fp, torch.iinfo(torch.int64).max)
    dist = dist.masked_fill(~fp, float('inf'))
    return key, fp, dist


def bane_select(key: Tensor, fp: Tensor, k_percent: float, max_hard: int) -> Tuple[Tensor, Tensor]:
    """The ``k_percent`` % smallest keys of each class's false positives (at most ``max_hard``).

    Args:
        key (Tensor): (C, N) int64 keys from :func:`bane_rank_keys`.
        fp (Tensor): (C, N) bool false positives.

    Returns:
        tuple: ``idx`` (C, K) long and ``valid`` (C, K) bool; valid slots are false positives only.
    """
    k = min(max_hard, key.shape[1])
    idx = key.topk(k, dim=1, largest=False).indices
    n_fp = fp.sum(dim=1)
    n_take = torch.minimum((n_fp.float() * (k_percent / 100.0)).ceil().long(), torch.full_like(n_fp, k))
    valid = torch.arange(k, device=key.device)[None] < n_take[:, None]
    return idx, valid


def bane_hard_negatives(
    pred: Tensor,
    labels: Tensor,
    num_classes: int,
    k_percent: float,
    max_hard: int,
    ignore_index: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> Tuple[Tensor, Tensor, Tensor]:
    """Boundary-aware negatives: per class, the false positives closest to the error-region boundary.

    Args:
        pred (Tensor): (B, h, w) predicted labels.
        labels (Tensor): (B, h, w) ground truth (ignored pixels are neither error nor candidates).
        num_classes (int): C.
        k_percent (float): share in (0, 100] of each class's false positives kept (closest first).
        max_hard (int): cap per class.
        ignore_index (int | None): label ignored even inside ``[0, C)``.
        generator (torch.Generator | None): random tie-break between equal distances.

    Returns:
        tuple: ``idx`` (C, K) into the flattened B*h*w pixels, ``valid`` (C, K) bool (valid slots are
        always false positives of the class, never pixels of it), ``dist`` (C, B*h*w) distance of every
        false positive to its error-region boundary (``inf`` elsewhere).
    """
    key, fp, dist = bane_rank_keys(pred, labels, num_classes, ignore_index, generator)
    idx, valid = bane_select(key, fp, k_percent, max_hard)
    return idx, valid, dist


@float32_math
def pixel_anchor_infonce(
    samples: Tensor,
    sample_valid: Tensor,
    anchors: Tensor,
    present: Tensor,
    hard: Optional[Tensor] = None,
    hard_valid: Optional[Tensor] = None,
    temperature: float = 0.1,
) -> Tuple[Tensor, Tensor]:
    """Per-class InfoNCE of pixel embeddings against class anchors (+ hard negative pixels).

    For a sampled pixel ``p`` of class ``n``: positive ``A[n]``, negatives ``A[m]`` (m != n, present) and
    the hard negatives of ``n``; ``L = -log e^{p.A_n/t} / (e^{p.A_n/t} + sum_neg e^{p.x/t})``.

    Args:
        samples (Tensor): (C, S, D) L2-normalised pixel embeddings of each class.
        sample_valid (Tensor): (C, S) bool.
        anchors (Tensor): (C, D) L2-normalised anchors.
        present (Tensor): (C,) bool, classes with an anchor.
        hard (Tensor | None): (C, K, D) hard-negative embeddings per class.
        hard_valid (Tensor | None): (C, K) bool.

    Returns:
        tuple: ``loss`` (C,) float32 mean over valid samples, ``ok`` (C,) bool classes with samples.
    """
    samples, anchors = samples.float(), anchors.float()
    c = anchors.shape[0]
    logits = torch.einsum('csd,md->csm', samples, anchors) / temperature  # (C, S, C)
    own = torch.eye(c, dtype=torch.bool, device=anchors.device)
    l_pos = logits.diagonal(dim1=0, dim2=2).t()  # (C, S): logits[n, s, n]
    neg_mask = ~own[:, None, :] & present[None, None, :]
    neg = logits.masked_fill(~neg_mask, _NEG_FILL)
    if hard is not None:
        l_hard = torch.einsum('csd,ckd->csk', samples, hard.float()) / temperature
        l_hard = l_hard.masked_fill(~hard_valid[:, None, :], _NEG_FILL)
        neg = torch.cat([neg, l_hard], dim=2)
    loss = F.softplus(neg.logsumexp(dim=2) - l_pos)  # (C, S)
    ok = present & sample_valid.any(dim=1)
    per_class = (loss * sample_valid).sum(dim=1) / sample_valid.sum(dim=1).clamp(min=1)
    return per_class, ok


def gathered_class_samples(
    labels: Tensor, num_classes: int, max_samples: int, gather: bool = False
) -> Tuple[Tensor, Tensor]:
    """Random ``max_samples`` pixels of each class, over the images of all ranks with ``gather``.

    Args:
        labels (Tensor): (B, h, w) labels, ignored = -1 (:func:`mask_ignored`).
        num_classes (int): C.
        max_samples (int): S, slots per class (clipped to N, or to all ranks' pixels with ``gather``).
        gather (bool): rank the pixels of all ranks (:func:`~grass_mm.seg.gather.global_topk`).

    Returns:
        tuple: ``idx`` (C, S) into the N flattened pixels (global indices ``rank * N + n`` with ``gather``)
        and ``valid`` (C, S) bool.
    """
    member = valid_onehot(labels, num_classes).t().bool()  # (C, N)
    score = torch.rand(member.shape, device=labels.device).masked_fill(~member, -1.0)
    idx, value = global_topk(score, max_samples, largest=True, enabled=gather)
    return idx, value >= 0


def gathered_bane_negatives(
    seg_logits: Tensor, labels: Tensor, num_classes: int, k_percent: float, max_hard: int, gather: bool = False
) -> Tuple[Tensor, Tensor]:
    """BANE hard negatives of each class (no gradient), over the images of all ranks with ``gather``.

    The prediction is the arg-max of ``seg_logits`` bilinearly resized to the labels' grid; keys as
    :func:`bane_rank_keys`, the ``k_percent`` % share of the false positives counted over all ranks.

    Args:
        seg_logits (Tensor): (B, C, h', w') decode-head logits.
        labels (Tensor): (B, h, w) labels, ignored = -1 (:func:`mask_ignored`).
        num_classes (int): C.
        k_percent (float): share in (0, 100] of each class's false positives kept (closest first).
        max_hard (int): K, cap per class (clipped to N, or to all ranks' pixels with ``gather``).
        gather (bool): rank the pixels of all ranks (:func:`~grass_mm.seg.gather.global_topk`).

    Returns:
        tuple: ``idx`` (C, K) into the N flattened pixels (global with ``gather``) and ``valid`` (C, K) bool.
    """
    with torch.no_grad():
        pred = F.interpolate(seg_logits.float(), size=labels.shape[-2:], mode='bilinear', align_corners=False).argmax(
            dim=1
        )
        key, fp, _ = bane_rank_keys(pred, labels, num_classes)
        idx, _ = global_topk(key, max_hard, largest=False, enabled=gather)
        n_fp = sum_over_ranks(fp.sum(dim=1), enabled=gather)
        n_take = torch.minimum((n_fp.float() * (k_percent / 100.0)).ceil().long(), torch.full_like(n_fp, idx.shape[1]))
        valid = torch.arange(idx.shape[1], device=labels.device)[None] < n_take[:, None]
    return idx, valid
