"""xBD official layout -> mmseg layout with rasterized index masks.

Input: ``{src}/{split}/images/{disaster}_{id}_{pre|post}_disaster.png`` and
``{src}/{split}/labels/{same}.json``. Output (``task='building'``: pre images, 0/1 masks;
``task='damage'``: post images, 0 background, 1..4 damage levels, 255 un-classified)::

    {out}/img_dir/{split}/{disaster}_{id}_{pre|post}_disaster.png   (copied)
    {out}/ann_dir/{split}/{disaster}_{id}_{pre|post}_disaster.png   (uint8 index)
"""

import os
import os.path as osp
import shutil
from typing import Optional, Sequence

from mmengine.utils import ProgressBar
from PIL import Image

from ..xbd_labels import load_xbd_label, xbd_label_to_mask
from ..xbd_pairs import match_xbd_pairs
from .common import staged_output, verify_image


def convert_xbd(
    src: str,
    out_dir: str,
    task: str = 'building',
    splits: Optional[Sequence[str]] = None,
    overwrite: bool = False,
    on_missing: str = 'error',
    progress: bool = True,
) -> dict:
    """Convert; returns per-split counts of images and rasterized polygons per class."""
    if task not in ('building', 'damage'):
        raise ValueError(f"task must be 'building' or 'damage', got {task!r}")
    if not osp.isdir(src):
        raise FileNotFoundError(f'xBD folder not found: {src}')
    if splits is None:
        splits = sorted(d for d in os.listdir(src) if osp.isdir(osp.join(src, d, 'images')))
        if not splits:
            raise ValueError(f'no {{split}}/images folder found in {src}')
    jobs = []
    for split in splits:
        if not osp.isdir(osp.join(src, split, 'images')):
            raise FileNotFoundError(f'xBD split folder not found: {osp.join(src, split, "images")}')
        for pre, post, _, _ in match_xbd_pairs(osp.join(src, split, 'images'), on_missing):
            img = pre if task == 'building' else post
            stem = osp.splitext(osp.basename(img))[0]
            jobs.append((split, img, osp.join(src, split, 'labels', stem + '.json')))
    stats = {}
    with staged_output(out_dir, overwrite, inputs=[src]) as stage:
        bar = ProgressBar(len(jobs)) if progress else None
        for split, img, label_path in jobs:
            h, w = verify_image(img)
            mask, counts = xbd_label_to_mask(load_xbd_label(label_path), h, w, task, source=label_path)
            for sub in ('img_dir', 'ann_dir'):
                os.makedirs(osp.join(stage, sub, split), exist_ok=True)
            name = osp.basename(img)
            shutil.copyfile(img, osp.join(stage, 'img_dir', split, name))
            Image.fromarray(mask).save(osp.join(stage, 'ann_dir', split, osp.splitext(name)[0] + '.png'))
            s = stats.setdefault(split, {'images': 0})
            s['images'] += 1
            for k, v in counts.items():
                s[k] = s.get(k, 0) + v
            if bar:
                bar.update()
    return stats
