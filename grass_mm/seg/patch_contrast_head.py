"""Patch-contrastive auxiliary head (CT: "A Contrastive Learning Scheme with Transformer Innate Patches").

Every position of an encoder feature map is a patch of ``stride x stride`` input pixels. The ground truth is
cut into the same grid; for each class ``c`` present in the batch, *positive* patches are those whose ground
truth is (at least ``purity``) ``c``, *negative* patches contain no ``c`` at all. Sampling runs over the
patches of all images of the batch at once (fixed-size ``topk`` on masked scores: no per-sample loop, no
host sync). Hard positives (the least confident for ``c`` according to the decode head) are contrasted with
the most confident positives and with the negatives, with InfoNCE or the paper's cosine "CL" loss (binary
cross-entropy on ``s = (cos + 1) / 2`` with label 1 for positive and 0 for negative pairs; the negative term
is really computed, unlike the original code whose cross-entropy ignore index zeroed it).

Labels equal to ``ignore_index`` (also when it lies inside ``[0, C)``, e.g. a decode head that ignores an
"unlabeled" class) count as unlabelled: never part of a positive patch, and a patch made only of them is no
negative. ``pairing='paired'`` contrasts hard anchor ``i`` with easy positive ``i`` only (the official CT
code); ``'all'`` uses every (hard, easy) pair. With ``gather=True`` the patches of all ranks are sampled as
one batch (:mod:`grass_mm.seg.gather`).

The head needs the decode head's logits, so it is driven by
:class:`~grass_mm.seg.contrast_encoder_decoder.ContrastEncoderDecoder` (``patch_contrast_head=`` key),
during training only.
"""

from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from .fp32 import float32_math
from .gather import global_topk, scale_grad_by_world, sum_over_ranks, take_rows

_NEG_FILL = -1e9  # finite "minus infinity": keeps logsumexp gradients finite when every entry is masked


