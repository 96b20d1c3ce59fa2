"""Tensor math of the patch-contrastive head (CT: "A Contrastive Learning Scheme with Transformer Innate Patches").

Pure functions, batched over the patches of all images of the batch at once (fixed-size ``topk`` on masked
scores: no per-sample Python loop, no host-device synchronisation). Shapes: ``B`` images, ``C`` classes,
``H x W`` the label map, ``h x w`` a feature grid (one patch per position), ``N = B*h*w`` flattened
patches, ``D`` projection channels.

* :func:`label_onehot`, :func:`patch_class_fractions` - the ground truth cut into the feature grid: the
  share of every class (and of ``ignore_index``, also inside ``[0, C)``) in each patch.
* :func:`patch_confidence` - mean decode-head softmax of every class over each patch (no gradient).
* :func:`select_patches` - per class, hard (least confident) and easy (most confident) positive patches of
  at least ``purity`` and class-free negative patches (over all ranks with ``gather``).
* :func:`pair_mask` - the (hard anchor, easy positive) pairs: ``'all'`` or one-to-one ``'paired'``.
* :func:`patch_infonce`, :func:`patch_cl_loss` - per-class InfoNCE or the paper's cosine "CL" loss (binary
  cross-entropy on ``s = (cos + 1) / 2``, with the negative term really computed).
"""

from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .fp32 import float32_math
from .gather import global_topk, sum_over_ranks

_NEG_FILL = -1e9  # finite "minus infinity": keeps logsumexp gradients finite when every entry is masked


def patch_class_fractions(
    gt: Tensor, size: Tuple[int, int], num_classes: int, ignore_index: int = 255
) -> Tuple[Tensor, Tensor]:
    """Share of every class (and of ``ignore_index``) inside each patch of a ``size`` grid.

    Args:
        gt (Tensor): (B, H, W) or (B, 1, H, W) integer labels.
        size (tuple): (h, w) of the feature grid; a patch is ``H / h x W / w`` pixels (adaptive
            average pooling, exact when the strides divide the image size).
        num_classes (int): C.
        ignore_index (int): label of unlabelled pixels, also inside ``[0, C)`` (any label outside
            ``[0, C)`` counts as ignore as well).

    Returns:
        tuple: ``frac`` (B, C, h, w) class fractions and ``ignore_frac`` (B, h, w).
    """
    frac = F.adaptive_avg_pool2d(label_onehot(gt, num_classes, ignore_index), size)
    return frac[:, :num_classes], frac[:, num_classes]


def label_onehot(gt: Tensor, num_classes: int, ignore_index: Optional[int] = None) -> Tensor:
    """(B, H, W) or (B, 1, H, W) labels -> (B, C + 1, H, W) float one-hot; channel C = ignore / invalid
    (labels outside ``[0, C)`` and labels equal to ``ignore_index``, also inside ``[0, C)``)."""
    if gt.dim() == 4:
        gt = gt[:, 0]
    gt = gt.long()
    bad = (gt < 0) | (gt >= num_classes)
    if ignore_index is not None:
        bad = bad | (gt == ignore_index)
    gt = torch.where(bad, torch.full_like(gt, num_classes), gt)
    return F.one_hot(gt, num_classes + 1).permute(0, 3, 1, 2).float()


def patch_confidence(seg_logits: Tensor, size: Tuple[int, int]) -> Tensor:
    """Mean softmax probability of every class over each patch (no gradient).

    Args:
        seg_logits (Tensor): (B, C, h', w') decode-head logits.
        size (tuple): (h, w) feature grid.

    Returns:
        Tensor: (B, C, h, w) float32.
    """
    with torch.no_grad():
        prob = seg_logits.detach().float().softmax(dim=1)
        if prob.shape[-2] >= size[0] and prob.shape[-1] >= size[1]:
            return F.adaptive_avg_pool2d(prob, size)
        return F.interpolate(prob, size=size, mode='bilinear', align_corners=False)


