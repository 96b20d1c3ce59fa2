"""Reading remote-sensing images: folders, headers, windows, 16-bit and multi-band files.

Pure functions shared by the datasets, the ``LoadRSTile`` transform and the converters.
Every failure raises one error that names the offending file or folder.

Band handling (documented for users of :class:`RSTileDataset`):

* PNG / JPG / 8-bit TIFF: read as RGB; grey images are repeated to 3 channels; an
  alpha channel is dropped.
* TIFF with more bands or 16/32-bit samples (e.g. Potsdam ``4_Ortho_RGBIR``, Sentinel-2
  stacks): read with ``tifffile`` (memory-mapped when the file is uncompressed, so a
  window of a 6000x6000 scene reads only that window), ``bands`` (0-based, in R, G, B
  order) picks the three bands, and ``rescale`` maps the values to uint8:
  ``'percentile'`` (default) stretches each band between its 2nd and 98th percentile,
  ``'minmax'`` between its min and max, ``'none'`` casts (only valid for uint8 data),
  and a number divides by it (e.g. ``10000`` for Sentinel-2 reflectances) then scales
  to 0..255.
"""

import fnmatch
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')
TIFF_EXTENSIONS = ('.tif', '.tiff')


class CorruptImageError(ValueError):
    """An image file exists but is corrupt, truncated or empty; the message names the file.

    ``str(err)`` is always one line: when a DataLoader worker re-raises it in the main process
    (``"Caught CorruptImageError in DataLoader worker ...\nOriginal Traceback ..."``), the original
    line is recovered, so ``tools/train.py`` can print it alone.
    """

    def __str__(self) -> str:
        lines = [ln for ln in super().__str__().splitlines() if ln.strip()]
        if not lines:
            return ''
        return lines[-1].split(f'{type(self).__name__}: ', 1)[-1].strip()


_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
_JPEG_MAGIC = b'\xff\xd8\xff'


def image_bytes_problem(data: bytes) -> Optional[str]:
    """Why the bytes of an image file are not a complete image, or ``None`` when no sign is found.

    A cheap structural check that needs no decoding, for what decoders do not all report: an empty
    file; a PNG without its ``IEND`` chunk or a JPEG without its end-of-image marker (``FF D9``)
    near the end, i.e. a file cut off while it was written or copied (OpenCV decodes such a JPEG
    into a grey-filled image with only a warning). Other formats are left to the decoder.
    """
    if len(data) == 0:
        return 'the file is empty (0 bytes)'
    tail = data[-1024:]
    if data.startswith(_PNG_MAGIC) and b'IEND' not in tail:
        return f'PNG without its IEND chunk: truncated ({len(data)} bytes)'
    if data.startswith(_JPEG_MAGIC) and b'\xff\xd9' not in tail:
        return f'JPEG without its end-of-image marker: truncated ({len(data)} bytes)'
    return None


def image_file_problem(path: str, backend_args: Optional[dict] = None) -> Optional[str]:
    """:func:`image_bytes_problem` of a file read through mmengine's file backends.

    Raises:
        FileNotFoundError: the file does not exist (a missing file is not a corrupt one).
    """
    from mmengine import fileio

    return image_bytes_problem(fileio.get(path, backend_args=backend_args))


ON_CORRUPT = ('error', 'skip')


def check_on_corrupt(on_corrupt: str) -> str:
    if on_corrupt not in ON_CORRUPT:
        raise ValueError(f"on_corrupt must be 'error' or 'skip', got {on_corrupt!r}")
    return on_corrupt


def skip_corrupt(path: str, reason: str, warned: set) -> None:
    """Warn once per file that a corrupt image is skipped (``on_corrupt='skip'``); returns ``None``.

    A transform that returns ``None`` makes mmengine's ``BaseDataset`` draw another sample in
    training (``max_refetch`` times); in test mode mmengine stops with its own error.
    """
    if path not in warned:
        warned.add(path)
        from mmengine.logging import print_log

        print_log(f"skipping corrupt image file '{path}' (on_corrupt='skip'): {reason}", logger='current', level=30)
    return None


def list_images(
    root: str, extensions: Sequence[str] = IMG_EXTENSIONS, recursive: bool = True, include: Optional[str] = None
) -> List[str]:
    """Sorted image paths under ``root``.

    Args:
        root: folder to scan.
        extensions: lower-case suffixes to keep (matched case-insensitively).
        recursive: scan sub-folders too.
        include: optional ``fnmatch`` pattern on the path relative to ``root``
            (e.g. ``'*/images/*'``).

    Raises:
        FileNotFoundError: ``root`` does not exist or is not a folder.
        ValueError: no image was found under ``root``.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'image folder not found: {root}')
    exts = tuple(e.lower() for e in extensions)
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        for name in filenames:
            if not name.lower().endswith(exts):
                continue
            path = osp.join(dirpath, name)
            if include is not None and not fnmatch.fnmatch(osp.relpath(path, root), include):
                continue
            out.append(path)
        if not recursive:
            break
    if not out:
        raise ValueError(
            f'no image with extension {exts} found in folder {root}' + (f' matching {include!r}' if include else '')
        )
    return sorted(out)


def _is_tiff(path: str) -> bool:
    return path.lower().endswith(TIFF_EXTENSIONS)


def image_size(path: str) -> Tuple[int, int]:
    """``(height, width)`` of an image from its header only (no pixel is decoded)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'image file not found: {path}')
    try:
        if _is_tiff(path):
            import tifffile

            with tifffile.TiffFile(path) as tif:
                shape = tif.series[0].shape
                axes = tif.series[0].axes
            return int(shape[axes.index('Y')]), int(shape[axes.index('X')])
        with Image.open(path) as img:
            w, h = img.size
        return int(h), int(w)
    except Exception as e:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(f'unreadable image file {path}: {e}') from e


