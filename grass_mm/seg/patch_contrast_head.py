"""Patch-contrastive auxiliary head (CT: "A Contrastive Learning Scheme with Transformer Innate Patches").

Every position of an encoder feature map is a patch of ``stride x stride`` input pixels. The ground truth is
cut into the same grid; for each class ``c`` present in the batch, *positive* patches are those whose ground
truth is (at least ``purity``) ``c``, *negative* patches contain no ``c`` at all. Sampling runs over the
patches of all images of the batch at once (fixed-size ``topk`` on masked scores: no per-sample loop, no
host sync). Hard positives (the least confident for ``c`` according to the decode head) are contrasted with
the most confident positives and with the negatives, with InfoNCE or the paper's cosine "CL" loss (binary
cross-entropy on ``s = (cos + 1) / 2`` with label 1 for positive and 0 for negative pairs; the negative term
is really computed, unlike the original code whose cross-entropy ignore index zeroed it). The tensor math is
in :mod:`grass_mm.seg.patch_contrast_functional`.

Labels equal to ``ignore_index`` (also when it lies inside ``[0, C)``, e.g. a decode head that ignores an
"unlabeled" class) count as unlabelled: never part of a positive patch, and a patch made only of them is no
negative. ``pairing='paired'`` contrasts hard anchor ``i`` with easy positive ``i`` only (the official CT
code); ``'all'`` uses every (hard, easy) pair. With ``gather=True`` the patches of all ranks are sampled as
one batch (:mod:`grass_mm.seg.gather`).

The head needs the decode head's logits, so it is driven by
:class:`~grass_mm.seg.contrast_encoder_decoder.ContrastEncoderDecoder` (``patch_contrast_head=`` key),
during training only.
"""

from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from .contrast_args import check_head_args, check_num_classes
from .gather import scale_grad_by_world, take_rows
from .patch_contrast_functional import label_onehot, patch_cl_loss, patch_confidence, patch_infonce, select_patches


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
        in_index, in_channels, ignore_index = check_head_args(
            key, in_index, in_channels, channels, temperature, ignore_index, loss_name, channels_role='projection dim'
        )
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
        if max_pos < 2 or max_neg < 1 or min_pos < 2 or min_neg < 0:
            raise ValueError(
                f'{key}: need max_pos >= 2, max_neg >= 1, min_pos >= 2, min_neg >= 0; got '
                f'max_pos={max_pos}, max_neg={max_neg}, min_pos={min_pos}, min_neg={min_neg}'
            )
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
        self.ignore_index = ignore_index
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
        num_classes = check_num_classes('patch_contrast_head', self.num_classes)
        if gt.dim() == 3:
            gt = gt[:, None]
        with torch.no_grad():
            onehot = label_onehot(gt, num_classes, self.ignore_index)
        losses = [self.stage_loss(inputs[i], s, seg_logits, onehot) for s, i in enumerate(self.in_index)]
        total = torch.stack(losses).mean()
        if self.clip is not None:
            total = total.clamp(max=self.clip)
        return {self.loss_name: scale_grad_by_world(total, enabled=self.gather) * self.loss_weight}
