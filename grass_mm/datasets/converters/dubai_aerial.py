"""Dubai aerial imagery, Kaggle layout -> mmseg layout with index masks.

Input: ``{src}/tile_N/images/image_part_00K.jpg`` + ``{src}/tile_N/masks/image_part_00K.png``
(RGB or palette colour masks). Output::

    {out}/img_dir/{train,val}/tile_N_image_part_00K.jpg   (copied byte for byte)
    {out}/ann_dir/{train,val}/tile_N_image_part_00K.png   (uint8 index, 255 = ignore)
    {out}/class_counts.json                               (pixels per class and split)
"""

import json
import os
import os.path as osp
import shutil
import warnings
from typing import Sequence

import numpy as np
from mmengine.utils import ProgressBar
from PIL import Image

from ..dubai import DUBAI_CLASSES, colour_mask_to_index
from .common import list_files, pair_by_stem, read_mask, staged_output, verify_image


def convert_dubai_aerial(
    src: str,
    out_dir: str,
    val_tiles: Sequence[str] = ('tile_6',),
    overwrite: bool = False,
    on_missing: str = 'error',
    unknown_colours: str = 'error',
    progress: bool = True,
) -> dict:
    """Convert; returns ``{'train': counts, 'val': counts}`` with per-class pixel counts
    (``len(DUBAI_CLASSES)`` classes, then the ignore count under key ``'ignore'``).

    ``unknown_colours``: ``'error'`` raises on a colour outside the palette (naming the file
    and colour); ``'ignore'`` maps it to 255 and warns with the pixel count. Pure black is
    always 255.
    """
    if not osp.isdir(src):
        raise FileNotFoundError(f'Dubai aerial folder not found: {src}')
    tiles = sorted(d for d in os.listdir(src) if osp.isdir(osp.join(src, d)))
    if not tiles:
        raise ValueError(f'no tile_* folder in {src}')
    unknown_tiles = set(val_tiles) - set(tiles)
    if unknown_tiles:
        raise ValueError(f'val tile(s) {sorted(unknown_tiles)} not found in {src}')
    jobs = []
    for tile in tiles:
        pairs = pair_by_stem(
            list_files(osp.join(src, tile, 'images'), ('.jpg', '.jpeg', '.png')),
            list_files(osp.join(src, tile, 'masks'), ('.png',)),
            on_missing,
            what=osp.join(src, tile),
        )
        split = 'val' if tile in val_tiles else 'train'
        jobs += [(tile, split, i, m) for i, m in pairs]
    if not jobs:
        raise ValueError(f'no image/mask pair found in {src}')
    n = len(DUBAI_CLASSES)
    counts = {s: np.zeros(n + 1, dtype=np.int64) for s in ('train', 'val')}
    n_unknown = 0
    with staged_output(out_dir, overwrite, inputs=[src]) as stage:
        for s in ('train', 'val'):
            os.makedirs(osp.join(stage, 'img_dir', s))
            os.makedirs(osp.join(stage, 'ann_dir', s))
        bar = ProgressBar(len(jobs)) if progress else None
        for tile, split, img_path, mask_path in jobs:
            hw = verify_image(img_path)
            colour = read_mask(mask_path, 'RGB')
            if colour.shape[:2] != hw:
                raise ValueError(f'mask {mask_path} is {colour.shape[:2]} but image {img_path} is {hw}')
            try:
                index, unk = colour_mask_to_index(colour, unknown=unknown_colours)
            except ValueError as e:
                raise ValueError(f'{mask_path}: {e}') from e
            n_unknown += unk
            stem = f'{tile}_{osp.splitext(osp.basename(img_path))[0]}'
            shutil.copyfile(img_path, osp.join(stage, 'img_dir', split, stem + osp.splitext(img_path)[1].lower()))
            Image.fromarray(index).save(osp.join(stage, 'ann_dir', split, stem + '.png'))
            c = np.bincount(index.ravel(), minlength=256)
            counts[split] += np.append(c[:n], c[255])
            if bar:
                bar.update()
        result = {s: dict(zip(list(DUBAI_CLASSES) + ['ignore'], map(int, c), strict=True)) for s, c in counts.items()}
        with open(osp.join(stage, 'class_counts.json'), 'w') as f:
            json.dump(result, f, indent=1)
    if n_unknown:
        warnings.warn(f'{n_unknown} pixel(s) of colours outside the palette were set to 255', stacklevel=2)
    return result
