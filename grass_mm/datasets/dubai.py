from typing import Sequence, Tuple

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .seg_files import CheckedSegFolderMixin

#: Index order of the Dubai classes and the colours used in the Kaggle masks
#: (the ``classes.json`` shipped with the data lists other colours and is wrong).
DUBAI_CLASSES = ('building', 'land', 'road', 'vegetation', 'water', 'unlabeled')
DUBAI_COLOURS = (
    (0x3C, 0x10, 0x98),
    (0x84, 0x29, 0xF6),
    (0x6E, 0xC1, 0xE4),
    (0xFE, 0xDD, 0x3A),
    (0xE2, 0xA9, 0x29),
    (0x9B, 0x9B, 0x9B),
)
#: Colours mapped to the ignore index (a few pure black pixels in the masks).
DUBAI_IGNORE_COLOURS = ((0, 0, 0),)


def colour_mask_to_index(
    mask: np.ndarray,
    colours: Sequence[Tuple[int, int, int]] = DUBAI_COLOURS,
    ignore_colours: Sequence[Tuple[int, int, int]] = DUBAI_IGNORE_COLOURS,
    ignore_index: int = 255,
    unknown: str = 'error',
) -> Tuple[np.ndarray, int]:
    """Colour mask ``(H, W, 3)`` uint8 RGB -> index mask ``(H, W)`` uint8.

    Pixel of ``colours[i]`` -> ``i``; of an ``ignore_colours`` entry -> ``ignore_index``.
    Any other colour raises ``ValueError`` naming it (``unknown='error'``), or becomes
    ``ignore_index`` (``unknown='ignore'``).

    Returns:
        ``(index_mask, n_unknown)``: the mask and the number of pixels of unknown colour.
    """
    if mask.ndim != 3 or mask.shape[-1] != 3:
        raise ValueError(f'colour mask must be (H, W, 3), got shape {mask.shape}')
    if unknown not in ('error', 'ignore'):
        raise ValueError(f"unknown must be 'error' or 'ignore', got {unknown!r}")
    m = mask.astype(np.int64)
    code = (m[..., 0] << 16) | (m[..., 1] << 8) | m[..., 2]
    table = {(r << 16) | (g << 8) | b: i for i, (r, g, b) in enumerate(colours)}
    for r, g, b in ignore_colours:
        table[(r << 16) | (g << 8) | b] = ignore_index
    uniq, inv = np.unique(code.ravel(), return_inverse=True)
    lut = np.array([table.get(int(u), -1) for u in uniq], dtype=np.int64)
    bad = lut < 0
    n_unknown = 0
    if bad.any():
        counts = np.bincount(inv, minlength=len(uniq))
        n_unknown = int(counts[bad].sum())
        if unknown == 'error':
            first = int(uniq[bad][0])
            raise ValueError(
                f'colour #{first:06X} is not in the palette ({bad.sum()} unknown colour(s), {n_unknown} pixels)'
            )
        lut[bad] = ignore_index
    return lut[inv].reshape(code.shape).astype(np.uint8), n_unknown


@DATASETS.register_module()
class DubaiAerialDataset(CheckedSegFolderMixin, BaseSegDataset):
    """Dubai aerial imagery (MBRSC satellite, Humans in the Loop; CC0).

    Layout written by ``tools/dataset_converters/dubai_aerial.py``::

        {data_root}/img_dir/{train,val}/tile_N_image_part_00K.jpg   RGB
        {data_root}/ann_dir/{train,val}/tile_N_image_part_00K.png   index mask

    Index order (documented choice): 0 building (#3C1098), 1 land (#8429F6), 2 road
    (#6EC1E4), 3 vegetation (#FEDD3A), 4 water (#E2A929), 5 unlabeled (#9B9B9B);
    pure black (#000000) and any colour outside the palette -> 255 (ignored).
    ``reduce_zero_label=False``; the palette is the masks' own colours.
    """

    METAINFO = dict(classes=DUBAI_CLASSES, palette=[list(c) for c in DUBAI_COLOURS])

    def __init__(self, img_suffix='.jpg', seg_map_suffix='.png', reduce_zero_label=False, **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, reduce_zero_label=reduce_zero_label, **kwargs
        )
