"""Boundary-aware pixel-anchor loss (Contextrast, CVPR 2024) with its embedding heads.

For every level ``i`` (selected encoder stages, then optionally the decode head's fused feature as the last
level ``I``) an embedding head (1x1 conv -> ReLU -> BN -> 1x1 conv, L2-normalised) maps the features to
``channels``-d embeddings. The representative anchor of class ``n`` is the mean embedding of the pixels whose
(nearest-resized) ground truth is ``n`` (one-hot matmul, no loop). Anchors get the contextual update
``A^_i = w_l * A_i + w_h * A_I`` (then L2-normalised). Sampled pixels of class ``n`` are contrasted (InfoNCE)
with ``A^_i[n]`` as the positive, the other present classes' anchors and BANE hard negatives as negatives:

BANE: from the current prediction, the error region of class ``n`` is ``(pred == n) xor (gt == n)`` on
labelled pixels; a batched on-device Euclidean distance transform (:func:`batched_edt`) gives every error
pixel its distance to the region's boundary; the ``k_percent`` % false positives of ``n`` (``pred == n``,
``gt != n``) closest to the boundary are the hard negatives of class ``n`` (capped at ``max_hard``). Only
false positives are ever selected (an image whose error region fills it ranks its false positives after
every finite distance, never ties them with non-candidates), and equal distances are ordered at random, so
ties favour neither the first image nor the top rows.

Labels equal to ``ignore_index`` (also when it lies inside ``[0, C)``, e.g. a decode head that ignores an
"unlabeled" class) and labels outside ``[0, C)`` are ignored everywhere: no anchor member, no sample, no
error pixel, no hard negative. :class:`ContrastEncoderDecoder` sets ``ignore_index``, ``num_classes`` and
``norm_cfg`` from the decode head unless they are given.

With ``gather=True`` (multi-GPU) anchors, samples and hard negatives are drawn from the images of all ranks
(see :mod:`grass_mm.seg.gather`); every rank then computes the loss of the whole global batch, with
gradients flowing into its own images only.

``L_PA = loss_weight * sum_i lambda_i * mean_n L_a(i, n)``. Driven by :class:`ContrastEncoderDecoder`
(``pixel_anchor_head=`` key) during training only.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from .distance_transform import batched_edt
from .fp32 import float32_math
from .gather import global_topk, scale_grad_by_world, sum_over_ranks, take_rows

_NEG_FILL = -1e9


# ----------------------------------------------------------------------------------------------------------
# pure functions
# ----------------------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------------------
# module
# ----------------------------------------------------------------------------------------------------------
@MODELS.register_module()
class PixelAnchorHead(BaseModule):
    """Embedding heads + boundary-aware pixel-anchor loss (training only).

    Args:
        in_channels (list[int]): channels of the selected encoder stages.
        in_index (list[int]): indices into the backbone (or neck) outputs (may be empty when only the
            decoder level is used).
        decoder_channels (int | None): channels of the decode head's fused feature; when set, that feature
            is the last level ``I`` (the contextual anchors ``A_I``).
        num_classes (int | None): C (set by the segmentor from its decode head when None).
        channels (int): embedding dimension (256).
        norm_cfg (dict | None): norm of the embedding heads; None = the decode head's ``norm_cfg`` when
            built by :class:`ContrastEncoderDecoder` (so ``SyncBN`` there reaches these heads), else BN.
        level_weights (list[float] | None): lambda_i per level (default 1.0 each).
        w_low, w_high (float): contextual update weights (0.5, 0.5).
        k_percent (float): BANE share K in (0, 100] (default 10).
        max_samples (int): sampled pixels per class and level (128).
        max_hard (int): hard negatives per class and level (128).
        use_bane (bool): add BANE hard negatives.
        temperature (float): 0.1.
        loss_weight (float): 0.1.
        ignore_index (int | None): ignored label, also inside ``[0, C)``; None = the decode head's
            ``ignore_index`` when built by :class:`ContrastEncoderDecoder`, else 255.
        gather (bool): draw anchors, samples and hard negatives from the images of all ranks
            (:mod:`grass_mm.seg.gather`; no effect on one process).
        loss_name (str): key in the loss dict.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        in_index: Sequence[int],
        decoder_channels: Optional[int] = None,
        num_classes: Optional[int] = None,
        channels: int = 256,
        norm_cfg: Optional[dict] = None,
        level_weights: Optional[Sequence[float]] = None,
        w_low: float = 0.5,
        w_high: float = 0.5,
        k_percent: float = 10.0,
        max_samples: int = 128,
        max_hard: int = 128,
        use_bane: bool = True,
        temperature: float = 0.1,
        loss_weight: float = 0.1,
        ignore_index: Optional[int] = None,
        gather: bool = False,
        loss_name: str = 'loss_pixel_anchor',
        init_cfg=None,
    ):
        super().__init__(init_cfg=init_cfg)
        key = 'pixel_anchor_head'
        if isinstance(in_index, int):
            in_index = [in_index]
        if isinstance(in_channels, int):
            in_channels = [in_channels]
        in_index, in_channels = list(in_index), list(in_channels)
        if len(in_index) != len(in_channels):
            raise ValueError(f'{key}.in_index={in_index} and {key}.in_channels={in_channels} must have the same length')
        level_channels = in_channels + ([decoder_channels] if decoder_channels else [])
        if not level_channels:
            raise ValueError(f'{key}: no level (in_index is empty and decoder_channels is None)')
        if not isinstance(channels, int) or channels <= 0:
            raise ValueError(f'{key}.channels (embedding dim) must be a positive int, got {channels!r}')
        if not 0 < k_percent <= 100:
            raise ValueError(f'{key}.k_percent (K) must lie in (0, 100], got {k_percent!r}')
        if temperature <= 0:
            raise ValueError(f'{key}.temperature must be > 0, got {temperature!r}')
        if max_samples < 1 or max_hard < 1:
            raise ValueError(f'{key}: max_samples and max_hard must be >= 1, got {max_samples}, {max_hard}')
        if level_weights is None:
            level_weights = [1.0] * len(level_channels)
        if len(level_weights) != len(level_channels):
            raise ValueError(
                f'{key}.level_weights={list(level_weights)} must have one weight per level '
                f'({len(level_channels)}: in_index + decoder)'
            )
        if not loss_name.startswith('loss_'):
            raise ValueError(f"{key}.loss_name must start with 'loss_', got {loss_name!r}")
        if ignore_index is not None and not isinstance(ignore_index, int):
            raise ValueError(f'{key}.ignore_index must be an int or None, got {ignore_index!r}')
        self.in_index = in_index
        self.in_channels = in_channels
        self.decoder_channels = decoder_channels
        self.use_decoder = bool(decoder_channels)
        self.num_classes = num_classes
        self.channels = channels
        self.level_weights = [float(x) for x in level_weights]
        self.w_low, self.w_high = w_low, w_high
        self.k_percent = k_percent
        self.max_samples, self.max_hard = max_samples, max_hard
        self.use_bane = use_bane
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.ignore_index = 255 if ignore_index is None else ignore_index
        self.gather = bool(gather)
        self.loss_name = loss_name
        self.norm_cfg = dict(type='BN', requires_grad=True) if norm_cfg is None else dict(norm_cfg)
        self.embed = nn.ModuleList(
            [
                nn.Sequential(
                    nn.Conv2d(c, channels, 1),
                    nn.ReLU(inplace=True),
                    build_norm_layer(self.norm_cfg, channels)[1],
                    nn.Conv2d(channels, channels, 1),
                )
                for c in level_channels
            ]
        )

    def forward(self, feats: Sequence[Tensor]) -> List[Tensor]:
        """Embeddings of every level: list of (B, channels, h_i, w_i), L2-normalised over channels."""
        return [F.normalize(head(f), dim=1) for head, f in zip(self.embed, feats, strict=True)]

    def _samples(self, lab: Tensor) -> Tuple[Tensor, Tensor]:
        """Random ``max_samples`` pixels of each class (over all ranks with ``gather``).

        Args:
            lab (Tensor): (B, h, w) labels, ignored = -1.

        Returns:
            tuple: ``idx`` (C, S) (global indices with ``gather``) and ``valid`` (C, S).
        """
        member = valid_onehot(lab, self.num_classes).t().bool()  # (C, N)
        score = torch.rand(member.shape, device=lab.device).masked_fill(~member, -1.0)
        idx, value = global_topk(score, self.max_samples, largest=True, enabled=self.gather)
        return idx, value >= 0

    def _hard_negatives(self, logits: Tensor, lab: Tensor) -> Tuple[Tensor, Tensor]:
        """BANE hard negatives of each class (over all ranks with ``gather``): ``idx``, ``valid`` (C, K)."""
        with torch.no_grad():
            pred = F.interpolate(logits.float(), size=lab.shape[-2:], mode='bilinear', align_corners=False).argmax(
                dim=1
            )
            key, fp, _ = bane_rank_keys(pred, lab, self.num_classes)
            idx, _ = global_topk(key, self.max_hard, largest=False, enabled=self.gather)
            n_fp = sum_over_ranks(fp.sum(dim=1), enabled=self.gather)
            n_take = torch.minimum(
                (n_fp.float() * (self.k_percent / 100.0)).ceil().long(), torch.full_like(n_fp, idx.shape[1])
            )
            valid = torch.arange(idx.shape[1], device=lab.device)[None] < n_take[:, None]
        return idx, valid

    def loss(
        self, inputs: Sequence[Tensor], seg_logits: Tensor, gt: Tensor, decoder_feat: Optional[Tensor] = None
    ) -> Dict[str, Tensor]:
        """Pixel-anchor loss ``loss_weight * sum_i lambda_i * mean_n L_a(i, n)``.

        Args:
            inputs (list[Tensor]): backbone/neck outputs (B, C_i, h_i, w_i).
            seg_logits (Tensor): (B, C, h', w') decode-head logits (prediction for BANE, no gradient).
            gt (Tensor): (B, 1, H, W) or (B, H, W) labels.
            decoder_feat (Tensor | None): (B, decoder_channels, h', w'), required when decoder_channels.

        Returns:
            dict: ``{loss_name: loss}``.
        """
        if self.num_classes is None:
            raise ValueError('pixel_anchor_head.num_classes is not set')
        feats = [inputs[i] for i in self.in_index]
        if self.use_decoder:
            if decoder_feat is None:
                raise ValueError('pixel_anchor_head.decoder_channels is set but no decoder feature was given')
            feats.append(decoder_feat)
        embs = self.forward(feats)
        c, on = self.num_classes, self.gather
        labels = [mask_ignored(resize_labels(gt, e.shape[-2:]), c, self.ignore_index) for e in embs]
        anchors, counts = [], []
        for e, lab in zip(embs, labels, strict=True):
            sums, cnt = class_sums(e, lab, c)
            cnt = sum_over_ranks(cnt, enabled=on)
            anchors.append(sum_over_ranks(sums, enabled=on) / cnt.clamp(min=1)[:, None])
            counts.append(cnt)
        hat = contextual_anchors(anchors, self.w_low, self.w_high)
        logits = seg_logits.detach()
        total = embs[0].new_zeros((), dtype=torch.float32)
        for lam, e, lab, a_hat, cnt in zip(self.level_weights, embs, labels, hat, counts, strict=True):
            flat = e.permute(0, 2, 3, 1).reshape(-1, e.shape[1])  # (N, D)
            idx, valid = self._samples(lab)
            hard = hard_valid = None
            if self.use_bane:
                h_idx, hard_valid = self._hard_negatives(logits, lab)
                hard = take_rows(flat, h_idx, enabled=on)
            per_class, ok = pixel_anchor_infonce(
                take_rows(flat, idx, enabled=on), valid, a_hat, cnt > 0, hard, hard_valid, self.temperature
            )
            total = total + lam * (per_class * ok).sum() / ok.sum().clamp(min=1)
        # graph kept intact when no class is usable: every embedding contributes (with weight 0)
        total = total + 0.0 * sum(e.sum() for e in embs)
        return {self.loss_name: scale_grad_by_world(total, enabled=on) * self.loss_weight}