# ----------------------------------------------------------------------------------------------------------
# pure functions
# ----------------------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------------------
# module
# ----------------------------------------------------------------------------------------------------------
@MODELS.register_module()
class PatchContrastHead(BaseModule):
    """Patch-contrastive auxiliary head (training only).

    Args:
        in_channels (list[int]): channels of the selected encoder stages.
        in_index (list[int]): indices into the backbone (or neck) outputs; checked against the backbone
            by :class:`ContrastEncoderDecoder` at build time.
        num_classes (int): number of classes C (set by the segmentor from its decode head when None).
        channels (int): projection dimension (default 128).
        hidden_channels (int | None): hidden width of the Linear-GELU-Linear projection (default:
            ``min(stage input width, 512)``, which keeps the head's weights, gradients and momentum of a
            2048-wide ResNet-50 stage at 1/4 of a square layer's).
        purity (float): positive-patch purity threshold in (0, 1] (default 1.0 = entirely class c).
        hard_share (float): share of the selected positives used as hard anchors (default 0.4).
        sampler (str): ``'hard'`` (rank by the decode head's confidence) or ``'random'``.
        hard_negatives (bool): rank negatives by confidence for c (most confident first).
        max_pos, max_neg (int): caps on positive / negative patches per class and stage.
        min_pos, min_neg (int): a class with fewer positives / negatives is skipped (min_pos >= 2).
        loss_type (str): ``'infonce'`` or ``'cl'``.
        pairing (str): ``'all'`` (every hard anchor with every easy positive, default) or ``'paired'``
            (hard anchor i with easy positive i, as the official CT code).
        temperature (float): InfoNCE temperature (0.1).
        loss_weight (float): weight of the total (0.1).
        clip (float | None): clamp the (unweighted) total loss from above (the CT code: 1.5).
        ignore_index (int | None): ignored label, also inside ``[0, C)``; None = the decode head's
            ``ignore_index`` when built by :class:`ContrastEncoderDecoder`, else 255.
        gather (bool): sample the patches of all ranks as one batch (:mod:`grass_mm.seg.gather`).
        loss_name (str): key in the loss dict (must start with ``loss_``).
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        in_index: Sequence[int],
        num_classes: Optional[int] = None,
        channels: int = 128,
        hidden_channels: Optional[int] = None,
        purity: float = 1.0,
        hard_share: float = 0.4,
        sampler: str = 'hard',
        hard_negatives: bool = False,
        max_pos: int = 128,
        max_neg: int = 256,
        min_pos: int = 2,
        min_neg: int = 1,
        loss_type: str = 'infonce',
        pairing: str = 'all',
        temperature: float = 0.1,
        loss_weight: float = 0.1,
        clip: Optional[float] = None,
        ignore_index: Optional[int] = None,
        gather: bool = False,
        loss_name: str = 'loss_patch_contrast',
        init_cfg=None,
    ):
        super().__init__(init_cfg=init_cfg)
        key = 'patch_contrast_head'
        if isinstance(in_index, int):
            in_index = [in_index]
        if isinstance(in_channels, int):
            in_channels = [in_channels]
        in_index, in_channels = list(in_index), list(in_channels)
        if len(in_index) == 0 or len(in_index) != len(in_channels):
            raise ValueError(
                f'{key}.in_index={in_index} and {key}.in_channels={in_channels} must be '
                'non-empty lists of the same length'
            )
        if not isinstance(channels, int) or channels <= 0:
            raise ValueError(f'{key}.channels (projection dim) must be a positive int, got {channels!r}')
        if not 0 < purity <= 1:
            raise ValueError(f'{key}.purity must lie in (0, 1], got {purity!r}')
        if not 0 < hard_share < 1:
            raise ValueError(f'{key}.hard_share must lie in (0, 1), got {hard_share!r}')
        if sampler not in ('hard', 'random'):
            raise ValueError(f"{key}.sampler must be 'hard' or 'random', got {sampler!r}")
        if loss_type not in ('infonce', 'cl'):
            raise ValueError(f"{key}.loss_type must be 'infonce' or 'cl', got {loss_type!r}")
        if pairing not in ('all', 'paired'):
            raise ValueError(f"{key}.pairing must be 'all' or 'paired', got {pairing!r}")
        if temperature <= 0:
            raise ValueError(f'{key}.temperature must be > 0, got {temperature!r}')
        if ignore_index is not None and not isinstance(ignore_index, int):
            raise ValueError(f'{key}.ignore_index must be an int or None, got {ignore_index!r}')
        if max_pos < 2 or max_neg < 1 or min_pos < 2 or min_neg < 0:
            raise ValueError(
                f'{key}: need max_pos >= 2, max_neg >= 1, min_pos >= 2, min_neg >= 0; got '
                f'max_pos={max_pos}, max_neg={max_neg}, min_pos={min_pos}, min_neg={min_neg}'
            )
        if not loss_name.startswith('loss_'):
            raise ValueError(f"{key}.loss_name must start with 'loss_', got {loss_name!r}")
        self.in_index = in_index
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.channels = channels
        self.purity = purity
        self.hard_share = hard_share
        self.sampler = sampler
        self.hard_negatives = hard_negatives
        self.max_pos, self.max_neg = max_pos, max_neg
        self.min_pos, self.min_neg = min_pos, min_neg
        self.loss_type = loss_type
        self.pairing = pairing
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.clip = clip
        self.ignore_index = 255 if ignore_index is None else ignore_index
        self.gather = bool(gather)
        self.loss_name = loss_name
        if hidden_channels is not None and (not isinstance(hidden_channels, int) or hidden_channels <= 0):
            raise ValueError(f'{key}.hidden_channels must be a positive int, got {hidden_channels!r}')
        hidden = [hidden_channels or min(c, 512) for c in in_channels]
        self.projections = nn.ModuleList(
            [
                nn.Sequential(nn.Linear(c, h), nn.GELU(), nn.Linear(h, channels))
                for c, h in zip(in_channels, hidden, strict=True)
            ]
        )

    def forward(self, feat: Tensor, stage: int) -> Tensor:
        """Project features of one stage: (..., C_in) -> (..., channels), L2-normalised."""
        return F.normalize(self.projections[stage](feat), dim=-1)

    def stage_loss(self, feat: Tensor, stage: int, seg_logits: Tensor, onehot: Tensor) -> Tensor:
        """Loss of one stage.

        Args:
            feat (Tensor): (B, C_in, h, w) encoder features.
            stage (int): position in ``in_index``.
            seg_logits (Tensor): (B, C, h', w') decode-head logits (used without gradient).
            onehot (Tensor): (B, C + 1, H, W) label one-hot (:func:`label_onehot`, shared by the stages).

        Returns:
            Tensor: scalar, mean over classes with enough samples (0 with the graph intact if none).
        """
        b, cin, h, w = feat.shape
        pooled = F.adaptive_avg_pool2d(onehot, (h, w))
        frac, ign = pooled[:, : self.num_classes], pooled[:, self.num_classes]
        conf = patch_confidence(seg_logits, (h, w)) if self.sampler == 'hard' else None
        sel = select_patches(
            frac,
            ign,
            conf,
            self.purity,
            self.hard_share,
            self.max_pos,
            self.max_neg,
            self.hard_negatives,
            gather=self.gather,
        )
        flat = feat.permute(0, 2, 3, 1).reshape(-1, cin)  # (N, C_in)
        kh, ke = sel['hard_idx'].shape[1], sel['easy_idx'].shape[1]
        idx = torch.cat([sel['hard_idx'], sel['easy_idx'], sel['neg_idx']], dim=1)  # (C, K)
        # (C, K, D): only sampled patches are projected (with gather, by the rank that holds them)
        emb = take_rows(flat, idx, fn=lambda x: self.forward(x, stage), enabled=self.gather)
        anchor, pos, neg = emb[:, :kh], emb[:, kh : kh + ke], emb[:, kh + ke :]
        args = (anchor, pos, neg, sel['hard_valid'], sel['easy_valid'], sel['neg_valid'])
        paired = self.pairing == 'paired'
        if self.loss_type == 'infonce':
            per_class = patch_infonce(*args, temperature=self.temperature, paired=paired)
        else:
            per_class = patch_cl_loss(*args, paired=paired)
        ok = (sel['num_pos'] >= self.min_pos) & (sel['num_neg'] >= max(self.min_neg, 1))
        ok = ok & sel['easy_valid'].any(dim=1)
        return (per_class * ok).sum() / ok.sum().clamp(min=1)

    def loss(self, inputs: Sequence[Tensor], seg_logits: Tensor, gt: Tensor) -> Dict[str, Tensor]:
        """Loss over the selected stages.

        Args:
            inputs (list[Tensor]): backbone/neck outputs, each (B, C_i, h_i, w_i).
            seg_logits (Tensor): (B, C, h', w') decode-head logits.
            gt (Tensor): (B, 1, H, W) or (B, H, W) labels at input resolution.

        Returns:
            dict: ``{loss_name: weighted loss}``.
        """
        if self.num_classes is None:
            raise ValueError('patch_contrast_head.num_classes is not set')
        if gt.dim() == 3:
            gt = gt[:, None]
        with torch.no_grad():
            onehot = label_onehot(gt, self.num_classes, self.ignore_index)
        losses = [self.stage_loss(inputs[i], s, seg_logits, onehot) for s, i in enumerate(self.in_index)]
        total = torch.stack(losses).mean()
        if self.clip is not None:
            total = total.clamp(max=self.clip)
        return {self.loss_name: scale_grad_by_world(total, enabled=self.gather) * self.loss_weight}
