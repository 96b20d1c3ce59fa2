"""LoveDA official archives / extracted folders -> mmseg layout, one root per domain.

Input: a folder holding ``Train.zip``, ``Val.zip`` (and optionally ``Test.zip``) or the
extracted ``Train|Val|Test/{Urban,Rural}/{images_png,masks_png}``. Output::

    {out}/urban/img_dir/{train,val,test}/*.png   {out}/urban/ann_dir/{train,val}/*.png
    {out}/rural/img_dir/{train,val,test}/*.png   {out}/rural/ann_dir/{train,val}/*.png

Files are copied (mmseg's converter moves them out of its temporary extraction and merges
the domains). Masks are checked to hold values 0..7 only (0 no-data, 1..7 classes).
"""

import io
import os
import os.path as osp
import zipfile

import numpy as np
from mmengine.utils import ProgressBar
from PIL import Image

from .common import pair_by_stem, staged_output

SPLITS = ('Train', 'Val', 'Test')
DOMAINS = ('Urban', 'Rural')
NUM_LABEL_VALUES = 8  # 0 no-data + 7 classes


class _Source:
    """Uniform access to an extracted folder or to the official zips."""

    def __init__(self, root):
        if not osp.isdir(root):
            raise FileNotFoundError(f'LoveDA folder not found: {root}')
        self.root, self.zips = root, {}
        for split in SPLITS:
            z = osp.join(root, split + '.zip')
            if not osp.isdir(osp.join(root, split)) and osp.isfile(z):
                try:
                    self.zips[split] = zipfile.ZipFile(z)
                except zipfile.BadZipFile as e:
                    raise ValueError(f'unreadable zip archive {z}: {e}') from e

    def has(self, split):
        return split in self.zips or osp.isdir(osp.join(self.root, split))

    def list(self, split, domain, kind):
        rel = f'{split}/{domain}/{kind}/'
        if split in self.zips:
            names = [n for n in self.zips[split].namelist() if n.startswith(rel) and n.lower().endswith('.png')]
            if not any(n.startswith(rel) for n in self.zips[split].namelist()):
                raise FileNotFoundError(f'{rel} not found in {self.zips[split].filename}')
            return sorted(names)
        folder = osp.join(self.root, rel)
        if not osp.isdir(folder):
            raise FileNotFoundError(f'LoveDA folder not found: {folder}')
        return sorted(rel + f for f in os.listdir(folder) if f.lower().endswith('.png'))

    def name(self, split, rel):
        return f'{self.zips[split].filename}:{rel}' if split in self.zips else osp.join(self.root, rel)

    def read(self, split, rel):
        if split in self.zips:
            return self.zips[split].read(rel)
        with open(osp.join(self.root, rel), 'rb') as f:
            return f.read()


def _decode(data, name, mask):
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return np.asarray(img) if mask else img.size
    except Exception as e:  # noqa: BLE001
        raise ValueError(f'unreadable or truncated image file {name}: {e}') from e


def convert_loveda_domains(
    src: str, out_dir: str, overwrite: bool = False, on_missing: str = 'error', progress: bool = True
) -> dict:
    """Convert; returns ``{(domain, split): number of images}``."""
    source = _Source(src)
    for split in ('Train', 'Val'):
        if not source.has(split):
            raise FileNotFoundError(f'{split} (folder or {split}.zip) not found in {src}')
    jobs = []
    for split in SPLITS:
        if not source.has(split):
            continue
        for domain in DOMAINS:
            imgs = source.list(split, domain, 'images_png')
            if split == 'Test':
                jobs += [(split, domain, i, None) for i in imgs]
                continue
            pairs = pair_by_stem(
                imgs, source.list(split, domain, 'masks_png'), on_missing, what=source.name(split, f'{split}/{domain}')
            )
            jobs += [(split, domain, i, m) for i, m in pairs]
    if not jobs:
        raise ValueError(f'no LoveDA image found in {src}')
    stats = {}
    with staged_output(out_dir, overwrite, inputs=[src]) as stage:
        bar = ProgressBar(len(jobs)) if progress else None
        for split, domain, img_rel, mask_rel in jobs:
            dom, s = domain.lower(), split.lower()
            img_bytes = source.read(split, img_rel)
            size = _decode(img_bytes, source.name(split, img_rel), mask=False)
            dst = osp.join(stage, dom, 'img_dir', s)
            os.makedirs(dst, exist_ok=True)
            with open(osp.join(dst, osp.basename(img_rel)), 'wb') as f:
                f.write(img_bytes)
            if mask_rel is not None:
                mask_bytes = source.read(split, mask_rel)
                mname = source.name(split, mask_rel)
                mask = _decode(mask_bytes, mname, mask=True)
                if mask.ndim != 2:
                    raise ValueError(f'mask {mname} must be single-channel, got {mask.shape}')
                if mask.shape[::-1] != tuple(size):
                    raise ValueError(f'mask {mname} is {mask.shape[::-1]} but its image is {size}')
                if mask.max() >= NUM_LABEL_VALUES:
                    bad = np.unique(mask[mask >= NUM_LABEL_VALUES])
                    raise ValueError(f'mask {mname} has value(s) {bad.tolist()} outside 0..7')
                dst = osp.join(stage, dom, 'ann_dir', s)
                os.makedirs(dst, exist_ok=True)
                with open(osp.join(dst, osp.basename(mask_rel)), 'wb') as f:
                    f.write(mask_bytes)
            stats[(dom, s)] = stats.get((dom, s), 0) + 1
            if bar:
                bar.update()
    return stats
