"""Batched on-device EDT against scipy.ndimage.distance_transform_edt."""

import numpy as np
import pytest
import torch
from scipy.ndimage import distance_transform_edt

from grass_mm.seg.distance_transform import batched_edt


@pytest.mark.parametrize('shape,p,chunk', [((6, 31, 17), 0.7, 8), ((3, 16, 40), 0.95, 32), ((4, 9, 9), 0.3, 3)])
def test_matches_scipy_on_random_masks(shape, p, chunk):
    g = torch.Generator().manual_seed(sum(shape))
    fg = torch.rand(shape, generator=g) < p
    fg[:, -1, 0] = False  # at least one background pixel per mask
    out = batched_edt(fg, chunk=chunk)
    ref = np.stack([distance_transform_edt(m) for m in fg.numpy()])
    assert out.dtype == torch.float32 and out.shape == fg.shape
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6, atol=1e-5)


def test_blob_masks_and_2d_input():
    yy, xx = np.mgrid[:40, :50]
    mask = ((yy - 20) ** 2 + (xx - 24) ** 2 < 15**2) | ((yy < 6) & (xx > 40))
    out = batched_edt(torch.from_numpy(mask))
    np.testing.assert_allclose(out.numpy(), distance_transform_edt(mask), rtol=1e-6, atol=1e-5)
    assert batched_edt(torch.zeros(5, 7, dtype=torch.bool)).abs().sum() == 0


def test_bad_shape():
    with pytest.raises(ValueError, match='fg'):
        batched_edt(torch.zeros(2, 2, 3, 3))