def _masked_topk(score: Tensor, mask: Tensor, k: int, largest: bool, gather: bool = False) -> Tuple[Tensor, Tensor]:
    """Indices of the ``k`` best masked entries per row and the validity of each slot.

    Args:
        score (Tensor): (C, N) float scores.
        mask (Tensor): (C, N) bool, entries allowed.
        k (int): slots per row (clipped to N, or to the world's entries with ``gather``).
        largest (bool): rank by descending score.
        gather (bool): rank the entries of all ranks (global indices, see :func:`global_topk`).

    Returns:
        tuple: ``idx`` (C, k) long and ``valid`` (C, k) bool (slot j valid iff j < mask.sum(1)).
    """
    fill = float('-inf') if largest else float('inf')
    idx, _ = global_topk(torch.where(mask, score, torch.full_like(score, fill)), k, largest, enabled=gather)
    count = sum_over_ranks(mask.sum(dim=1, keepdim=True), enabled=gather)
    valid = torch.arange(idx.shape[1], device=score.device)[None] < count
    return idx, valid


def select_patches(
    frac: Tensor,
    ignore_frac: Tensor,
    conf: Optional[Tensor],
    purity: float = 1.0,
    hard_share: float = 0.4,
    max_pos: int = 128,
    max_neg: int = 256,
    hard_negatives: bool = False,
    generator: Optional[torch.Generator] = None,
    gather: bool = False,
) -> Dict[str, Tensor]:
    """Per-class positive / negative patch selection across the whole batch.

    Patches are flattened over (B, h, w) to ``N = B*h*w``. For class ``c``:

    * positives: ``frac[c] >= purity``; among them ``n_sel = min(n_pos, max_pos)`` are used, the
      ``n_hard = max(1, floor(hard_share * n_sel))`` least confident are the *hard* positives (the anchors)
      and the ``n_sel - n_hard`` most confident the *easy* positives (disjoint sets);
    * negatives: ``frac[c] == 0`` and not entirely ignore; up to ``max_neg``, the most confident for ``c``
      when ``hard_negatives`` else random.

    ``conf=None`` is the random-sampling option (random scores replace the confidences).

    Args:
        frac (Tensor): (B, C, h, w) class fractions.
        ignore_frac (Tensor): (B, h, w) ignore fraction.
        conf (Tensor | None): (B, C, h, w) patch confidences.
        gather (bool): select over the patches of all ranks (indices are then global, ``rank * N + n``).

    Returns:
        dict: ``hard_idx``/``hard_valid`` (C, Kh), ``easy_idx``/``easy_valid`` (C, Ke),
        ``neg_idx``/``neg_valid`` (C, Kn) indices into the N flattened patches, ``num_pos``/``num_neg`` (C,).
    """
    b, c, h, w = frac.shape
    frac = frac.permute(1, 0, 2, 3).reshape(c, -1)
    ign = ignore_frac.reshape(1, -1)
    eps = 1e-4
    pos = frac >= (purity - eps)
    neg = (frac <= eps) & (ign < 1 - eps)
    if conf is None:
        score = torch.rand(frac.shape, device=frac.device, generator=generator)
        neg_score = torch.rand(frac.shape, device=frac.device, generator=generator)
    else:
        score = conf.permute(1, 0, 2, 3).reshape(c, -1).float()
        neg_score = score if hard_negatives else torch.rand(frac.shape, device=frac.device, generator=generator)
    num_pos = sum_over_ranks(pos.sum(dim=1), enabled=gather)
    num_neg = sum_over_ranks(neg.sum(dim=1), enabled=gather)
    n_sel = num_pos.clamp(max=max_pos)
    n_hard = (n_sel.float() * hard_share).floor().long().clamp(min=1)
    n_hard = torch.minimum(n_hard, n_sel)
    n_easy = n_sel - n_hard
    k_hard = max(1, int(max_pos * hard_share))
    hard_idx, _ = _masked_topk(score, pos, k_hard, largest=False, gather=gather)
    easy_idx, _ = _masked_topk(score, pos, max_pos, largest=True, gather=gather)
    hard_valid = torch.arange(hard_idx.shape[1], device=frac.device)[None] < n_hard[:, None]
    easy_valid = torch.arange(easy_idx.shape[1], device=frac.device)[None] < n_easy[:, None]
    neg_idx, neg_valid = _masked_topk(neg_score, neg, max_neg, largest=True, gather=gather)
    return dict(
        hard_idx=hard_idx,
        hard_valid=hard_valid,
        easy_idx=easy_idx,
        easy_valid=easy_valid,
        neg_idx=neg_idx,
        neg_valid=neg_valid,
        num_pos=num_pos,
        num_neg=num_neg,
    )


