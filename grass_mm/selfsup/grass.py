"""GraSS: gradient-guided sampling on top of mmpretrain's SimCLR (arXiv 2306.15868)."""

from typing import Dict, List, Optional, Tuple

import torch
from mmpretrain.models.selfsup.simclr import GatherLayer, SimCLR
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .grass_functional import (
    BOX_MODES,
    CC_BACKENDS,
    LAM_NORMS,
    crop_and_resize,
    dar_boxes,
    loss_attention_map,
    random_box_positions,
)


@MODELS.register_module()
class GraSS(SimCLR):
    """GraSS: SimCLR warm-up, then gradient-guided sampling (GS) steps.

    Stage 1 (``gs_enabled=False``) is SimCLR unchanged. Stage 2, each step:

    1. guidance pass without backbone graph: the backbone runs under ``no_grad`` up to stage
       ``gs_stage`` giving A (2B, C, h, w); ``A.requires_grad_()``; the remaining stages,
       the neck and the NT-Xent loss run on it and ``torch.autograd.grad(loss, A)`` gives
       dL/dA only (no parameter gradient is touched, nothing goes stale); on CPU the views
       enter this pass channels-last (``guide_channels_last``), a third cheaper there;
    2. LAM (2B, H, W) -> DAR boxes (2B, 4) -> crops (2B, 3, H, W), batched on the device
       (CPU tensors are labelled exactly by one ``scipy.ndimage.label`` call, in place);
    3. the crops go through the normal forward and loss; the runner's backward and
       optimizer step follow as for SimCLR.

    The stage is switched by :class:`GraSSWarmupHook` (or set ``gs_enabled`` directly).

    Args:
        gs_stage (int): backbone stage whose output is A; -1 = last. Defaults to -1.
        threshold (float): TA in [0, 1) for the DAR mask. Defaults to 0.5.
        lam_norm (str): per-sample normalisation of the LAM before thresholding, see
            :func:`~grass_mm.selfsup.grass_functional.loss_attention_map`:
            'original' (default: the official code's ``LAM / max``, unclamped, with which the
            paper tuned TA = 0.5; a map whose max is < 0 flips sign, so its most negative
            place becomes the DAR; a max of exactly 0 gives an all-zero map, i.e. the
            uncropped view), 'relu' (Grad-CAM: ``relu(LAM) / max``; smaller DARs wherever the
            map has negative values) or 'minmax' (``(LAM - min) / (max - min)``).
        box_mode (str): 'dar' (default, GraSS) crops the DAR boxes; 'random' is the
            random-box control: the same guidance pass and DAR boxes, each moved to a
            uniformly random position in its view (same number and sizes of crops, no
            gradient guidance), see
            :func:`~grass_mm.selfsup.grass_functional.random_box_positions`.
        crop_mode (str): 'nearest' (original) or 'bilinear'.
        cc_iters (int, optional): rounds of connected-component propagation of the 'device'
            labelling (see :func:`~grass_mm.selfsup.grass_functional.connected_components`).
        cc_backend (str): DAR labelling: 'auto' (default: exact scipy labelling of CPU
            tensors in place, device propagation otherwise), 'device' or 'host' (CPU only).
            All give the same boxes once the propagation has converged.
        guide_channels_last (bool, optional): run the guidance pass on channels-last views
            (oneDNN's CPU convolutions are about a third faster on them; the LAM equals the
            NCHW one up to float rounding). None (default) = on CPU tensors only; the
            training pass on the crops is left as SimCLR's.
        gs_enabled (bool): start in the GS stage. Defaults to False.
        **kwargs: the arguments of :class:`mmpretrain.models.SimCLR`.
    """

    def __init__(
        self,
        backbone: dict,
        neck: dict,
        head: dict,
        gs_stage: int = -1,
        threshold: float = 0.5,
        lam_norm: str = 'original',
        box_mode: str = 'dar',
        crop_mode: str = 'nearest',
        cc_iters: Optional[int] = None,
        cc_backend: str = 'auto',
        guide_channels_last: Optional[bool] = None,
        gs_enabled: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(backbone=backbone, neck=neck, head=head, **kwargs)
        if not isinstance(threshold, (int, float)) or not 0 <= threshold < 1:
            raise ValueError(f'GraSS threshold (TA) must lie in [0, 1), got threshold={threshold!r}')
        if lam_norm not in LAM_NORMS:
            raise ValueError(f'GraSS lam_norm must be one of {LAM_NORMS}, got lam_norm={lam_norm!r}')
        if box_mode not in BOX_MODES:
            raise ValueError(f'GraSS box_mode must be one of {BOX_MODES}, got box_mode={box_mode!r}')
        if crop_mode not in ('nearest', 'bilinear'):
            raise ValueError(f"GraSS crop_mode must be 'nearest' or 'bilinear', got crop_mode={crop_mode!r}")
        if cc_backend not in CC_BACKENDS:
            raise ValueError(f'GraSS cc_backend must be one of {CC_BACKENDS}, got cc_backend={cc_backend!r}')
        stages = getattr(self.backbone, 'res_layers', None)
        if stages is None:
            raise TypeError(
                f'GraSS needs a ResNet-family backbone with `res_layers`, got {type(self.backbone).__name__}'
            )
        n = len(stages)
        if not isinstance(gs_stage, int) or not -n <= gs_stage < n:
            raise ValueError(
                f'GraSS gs_stage={gs_stage!r} is not a stage of the backbone '
                f'{type(self.backbone).__name__} (it has {n} stages: 0..{n - 1} or -1..-{n})'
            )
        self.gs_stage = gs_stage % n
        self.threshold = float(threshold)
        self.lam_norm = lam_norm
        self.box_mode = box_mode
        self.crop_mode = crop_mode
        self.cc_iters = cc_iters
        self.cc_backend = cc_backend
        if guide_channels_last not in (None, True, False):
            raise ValueError(
                'GraSS guide_channels_last must be None, True or False, got '
                f'guide_channels_last={guide_channels_last!r}'
            )
        self.guide_channels_last = guide_channels_last
        self.gs_enabled = gs_enabled
        strides = getattr(self.backbone, 'strides', (1, 2, 2, 2))
        stride = 4
        for s in strides[: self.gs_stage + 1]:
            stride *= s
        self.feat_stride = stride

    # ---------------------------------------------------------------- backbone in two parts
    def _forward_to(self, x: torch.Tensor, stage: int) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """Backbone stem and stages 0..stage. Returns (outputs at out_indices < stage, A)."""
        bb = self.backbone
        if bb.deep_stem:
            x = bb.stem(x)
        else:
            x = bb.relu(bb.norm1(bb.conv1(x)))
        x = bb.maxpool(x)
        outs = []
        for i, name in enumerate(bb.res_layers[: stage + 1]):
            x = getattr(bb, name)(x)
            if i in bb.out_indices and i < stage:
                outs.append(x)
        return outs, x

    def _forward_from(self, outs: List[torch.Tensor], x: torch.Tensor, stage: int) -> Tuple[torch.Tensor, ...]:
        """Backbone stages stage+1..last from A; returns the backbone's output tuple."""
        bb = self.backbone
        outs = list(outs) + ([x] if stage in bb.out_indices else [])
        for i, name in enumerate(bb.res_layers):
            if i <= stage:
                continue
            x = getattr(bb, name)(x)
            if i in bb.out_indices:
                outs.append(x)
        return tuple(outs)

    # ---------------------------------------------------------------- SimCLR loss on features
    def contrastive_loss(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """NT-Xent of SimCLR on backbone features of interleaved views (2B, ...)."""
        z = self.neck(feats)[0]
        z = z / (torch.norm(z, p=2, dim=1, keepdim=True) + 1e-10)
        z = torch.cat(GatherLayer.apply(z), dim=0)  # (2N, d)
        N = z.size(0) // 2
        if N < 2:
            raise ValueError(f'GraSS/SimCLR needs at least 2 images per batch (negatives), got a batch of {N} image(s)')
        s = torch.matmul(z, z.t())
        mask, pos_idx, neg_mask = self._create_buffer(N, s.device)
        s = torch.masked_select(s, mask == 1).reshape(s.size(0), -1)
        positive = s[pos_idx].unsqueeze(1)
        negative = torch.masked_select(s, neg_mask == 1).reshape(s.size(0), -1)
        return self.head.loss(positive, negative)

    @staticmethod
    def _interleave(inputs: List[torch.Tensor]) -> torch.Tensor:
        """[(B, C, H, W), (B, C, H, W)] -> (2B, C, H, W), the two views of image i at 2i, 2i+1."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                'GraSS expects two views per image (a list of 2 tensors), got '
                f'{type(inputs).__name__} of length {len(inputs) if hasattr(inputs, "__len__") else "?"}'
            )
        x = torch.stack(inputs, 1)
        return x.reshape(x.size(0) * 2, *x.shape[2:])

    # ---------------------------------------------------------------- gradient-guided sampling
    @torch.no_grad()
    def _no_grad_to(self, views: torch.Tensor):
        return self._forward_to(views, self.gs_stage)

    def guided_crops(self, views: torch.Tensor, return_maps: bool = False):
        """Guidance pass, LAM, DAR and crops.

        Args:
            views (Tensor): (2B, C, H, W) interleaved views.
            return_maps (bool): also return the LAM (2B, H, W) and boxes (2B, 4) (with
                ``box_mode='random'``: the moved boxes that were cropped).

        Returns:
            Tensor: crops (2B, C, H, W) [, LAM, boxes].
        """
        H, W = views.shape[-2:]
        channels_last = self.guide_channels_last
        if channels_last is None:
            channels_last = views.device.type == 'cpu'
        outs, feat = self._no_grad_to(views.contiguous(memory_format=torch.channels_last) if channels_last else views)
        feat = feat.detach().requires_grad_(True)
        with torch.enable_grad():
            loss = self.contrastive_loss(self._forward_from(outs, feat, self.gs_stage))
            (grad,) = torch.autograd.grad(loss, feat)
        lam = loss_attention_map(feat.detach(), grad, size=(H, W), norm=self.lam_norm)
        boxes = dar_boxes(lam, self.threshold, self.cc_iters, self.cc_backend)
        if self.box_mode == 'random':
            boxes = random_box_positions(boxes, (H, W))
        crops = crop_and_resize(views, boxes, (H, W), self.crop_mode)
        if return_maps:
            return crops, lam, boxes
        return crops

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample], **kwargs) -> Dict[str, torch.Tensor]:
        """SimCLR loss on the views (warm-up) or on their DAR crops (GS stage).

        Args:
            inputs (list[Tensor]): two views, each (B, C, H, W).
            data_samples (list[DataSample]): unused.

        Returns:
            dict[str, Tensor]: ``loss``.
        """
        views = self._interleave(inputs)
        H, W = views.shape[-2:]
        if H < self.feat_stride or W < self.feat_stride:
            raise ValueError(
                f'GraSS view size {H}x{W} is smaller than the feature stride '
                f'{self.feat_stride} of gs_stage={self.gs_stage}'
            )
        if self.gs_enabled:
            views = self.guided_crops(views)
        return dict(loss=self.contrastive_loss(self.backbone(views)))

    def set_gs(self, enabled: bool) -> None:
        """Switch the GS stage on/off (:class:`GraSSWarmupHook` logs the switch)."""
        self.gs_enabled = bool(enabled)
