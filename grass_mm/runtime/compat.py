"""numpy 2 compatibility for mmcv 2.1.0 (no newer mmcv is accepted by mmsegmentation 1.2.2).

``mmcv.adjust_hue`` adds ``np.uint8(hue_factor * 255)`` to the hue channel; numpy >= 2 raises
``OverflowError`` for a negative factor, so every ``ColorJitter(hue>0)`` (SimCLR, MoCo v2, GraSS
augmentations) crashes about half of the time. :func:`adjust_hue` does the same uint8 rotation
of the hue channel with the shift taken modulo 256, which is what numpy 1 computed.
"""

import cv2
import mmcv
import mmcv.image
import mmcv.image.photometric as photometric
import numpy as np
from PIL import Image

_original_adjust_hue = photometric.adjust_hue


def hue_shift(hue_factor: float) -> np.uint8:
    """The uint8 shift of the hue channel for ``hue_factor`` in [-0.5, 0.5] (numpy 1 semantics)."""
    return np.uint8(int(hue_factor * 255) % 256)


def adjust_hue(img: np.ndarray, hue_factor: float, backend=None) -> np.ndarray:
    """Drop-in for :func:`mmcv.image.photometric.adjust_hue` that works under numpy 2.

    Args:
        img (ndarray): (H, W, 3) BGR image.
        hue_factor (float): Shift of the hue channel in [-0.5, 0.5].
        backend (str, optional): ``'cv2'`` or ``'pillow'`` (mmcv's default when None).
    """
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f'hue_factor:{hue_factor} is not in [-0.5, 0.5].')
    if not (isinstance(img, np.ndarray) and img.ndim in (2, 3)):
        raise TypeError('img should be ndarray with dim=[2 or 3].')
    if backend is None:
        backend = mmcv.image.io.imread_backend
    shift = hue_shift(hue_factor)
    if backend == 'pillow':
        pil_image = Image.fromarray(img[..., ::-1], mode='RGB')
        h, s, v = pil_image.convert('HSV').split()
        np_h = np.array(h, dtype=np.uint8) + shift  # uint8 wrap-around rotates the hue
        merged = Image.merge('HSV', (Image.fromarray(np_h.astype(np.uint8), 'L'), s, v)).convert('RGB')
        return np.array(merged, dtype=img.dtype)[..., ::-1]
    dtype = img.dtype
    h, s, v = cv2.split(cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL))
    h = (h.astype(np.uint8) + shift).astype(np.uint8)
    return cv2.cvtColor(cv2.merge([h, s, v]), cv2.COLOR_HSV2BGR_FULL).astype(dtype)


def install_numpy2_fixes() -> None:
    """Route ``mmcv.adjust_hue`` (as called by mmpretrain's ColorJitter) to :func:`adjust_hue`."""
    for module in (mmcv, mmcv.image, photometric):
        module.adjust_hue = adjust_hue