def to_uint8(arr: np.ndarray, rescale: Union[str, float] = 'percentile') -> np.ndarray:
    """Map an ``(H, W, C)`` array of any numeric type to uint8, band by band.

    See the module docstring for ``rescale``. uint8 input is returned unchanged.
    """
    if arr.dtype == np.uint8:
        return arr
    x = arr.astype(np.float32)
    if rescale == 'none':
        raise ValueError(f"rescale='none' needs uint8 data, got {arr.dtype}")
    if isinstance(rescale, (int, float)) and not isinstance(rescale, bool):
        y = x / float(rescale)
    elif rescale in ('percentile', 'minmax'):
        q = (2, 98) if rescale == 'percentile' else (0, 100)
        lo = np.percentile(x, q[0], axis=(0, 1), keepdims=True)
        hi = np.percentile(x, q[1], axis=(0, 1), keepdims=True)
        y = (x - lo) / np.maximum(hi - lo, 1e-6)
    else:
        raise ValueError(f'unknown rescale {rescale!r}: use percentile, minmax, none or a number')
    return (np.clip(y, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _select_bands(arr: np.ndarray, bands: Sequence[int], path: str) -> np.ndarray:
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.shape[-1] == 1:
        return np.repeat(arr, 3, axis=-1)
    if max(bands) >= arr.shape[-1]:
        raise ValueError(f'{path} has {arr.shape[-1]} bands, cannot take bands {tuple(bands)}')
    return arr[..., list(bands)]


def read_rs_image(
    path: str,
    bands: Sequence[int] = (0, 1, 2),
    window: Optional[Sequence[int]] = None,
    rescale: Union[str, float] = 'percentile',
) -> np.ndarray:
    """Read an image (or a window of it) as an RGB ``(H, W, 3)`` uint8 array.

    Args:
        path: image file.
        bands: the three bands (0-based) to use as R, G, B for multi-band files.
        window: optional ``(x0, y0, w, h)`` in pixels; clipped to the image.
        rescale: how non-uint8 data are mapped to uint8 (module docstring).

    Raises:
        FileNotFoundError: the file does not exist.
        CorruptImageError: the file is unreadable or truncated (a ``ValueError``).
        ValueError: the file has too few bands.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image file not found: {path}')
    try:
        if _is_tiff(path):
            import tifffile

            try:
                arr = tifffile.memmap(path, mode='r')
            except Exception:  # compressed / tiled files cannot be memory-mapped
                arr = tifffile.imread(path)
            if arr.ndim == 3 and arr.shape[0] < arr.shape[-1] and arr.shape[0] <= 16:
                arr = np.moveaxis(arr, 0, -1)  # planar (C, H, W) -> (H, W, C)
            if window is not None:
                x0, y0, w, h = window
                arr = arr[y0 : y0 + h, x0 : x0 + w]
            arr = np.ascontiguousarray(arr)
        else:
            with Image.open(path) as img:
                img.load()  # full decode here: truncated files raise
                if img.mode not in ('RGB', 'L', 'I;16', 'I', 'F'):
                    img = img.convert('RGB')
                if window is not None:
                    x0, y0, w, h = window
                    img = img.crop((x0, y0, min(x0 + w, img.width), min(y0 + h, img.height)))
                arr = np.asarray(img)
    except Exception as e:  # noqa: BLE001 - re-raised with the file name
        raise CorruptImageError(f'unreadable or truncated image file {path}: {type(e).__name__}: {e}') from e
    arr = _select_bands(arr, bands, path)
    return to_uint8(arr, rescale)


def tile_windows(
    height: int, width: int, tile_size: Optional[Tuple[int, int]], stride: Optional[Tuple[int, int]]
) -> List[Tuple[int, int, int, int]]:
    """Windows ``(x0, y0, w, h)`` covering an image with tiles of ``tile_size`` = (h, w).

    Tiles start every ``stride`` pixels; one more tile flush with the right/bottom border
    is added when the stride does not land on it, so that the whole scene is covered.
    An image smaller than a tile (or ``tile_size=None``) gives one window, the image.
    """
    if tile_size is None:
        return [(0, 0, width, height)]
    th, tw = tile_size
    sh, sw = stride if stride is not None else tile_size
    if th <= 0 or tw <= 0 or sh <= 0 or sw <= 0:
        raise ValueError(f'tile_size {tile_size} and stride {stride} must be positive')

    def starts(size, t, s):
        if size <= t:
            return [0]
        out = list(range(0, size - t + 1, s))
        if out[-1] != size - t:
            out.append(size - t)
        return out

    return [(x, y, min(tw, width), min(th, height)) for y in starts(height, th, sh) for x in starts(width, tw, sw)]
