"""Segmentation-side contrast (mmseg scope): patch-contrast head, pixel-anchor loss and the segmentor
that feeds them the decode head's output during training only."""
from .contrast_encoder_decoder import ContrastEncoderDecoder
from .distance_transform import batched_edt
from .patch_contrast_head import PatchContrastHead
from .pixel_anchor_head import PixelAnchorHead

__all__ = ['ContrastEncoderDecoder', 'PatchContrastHead', 'PixelAnchorHead', 'batched_edt']
