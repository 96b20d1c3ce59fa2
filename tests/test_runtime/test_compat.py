"""numpy 2 fix for mmcv's hue jitter: same result as numpy 1's uint8 wrap-around, no crash."""

import cv2
import numpy as np
import pytest

import grass_mm  # noqa: F401
from grass_mm.runtime.compat import adjust_hue, hue_shift


@pytest.mark.parametrize('factor', [-0.5, -0.1, -0.01, 0.0, 0.1, 0.5])
def test_adjust_hue_matches_uint8_rotation(factor):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    out = adjust_hue(img, factor, backend='cv2')
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL).astype(np.int64)
    hsv[..., 0] = (hsv[..., 0] + int(factor * 255)) % 256  # numpy 1 semantics, computed in int64
    ref = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR_FULL)
    np.testing.assert_array_equal(out, ref)
    assert hue_shift(factor) == (int(factor * 255) % 256)


def test_mmpretrain_colorjitter_with_hue_runs():
    from mmpretrain.datasets.transforms import ColorJitter

    jitter = ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.5)
    img = np.random.default_rng(1).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    outs = [jitter(dict(img=img.copy()))['img'] for _ in range(20)]  # negative factors hit in ~half
    assert all(o.shape == img.shape and o.dtype == np.uint8 for o in outs)
    assert any(not np.array_equal(o, img) for o in outs)
    with pytest.raises(ValueError, match='hue_factor'):
        adjust_hue(img, 0.7)
