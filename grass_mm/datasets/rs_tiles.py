import os.path as osp
from typing import Optional, Sequence, Union

from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .rs_io import IMG_EXTENSIONS, image_size, list_images, tile_windows


def _pair(x):
    if x is None:
        return None
    return (int(x), int(x)) if isinstance(x, (int, float)) else (int(x[0]), int(x[1]))


@DATASETS.register_module()
class RSTileDataset(BaseDataset):
    """Unlabeled remote-sensing images (or tiles cut from large scenes) for pretraining.

    Scans ``data_root/data_prefix`` (one folder or a list of folders, recursively) for
    images (png, jpg, tif incl. 16-bit / multi-band, see :mod:`grass_mm.datasets.rs_io`
    for how RGB is taken). With ``tile_size`` each scene is cut into windows of that size
    every ``stride`` pixels (plus one window flush with the right / bottom border); only
    the image *headers* are read here, and ``LoadRSTile`` reads one window at a time, so no
    scene is held in memory beyond the item being loaded.

    Each data info: ``img_path``, ``tile`` = ``(x0, y0, w, h)``, ``scene_shape`` = (H, W),
    ``sample_idx``.

    Args:
        data_prefix: folder(s) relative to ``data_root``.
        extensions: image suffixes to keep.
        include: optional ``fnmatch`` pattern on the path relative to each folder.
        tile_size: ``int`` or ``(h, w)``; ``None`` keeps whole images.
        stride: ``int`` or ``(h, w)``; defaults to ``tile_size`` (no overlap).
        min_size: skip scenes smaller than this on either side (``None``: keep all).
    """

    def __init__(
        self,
        data_root: str = '',
        data_prefix: Union[str, Sequence[str]] = '',
        extensions: Sequence[str] = IMG_EXTENSIONS,
        include: Optional[str] = None,
        recursive: bool = True,
        tile_size=None,
        stride=None,
        min_size: Optional[int] = None,
        **kwargs,
    ) -> None:
        self.folders = [data_prefix] if isinstance(data_prefix, str) else list(data_prefix)
        self.extensions, self.include, self.recursive = tuple(extensions), include, recursive
        self.tile_size, self.stride, self.min_size = _pair(tile_size), _pair(stride), min_size
        kwargs.setdefault('ann_file', '')
        super().__init__(data_root=data_root, data_prefix='', **kwargs)

    def load_data_list(self):
        data_list = []
        for folder in self.folders:
            root = osp.join(self.data_root, folder) if folder else self.data_root
            for path in list_images(root, self.extensions, self.recursive, self.include):
                h, w = image_size(path)
                if self.min_size is not None and min(h, w) < self.min_size:
                    continue
                for win in tile_windows(h, w, self.tile_size, self.stride):
                    data_list.append(dict(img_path=path, tile=win, scene_shape=(h, w)))
        if not data_list:
            raise ValueError(
                f'RSTileDataset: no image left in {self.folders} under {self.data_root!r} (min_size={self.min_size})'
            )
        return data_list
