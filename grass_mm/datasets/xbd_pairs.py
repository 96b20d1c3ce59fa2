import os.path as osp
import warnings
from typing import Sequence, Union

from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .rs_io import image_size, list_images
from .xbd_labels import parse_xbd_name


def match_xbd_pairs(image_dir: str, on_missing: str = 'error', check_size: bool = True):
    """Pair ``*_pre_disaster.png`` with ``*_post_disaster.png`` of the same ``{disaster}_{id}``.

    Returns a list of ``(pre_path, post_path, disaster, id)`` sorted by pre path. An image
    without its twin raises ``FileNotFoundError`` naming it (``on_missing='error'``) or is
    skipped with a warning that counts them (``'skip'``). Twins of different sizes raise
    ``ValueError`` naming both files (read from the headers).
    """
    if on_missing not in ('error', 'skip'):
        raise ValueError(f"on_missing must be 'error' or 'skip', got {on_missing!r}")
    groups = {}
    for path in list_images(image_dir, ('.png', '.jpg', '.tif'), recursive=False):
        disaster, uid, phase = parse_xbd_name(path)
        groups.setdefault((disaster, uid), {})[phase] = path
    pairs, lonely = [], []
    for (disaster, uid), d in sorted(groups.items()):
        if 'pre' not in d or 'post' not in d:
            lonely.append(next(iter(d.values())))
            continue
        if check_size:
            a, b = image_size(d['pre']), image_size(d['post'])
            if a != b:
                raise ValueError(f'pre/post sizes differ: {d["pre"]} is {a}, {d["post"]} is {b}')
        pairs.append((d['pre'], d['post'], disaster, uid))
    if lonely:
        if on_missing == 'error':
            raise FileNotFoundError(
                f'xBD image {lonely[0]} has no pre/post twin ({len(lonely)} unpaired image(s) in {image_dir})'
            )
        warnings.warn(f'skipped {len(lonely)} xBD image(s) without pre/post twin in {image_dir}', stacklevel=2)
    if not pairs:
        raise ValueError(f'no xBD pre/post pair found in {image_dir}')
    return pairs


@DATASETS.register_module()
class XBDPairDataset(BaseDataset):
    """xBD pre/post-disaster pairs (two images of one place) for pretraining.

    Reads the official layout ``{data_root}/{split}/images/{disaster}_{id}_{pre|post}_disaster.png``
    for each split in ``splits``. Each data info: ``img_path`` (pre), ``pair_path`` (post),
    ``disaster``, ``xbd_id``, ``sample_idx``; ``LoadImagePair`` loads both images.

    Args:
        splits: split folder(s), e.g. ``('train', 'tier3')``.
        on_missing: ``'error'`` or ``'skip'`` for an image without its twin.
        check_size: compare pre/post sizes from the image headers at load time.
    """

    METAINFO = dict(classes=('pre', 'post'))

    def __init__(
        self,
        data_root: str = '',
        splits: Union[str, Sequence[str]] = 'train',
        on_missing: str = 'error',
        check_size: bool = True,
        **kwargs,
    ) -> None:
        self.splits = [splits] if isinstance(splits, str) else list(splits)
        self.on_missing, self.check_size = on_missing, check_size
        kwargs.setdefault('ann_file', '')
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self):
        data_list = []
        for split in self.splits:
            for pre, post, disaster, uid in match_xbd_pairs(
                osp.join(self.data_root, split, 'images'), self.on_missing, self.check_size
            ):
                data_list.append(dict(img_path=pre, pair_path=post, disaster=disaster, xbd_id=uid))
        return data_list
