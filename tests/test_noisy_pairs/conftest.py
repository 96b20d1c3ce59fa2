"""Fixtures of the noisy-pairs tests: tiny Voronoi-texture (VTS-like) pairs made here.

The real VTS generator lives in ``grass_mm.datasets.vts`` (datasets issue); these tests make
their own tiny pairs so that they do not depend on its exact interface.
"""

import numpy as np
import pytest

NOISE = 2  # label of the re-filled ("noise") cells in the noisy twin


def _texture(kind, size, rng):
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    if kind == 0:  # horizontal stripes
        t = 0.5 + 0.5 * np.sin(yy * 0.9 + rng.uniform(0, 6.28))
    elif kind == 1:  # checkerboard
        t = ((yy // 3 + xx // 3) % 2).astype(np.float32)
    else:  # noise
        t = rng.uniform(0, 1, (size, size)).astype(np.float32)
    colour = {0: (0.9, 0.4, 0.2), 1: (0.2, 0.8, 0.3), 2: (0.5, 0.5, 0.9)}[kind]
    return (t[..., None] * np.array(colour, np.float32) * 255).astype(np.uint8)


def make_voronoi_pair(seed=0, size=64, n_cells=20, r_img=0.5):
    """Clean image, noisy twin, their label maps and the cell map.

    Returns:
        dict: ``img``, ``pair_img`` (size, size, 3) uint8; ``label`` (size, size) in {0, 1};
        ``pair_label`` (size, size) in {0, 1, 2} (2 = re-filled cell); ``cells`` (size, size)
        cell ids; ``noisy_cells`` (k,) ids of the re-filled cells.
    """
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, size, (n_cells, 2))
    yy, xx = np.mgrid[:size, :size]
    d = (yy[..., None] - pts[:, 0]) ** 2 + (xx[..., None] - pts[:, 1]) ** 2
    cells = d.argmin(-1)
    cell_cls = rng.permutation(np.arange(n_cells) % 2)
    noisy_cells = rng.choice(n_cells, int(round(r_img * n_cells)), replace=False)
    pair_cls = cell_cls.copy()
    pair_cls[noisy_cells] = NOISE
    tex = [_texture(k, size, rng) for k in range(3)]
    label = cell_cls[cells]
    pair_label = pair_cls[cells]
    img = np.choose(label[..., None], tex[:2]).astype(np.uint8)
    pair_img = np.choose(pair_label[..., None], tex).astype(np.uint8)
    return dict(img=img, pair_img=pair_img, label=label, pair_label=pair_label, cells=cells, noisy_cells=noisy_cells)


@pytest.fixture
def voronoi_pair():
    return make_voronoi_pair


@pytest.fixture
def init_pretrain_scope():
    from mmengine.registry import init_default_scope

    import grass_mm  # noqa: F401

    init_default_scope('mmpretrain')
