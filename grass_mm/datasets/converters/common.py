import contextlib
import os
import os.path as osp
import warnings

import numpy as np
from PIL import Image

from ...runtime.outputs import owned_output


def _inside(a: str, b: str) -> bool:
    a, b = osp.realpath(a), osp.realpath(b)
    return a == b or a.startswith(b.rstrip(os.sep) + os.sep)


#: marker of a folder that a converter wrote (``.grass_mm_converter``, see :mod:`grass_mm.runtime.outputs`)
CONVERTER = 'converter'


@contextlib.contextmanager
def staged_output(out_dir: str, overwrite: bool = False, inputs=()):
    """Yield a staging folder whose entries replace a converter's earlier output in ``out_dir``
    only if the block succeeds.

    ``out_dir`` must be new or empty, or (with ``overwrite``) hold an earlier converter output
    (its ``.grass_mm_converter`` marker); then only the entries that converter wrote are
    replaced and every other file in ``out_dir`` stays.

    Raises:
        FileExistsError: ``out_dir`` holds files no converter wrote, or an earlier output and
            ``overwrite`` is False (:class:`~grass_mm.runtime.outputs.OutputError`).
        ValueError: ``out_dir`` and one of ``inputs`` contain each other (the input would
            be overwritten or deleted).
    """
    for src in inputs:
        if _inside(out_dir, src) or _inside(src, out_dir):
            raise ValueError(f'output {out_dir} and input {src} overlap; choose another output')
    with owned_output(out_dir, CONVERTER, overwrite) as stage:
        yield stage


def verify_image(path: str) -> tuple:
    """Fully decode an image; return ``(height, width)``; raise ValueError naming the file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'image file not found: {path}')
    try:
        with Image.open(path) as img:
            img.load()
            return img.height, img.width
    except Exception as e:  # noqa: BLE001
        raise ValueError(f'unreadable or truncated image file {path}: {e}') from e


def read_mask(path: str, mode: str) -> np.ndarray:
    """Read a mask as ``'RGB'`` (palette PNGs converted) or ``'L'`` index values."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'mask file not found: {path}')
    try:
        with Image.open(path) as img:
            img.load()
            if mode == 'RGB':
                return np.asarray(img.convert('RGB'))
            if img.mode == 'P':
                raise ValueError('index masks must not be palette images')
            arr = np.asarray(img)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f'unreadable or truncated mask file {path}: {e}') from e
    if arr.ndim != 2:
        raise ValueError(f'mask {path} must be single-channel, got shape {arr.shape}')
    return arr


def pair_by_stem(img_paths, mask_paths, on_missing: str = 'error', what: str = ''):
    """Match images and masks by file stem. Returns sorted ``[(img, mask)]``.

    An image without mask (or the reverse) raises FileNotFoundError naming it, or with
    ``on_missing='skip'`` is skipped with one warning counting them.
    """
    imgs = {osp.splitext(osp.basename(p))[0]: p for p in img_paths}
    masks = {osp.splitext(osp.basename(p))[0]: p for p in mask_paths}
    no_mask = sorted(imgs[k] for k in imgs.keys() - masks.keys())
    no_img = sorted(masks[k] for k in masks.keys() - imgs.keys())
    if on_missing == 'error':
        if no_mask:
            raise FileNotFoundError(f'image {no_mask[0]} has no mask ({len(no_mask)} in {what})')
        if no_img:
            raise FileNotFoundError(f'mask {no_img[0]} has no image ({len(no_img)} in {what})')
    elif no_mask or no_img:
        warnings.warn(
            f'skipped {len(no_mask)} image(s) without mask and {len(no_img)} mask(s) without image in {what}',
            stacklevel=2,
        )
    return [(imgs[k], masks[k]) for k in sorted(imgs.keys() & masks.keys())]


def list_files(folder: str, suffixes) -> list:
    if not osp.isdir(folder):
        raise FileNotFoundError(f'folder not found: {folder}')
    return sorted(osp.join(folder, f) for f in os.listdir(folder) if f.lower().endswith(tuple(suffixes)))
