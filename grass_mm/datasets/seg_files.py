"""Checks that every image of a segmentation folder has its mask, and the reverse."""

import os.path as osp
import warnings
from typing import List

from mmengine import fileio

ON_MISSING = ('error', 'skip')


def check_image_mask_pairs(
    data_list: List[dict], img_dir: str, ann_dir: str, img_suffix: str, seg_map_suffix: str, on_missing: str = 'error'
) -> List[dict]:
    """Validate the ``data_list`` of an mmseg folder dataset.

    Args:
        data_list: items with ``img_path`` and ``seg_map_path``.
        img_dir / ann_dir: the image and mask folders.
        img_suffix / seg_map_suffix: the suffixes the dataset pairs files by.
        on_missing: ``'error'`` raises on the first image without mask (or mask without
            image); ``'skip'`` drops such images and warns with the count.

    Raises:
        FileNotFoundError: a folder is missing, or an image has no mask / a mask has
            no image (``on_missing='error'``); the message names the file.
        ValueError: no image at all.
    """
    if on_missing not in ON_MISSING:
        raise ValueError(f'on_missing must be one of {ON_MISSING}, got {on_missing!r}')
    for d in (img_dir, ann_dir):
        if not osp.isdir(d):
            raise FileNotFoundError(f'dataset folder not found: {d}')
    kept, missing = [], []
    for info in data_list:
        if osp.isfile(info['seg_map_path']):
            kept.append(info)
        else:
            missing.append(info['img_path'])
    images = {osp.relpath(i['img_path'], img_dir)[: -len(img_suffix)] for i in data_list}
    orphans = [
        osp.join(ann_dir, m)
        for m in fileio.list_dir_or_file(ann_dir, list_dir=False, suffix=seg_map_suffix, recursive=True)
        if m[: -len(seg_map_suffix)] not in images
    ]
    if on_missing == 'error':
        if missing:
            raise FileNotFoundError(
                f'image {missing[0]} has no mask (expected '
                f'{osp.join(ann_dir, osp.relpath(missing[0], img_dir)[: -len(img_suffix)] + seg_map_suffix)})'
                f'; {len(missing)} image(s) without mask in total'
            )
        if orphans:
            raise FileNotFoundError(
                f'mask {sorted(orphans)[0]} has no image in {img_dir}; {len(orphans)} mask(s) without image in total'
            )
    elif missing or orphans:
        warnings.warn(
            f'skipped {len(missing)} image(s) without mask and ignored '
            f'{len(orphans)} mask(s) without image in {img_dir} / {ann_dir}',
            stacklevel=2,
        )
    if not kept:
        raise ValueError(f'no image with a mask found in {img_dir} (suffix {img_suffix!r})')
    return kept


class CheckedSegFolderMixin:
    """Mixin for mmseg folder datasets: pairs images and masks strictly.

    Put it before the mmseg dataset class; it adds the ``on_missing`` argument
    (``'error'`` or ``'skip'``) and runs :func:`check_image_mask_pairs` after the parent's
    ``load_data_list`` when a mask folder is configured.
    """

    def __init__(self, *args, on_missing: str = 'error', **kwargs):
        self.on_missing = on_missing
        super().__init__(*args, **kwargs)

    def load_data_list(self):
        img_dir = self.data_prefix.get('img_path', None)
        ann_dir = self.data_prefix.get('seg_map_path', None)
        if img_dir is not None and not osp.isdir(img_dir):
            raise FileNotFoundError(f'{type(self).__name__}: image folder not found: {img_dir}')
        data_list = super().load_data_list()
        if ann_dir is None or self.ann_file:
            if not data_list:
                raise ValueError(f'{type(self).__name__}: no image found in {img_dir}')
            return data_list
        return check_image_mask_pairs(
            data_list, img_dir, ann_dir, self.img_suffix, self.seg_map_suffix, self.on_missing
        )
