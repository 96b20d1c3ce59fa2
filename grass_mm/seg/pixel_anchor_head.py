"""Boundary-aware pixel-anchor loss (Contextrast, CVPR 2024) with its embedding heads.

For every level ``i`` (selected encoder stages, then optionally the decode head's fused feature as the last
level ``I``) an embedding head (1x1 conv -> ReLU -> BN -> 1x1 conv, L2-normalised) maps the features to
``channels``-d embeddings. The representative anchor of class ``n`` is the mean embedding of the pixels whose
(nearest-resized) ground truth is ``n`` (one-hot matmul, no loop). Anchors get the contextual update
``A^_i = w_l * A_i + w_h * A_I`` (then L2-normalised). Sampled pixels of class ``n`` are contrasted (InfoNCE)
with ``A^_i[n]`` as the positive, the other present classes' anchors and BANE hard negatives (the false
positives of ``n`` nearest the boundary of its error region, ``k_percent`` % of them) as negatives. The tensor
math is in :mod:`grass_mm.seg.pixel_anchor_functional`.

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

from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from .contrast_args import check_head_args, check_num_classes
from .gather import scale_grad_by_world, sum_over_ranks, take_rows
from .pixel_anchor_functional import (
    class_sums,
    contextual_anchors,
    gathered_bane_negatives,
    gathered_class_samples,
    mask_ignored,
    pixel_anchor_infonce,
    resize_labels,
)


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
        in_index, in_channels, ignore_index = check_head_args(
            key,
            in_index,
            in_channels,
            channels,
            temperature,
            ignore_index,
            loss_name,
            channels_role='embedding dim',
            allow_no_stage=True,
        )
        level_channels = in_channels + ([decoder_channels] if decoder_channels else [])
        if not level_channels:
            raise ValueError(f'{key}: no level (in_index is empty and decoder_channels is None)')
        if not 0 < k_percent <= 100:
            raise ValueError(f'{key}.k_percent (K) must lie in (0, 100], got {k_percent!r}')
        if max_samples < 1 or max_hard < 1:
            raise ValueError(f'{key}: max_samples and max_hard must be >= 1, got {max_samples}, {max_hard}')
        if level_weights is None:
            level_weights = [1.0] * len(level_channels)
        if len(level_weights) != len(level_channels):
            raise ValueError(
                f'{key}.level_weights={list(level_weights)} must have one weight per level '
                f'({len(level_channels)}: in_index + decoder)'
            )
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
        self.ignore_index = ignore_index
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
        c, on = check_num_classes('pixel_anchor_head', self.num_classes), self.gather
        feats = [inputs[i] for i in self.in_index]
        if self.use_decoder:
            if decoder_feat is None:
                raise ValueError('pixel_anchor_head.decoder_channels is set but no decoder feature was given')
            feats.append(decoder_feat)
        embs = self.forward(feats)
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
            idx, valid = gathered_class_samples(lab, c, self.max_samples, on)
            hard = hard_valid = None
            if self.use_bane:
                h_idx, hard_valid = gathered_bane_negatives(logits, lab, c, self.k_percent, self.max_hard, on)
                hard = take_rows(flat, h_idx, enabled=on)
            per_class, ok = pixel_anchor_infonce(
                take_rows(flat, idx, enabled=on), valid, a_hat, cnt > 0, hard, hard_valid, self.temperature
            )
            total = total + lam * (per_class * ok).sum() / ok.sum().clamp(min=1)
        # graph kept intact when no class is usable: every embedding contributes (with weight 0)
        total = total + 0.0 * sum(e.sum() for e in embs)
        return {self.loss_name: scale_grad_by_world(total, enabled=on) * self.loss_weight}
