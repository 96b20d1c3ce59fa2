"""Voronoi-texture set (VTS): synthetic segmentation images with controllable noisy twins.

A sample is a ``size x size`` image split into ``num_cells`` Voronoi cells (seeds drawn at
distinct random pixels, each pixel belongs to its nearest seed, ties to the lower cell id).
The cells are spread evenly at random between two texture classes (``num_cells // 2`` cells
of class 0, the rest of class 1). Its noisy twin re-fills exactly
``round(r_img * num_cells)`` randomly chosen cells with a third, "noise" texture; all other
pixels of the twin equal the clean image. The segmentation label is the class map of the
clean image.

Textures are the grey photographs bundled in scikit-image's wheel (``brick``, ``grass``,
``gravel``: 512x512, no download), each sample taking a random rotation and a random
``size x size`` crop of each. Everything is deterministic from ``(seed, index)``.
"""

from functools import lru_cache
from typing import Dict, Sequence

import numpy as np

VTS_CLASSES = ('brick', 'grass')
VTS_TEXTURES = ('brick', 'grass', 'gravel')  # class 0, class 1, noise


@lru_cache(maxsize=None)
def load_texture(name: str) -> np.ndarray:
    """A bundled scikit-image texture as an ``(H, W)`` float32 array in [0, 255]."""
    from skimage import data

    if name not in ('brick', 'grass', 'gravel'):
        raise ValueError(f'unknown VTS texture {name!r}: use brick, grass or gravel')
    img = getattr(data, name)()
    if img.ndim == 3:
        img = img[..., :3].mean(-1)
    return img.astype(np.float32)


def random_texture_crop(tex: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Random rotation (any angle) then a random ``(size, size)`` crop of ``tex`` -> uint8."""
    from skimage.transform import rotate

    h, w = tex.shape
    win = int(np.ceil(size * np.sqrt(2))) + 2  # a rotated size x size square fits in win
    if win > min(h, w):
        raise ValueError(f'texture of shape {tex.shape} is too small for size {size}')
    y, x = rng.integers(0, h - win + 1), rng.integers(0, w - win + 1)
    patch = rotate(tex[y : y + win, x : x + win], float(rng.uniform(0, 360)), order=1, preserve_range=True)
    o = (win - size) // 2
    return np.clip(patch[o : o + size, o : o + size] + 0.5, 0, 255).astype(np.uint8)


def voronoi_cells(size: int, num_cells: int, rng: np.random.Generator) -> np.ndarray:
    """``(size, size)`` int64 map of the Voronoi cell id of each pixel (every id present)."""
    flat = rng.choice(size * size, size=num_cells, replace=False)
    sy, sx = np.divmod(flat, size)
    yy, xx = np.mgrid[0:size, 0:size]
    d = (yy[..., None] - sy) ** 2 + (xx[..., None] - sx) ** 2  # (H, W, K)
    return d.argmin(-1)


def vts_sample(
    seed: int,
    index: int,
    size: int = 256,
    num_cells: int = 20,
    r_img: float = 0.0,
    textures: Sequence[str] = VTS_TEXTURES,
) -> Dict[str, np.ndarray]:
    """Generate VTS sample ``index`` of the set ``seed``.

    Returns:
        dict with ``img`` and ``noisy_img`` (``(size, size, 3)`` uint8, grey in 3 channels),
        ``gt_seg_map`` (``(size, size)`` uint8, class of the clean image), ``cells``
        (``(size, size)`` int64 cell ids), ``cell_class`` (``(num_cells,)`` int64) and
        ``noisy_cells`` (``(num_cells,)`` bool, the cells re-filled in ``noisy_img``).
    """
    if not 0.0 <= r_img <= 1.0:
        raise ValueError(f'r_img must be in [0, 1], got {r_img}')
    if num_cells < 2 or len(textures) != 3:
        raise ValueError(f'need num_cells >= 2 and 3 textures, got {num_cells}, {textures}')
    rng = np.random.default_rng([int(seed), int(index)])
    cells = voronoi_cells(size, num_cells, rng)
    cell_class = rng.permutation(np.arange(num_cells) >= num_cells // 2).astype(np.int64)
    noisy_cells = np.zeros(num_cells, dtype=bool)
    noisy_cells[rng.choice(num_cells, size=int(round(r_img * num_cells)), replace=False)] = True
    tex = np.stack([random_texture_crop(load_texture(t), size, rng) for t in textures])  # (3,H,W)
    label = cell_class[cells]
    yy, xx = np.mgrid[0:size, 0:size]
    clean = tex[label, yy, xx]
    noisy = np.where(noisy_cells[cells], tex[2], clean)
    return dict(
        img=np.repeat(clean[..., None], 3, -1),
        noisy_img=np.repeat(noisy[..., None], 3, -1),
        gt_seg_map=label.astype(np.uint8),
        cells=cells,
        cell_class=cell_class,
        noisy_cells=noisy_cells,
    )
