"""Segmentation-side contrast (mmseg scope): patch-contrast head, pixel-anchor loss and the segmentor
that feeds them the decode head's output during training only; plain-checkpoint export for deployment.
(Its hooks, linear probe then fine-tune and BN re-estimation, are in :mod:`grass_mm.engine.hooks`.)"""

from .class_iou_metric import ClassIoUMetric  # noqa: F401  (mmseg METRICS)
from .contrast_encoder_decoder import ContrastEncoderDecoder
from .distance_transform import batched_edt
from .export import plain_seg_checkpoint, plain_seg_model_cfg, plain_seg_state_dict
from .iou_kappa_metric import IoUKappaMetric  # noqa: F401  (mmseg METRICS)
from .patch_contrast_head import PatchContrastHead
from .pixel_anchor_head import PixelAnchorHead

__all__ = [
    'ContrastEncoderDecoder',
    'PatchContrastHead',
    'PixelAnchorHead',
    'batched_edt',
    'plain_seg_checkpoint',
    'plain_seg_model_cfg',
    'plain_seg_state_dict',
]