def pair_mask(anchor_valid: Tensor, pos_valid: Tensor, paired: bool = False) -> Tensor:
    """(C, Ka, Kp) bool: the (anchor, positive) pairs that enter the loss.

    ``paired=False``: every valid anchor with every valid positive; ``paired=True``: anchor ``i`` with
    positive ``i`` only (the official CT code's one-to-one pairing).

    Args:
        anchor_valid (Tensor): (C, Ka) bool.
        pos_valid (Tensor): (C, Kp) bool.
    """
    pair = anchor_valid[:, :, None] & pos_valid[:, None, :]
    if paired:
        ka, kp = pair.shape[1:]
        pair = pair & torch.eye(ka, kp, dtype=torch.bool, device=pair.device)[None]
    return pair


@float32_math
def patch_infonce(
    anchor: Tensor,
    pos: Tensor,
    neg: Tensor,
    anchor_valid: Tensor,
    pos_valid: Tensor,
    neg_valid: Tensor,
    temperature: float = 0.1,
    paired: bool = False,
) -> Tensor:
    """Per-class InfoNCE between hard anchors, easy positives and negatives.

    For anchor ``i`` and positive ``j`` of class ``c``:
    ``-log exp(a_i.p_j / t) / (exp(a_i.p_j / t) + sum_k exp(a_i.n_k / t))``, averaged over valid (i, j)
    (only ``j = i`` with ``paired``, see :func:`pair_mask`).

    Args:
        anchor (Tensor): (C, Ka, D) L2-normalised.  pos: (C, Kp, D).  neg: (C, Kn, D).
        anchor_valid, pos_valid, neg_valid (Tensor): bool masks (C, Ka), (C, Kp), (C, Kn).
        paired (bool): one-to-one pairs.

    Returns:
        Tensor: (C,) float32 loss per class (0 where no valid pair).
    """
    anchor, pos, neg = anchor.float(), pos.float(), neg.float()
    l_pos = torch.einsum('cad,cpd->cap', anchor, pos) / temperature
    l_neg = torch.einsum('cad,cnd->can', anchor, neg) / temperature
    l_neg = l_neg.masked_fill(~neg_valid[:, None, :], _NEG_FILL)
    lse_neg = l_neg.logsumexp(dim=2, keepdim=True)  # (C, Ka, 1)
    loss = F.softplus(lse_neg - l_pos)  # = -log(e^p / (e^p + sum e^n))
    pair = pair_mask(anchor_valid, pos_valid, paired)
    return (loss * pair).sum(dim=(1, 2)) / pair.sum(dim=(1, 2)).clamp(min=1)


@float32_math
def patch_cl_loss(
    anchor: Tensor,
    pos: Tensor,
    neg: Tensor,
    anchor_valid: Tensor,
    pos_valid: Tensor,
    neg_valid: Tensor,
    eps: float = 1e-6,
    paired: bool = False,
) -> Tensor:
    """The CT paper's cosine "CL" loss: binary cross-entropy on ``s = (cos + 1) / 2``.

    Positive pairs (anchor, easy positive) have label 1, negative pairs (anchor, negative) label 0; the
    class loss is ``mean_pos(-log s) + mean_neg(-log(1 - s))`` (both terms present; computed in float32,
    autocast-safe).

    Args: as :func:`patch_infonce`.

    Returns:
        Tensor: (C,) float32.
    """
    anchor, pos, neg = anchor.float(), pos.float(), neg.float()
    s_pos = ((torch.einsum('cad,cpd->cap', anchor, pos) + 1) / 2).clamp(eps, 1 - eps)
    s_neg = ((torch.einsum('cad,cnd->can', anchor, neg) + 1) / 2).clamp(eps, 1 - eps)
    pp = pair_mask(anchor_valid, pos_valid, paired)
    pn = anchor_valid[:, :, None] & neg_valid[:, None, :]
    l_pos = (-s_pos.log() * pp).sum(dim=(1, 2)) / pp.sum(dim=(1, 2)).clamp(min=1)
    l_neg = (-(1 - s_neg).log() * pn).sum(dim=(1, 2)) / pn.sum(dim=(1, 2)).clamp(min=1)
    return l_pos + l_neg
