"""GraSS: gradient-guided sampling on top of mmpretrain's SimCLR (arXiv 2306.15868)."""

from contextlib import nullcontext
from typing import Any, Dict, List, Optional, Tuple

import torch
from mmpretrain.models.heads import ContrastiveHead
from mmpretrain.models.selfsup.simclr import GatherLayer, SimCLR
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .backbone_stages import forward_from, forward_to, stage_adapter
from .grass_functional import (
    BOX_MODES,
    CC_BACKENDS,
    LAM_NORMS,
    crop_and_resize,
    dar_boxes,
    loss_attention_map,
    nt_xent_index,
    random_box_positions,
)


def _float(obj):
    """Half-precision tensors (also inside tuples and lists) as float32; anything else unchanged."""
    if isinstance(obj, torch.Tensor):
        return obj.float() if obj.is_floating_point() and obj.element_size() < 4 else obj
    if isinstance(obj, (tuple, list)):
        return type(obj)(_float(o) for o in obj)
    return obj


def _autocast_off(device: torch.device):
    """A context with autocast disabled on ``device`` (a no-op where autocast does not exist)."""
    if torch.amp.is_autocast_available(device.type):
        return torch.autocast(device_type=device.type, enabled=False)
    return nullcontext()


@MODELS.register_module()
class GraSS(SimCLR):
    """GraSS: SimCLR warm-up, then gradient-guided sampling (GS) steps.

    Stage 1 (``gs_enabled=False``) is SimCLR unchanged. Stage 2, each step:

    1. guidance pass without backbone graph: the backbone runs under ``no_grad`` up to stage
       ``gs_stage`` giving A (2B, C, h, w); ``A.requires_grad_()``; the remaining stages,
       the neck and the NT-Xent loss run on it and ``torch.autograd.grad(loss, A)`` gives
       dL/dA only (no parameter gradient is touched, nothing goes stale); the whole pass runs
       in fp32 under mixed precision (``guide_autocast``); on CPU the views enter this pass
       channels-last (``guide_channels_last``), a third cheaper there;
    2. LAM (2B, H, W) -> DAR boxes (2B, 4) -> crops (2B, 3, H, W), batched on the device
       (CPU tensors are labelled exactly by one ``scipy.ndimage.label`` call, in place);
    3. the crops go through the normal forward and loss; the runner's backward and
       optimizer step follow as for SimCLR.

    The stage is switched by :class:`~grass_mm.engine.hooks.GraSSWarmupHook` (or set ``gs_enabled`` directly).

    Backbones: any mmpretrain backbone of the ResNet family, ConvNeXt, SwinTransformer or
    VisionTransformer (see :mod:`~grass_mm.selfsup.backbone_stages`; Swin and ViT tokens are
    reshaped to their grid, ViT's stages are its layers). The neck gets the backbone's last output.
    A backbone with several ``out_indices`` (the Swin-T and ConvNeXt-T configs build all four, so
    that the checkpoint holds every key of the 4-output segmentation backbone, ``norm0``-``norm3``)
    computes no other output in the guidance pass; the layers of its other outputs (Swin's and
    ConvNeXt's ``norm{i}``) get no gradient and are frozen (``requires_grad=False``), so DDP finds no
    unused parameter and they keep their initial values.

    Args:
        gs_stage (int): backbone stage whose output is A; -1 = last. Defaults to -1.
            With a ViT whose ``out_type`` is 'cls_token' take an earlier layer: the last
            layer's patch tokens do not reach the class token.
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
        guide_autocast (bool): under mixed precision (``AmpOptimWrapper``), let the guidance
            pass's no-grad forward up to ``gs_stage`` run in the autocast dtype. False
            (default) runs the whole guidance pass in fp32, so fp16/bf16 AMP crops the same
            boxes as fp32 training. The stages after ``gs_stage``, the neck, the loss and
            dL/dA always run in fp32 (autocast off on ``A.float()``): in fp16 the gradients
            underflow and the fp16 neck moves the boxes. True saves part of the guidance
            forward's cost but its boxes are those of the low-precision A (a trained
            ResNet-18, 64 views: 2 of 64 boxes differ from fp32 at fp16, 15 at bf16).
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
        guide_autocast: bool = False,
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
        self._stages = stage_adapter(self.backbone)
        self._neck_index = (max(self.backbone.out_indices),)  # the output the neck gets: the last
        for i in self.backbone.out_indices:
            if i not in self._neck_index:
                for module in self._stages.output_modules(self.backbone, i):
                    module.requires_grad_(False)
        n = self._stages.num_stages(self.backbone)
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
        if guide_autocast not in (True, False):
            raise ValueError(f'GraSS guide_autocast must be True or False, got guide_autocast={guide_autocast!r}')
        self.guide_autocast = bool(guide_autocast)
        self.gs_enabled = gs_enabled
        self._nt_xent_cache = {}  # (N, device) -> (gather index, labels) of the NT-Xent logits
        self.feat_stride = self._stages.stride(self.backbone, self.gs_stage)

    # ---------------------------------------------------------------- backbone in two parts
    def _forward_to(self, x: torch.Tensor, stage: int) -> Tuple[List[torch.Tensor], Any]:
        """Backbone stem and stages 0..stage. Returns (the neck's output if its index < stage, the state after
        ``stage``: for ResNet and ConvNeXt the feature map A, see :mod:`.backbone_stages`)."""
        return forward_to(self._stages, self.backbone, x, stage, self._neck_index)

    def _forward_from(self, outs: List[torch.Tensor], state: Any, stage: int) -> Tuple[torch.Tensor, ...]:
        """Backbone stages stage+1..last from the state after ``stage``; returns (the neck's output,)."""
        return forward_from(self._stages, self.backbone, outs, state, stage, self._neck_index)

    # ---------------------------------------------------------------- SimCLR loss on features
    def contrastive_loss(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """NT-Xent of SimCLR on backbone features of interleaved views (2B, ...): the neck gets the last one.

        The value of mmpretrain's :class:`~mmpretrain.models.SimCLR` loss, with static shapes:
        the logits are gathered by an index built once per (N, device)
        (:func:`~grass_mm.selfsup.grass_functional.nt_xent_index`) instead of
        ``masked_select`` and per-call buffers, so a step makes no host-device sync.
        """
        z = self.neck(tuple(feats[-1:]))[0]
        z = z / (torch.norm(z, p=2, dim=1, keepdim=True) + 1e-10)
        z = torch.cat(GatherLayer.apply(z), dim=0)  # (2N, d)
        N = z.size(0) // 2
        if N < 2:
            raise ValueError(f'GraSS/SimCLR needs at least 2 images per batch (negatives), got a batch of {N} image(s)')
        index, labels = self._nt_xent_buffers(N, z.device)
        logits = torch.matmul(z, z.t()).gather(1, index)  # (2N, 2N - 1), positive first
        if type(self.head).loss is ContrastiveHead.loss:
            # ContrastiveHead.loss would copy new zero labels to the device at every call
            return self.head.loss_module(logits / self.head.temperature, labels)
        return self.head.loss(logits[:, :1], logits[:, 1:])

    def _nt_xent_buffers(self, num_images: int, device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
        """The gather index (2N, 2N - 1) and the zero labels (2N,), cached per (N, device)."""
        key = (num_images, str(device))
        if key not in self._nt_xent_cache:
            index = nt_xent_index(num_images, device)
            self._nt_xent_cache[key] = (index, torch.zeros(index.size(0), dtype=torch.long, device=device))
        return self._nt_xent_cache[key]

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
        guide_views = views.contiguous(memory_format=torch.channels_last) if channels_last else views
        with nullcontext() if self.guide_autocast else _autocast_off(views.device):
            outs, state = _float(self._no_grad_to(_float(guide_views)))
        # dL/dA in fp32 whatever the autocast state: under fp16 AMP the tail's gradients (~1e-6)
        # underflow and the fp16 neck perturbs the LAM, which moves the DAR boxes
        bb = self.backbone
        feat = self._stages.feature(bb, state).detach().requires_grad_(True)  # A (2B, C, h, w)
        with torch.enable_grad(), _autocast_off(views.device):
            tail = self._forward_from(outs, self._stages.with_feature(bb, state, feat), self.gs_stage)
            (grad,) = torch.autograd.grad(self.contrastive_loss(tail), feat)
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
        """Switch the GS stage on/off (:class:`~grass_mm.engine.hooks.GraSSWarmupHook` logs the switch)."""
        self.gs_enabled = bool(enabled)
