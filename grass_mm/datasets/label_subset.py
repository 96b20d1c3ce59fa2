"""A deterministic random subset of a labelled dataset, for label-efficient fine-tuning.

mmengine's ``indices=N`` keeps the *first* N samples, which on tiled remote-sensing data is one
corner of one scene. :class:`LabelSubsetDataset` wraps any mmseg dataset config and keeps a
random subset chosen by its own seed, by fraction or by count::

    train_dataloader = dict(dataset=dict(
        type='LabelSubsetDataset', fraction=0.01, seed=0,
        dataset=dict(type='PotsdamDataset', data_root=..., data_prefix=..., pipeline=...)))

The choice depends only on the sorted sample list, the seed and the fraction/count, so every
rank of a distributed run keeps the same subset. The chosen image files are written to
``<work_dir>/label_subset.txt`` (rank 0) when a runner's logger is active, and logged.
"""

import os.path as osp
from typing import Optional, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS


def subset_size(n: int, fraction: Optional[float] = None, count: Optional[int] = None) -> int:
    """Number of samples kept out of ``n``: ``round(fraction * n)`` (at least 1) or ``count``.

    Raises:
        ValueError: both or neither given, a fraction outside (0, 1], a count below 1 or above ``n``.
    """
    if (fraction is None) == (count is None):
        raise ValueError(f'give exactly one of fraction and count (got fraction={fraction!r}, count={count!r})')
    if n < 1:
        raise ValueError('the wrapped dataset is empty: nothing to take a subset of')
    if fraction is not None:
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
            raise ValueError(f'fraction must lie in (0, 1], got {fraction!r}')
        return max(1, int(round(fraction * n)))
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f'count must be a positive integer, got {count!r}')
    if count > n:
        raise ValueError(f'count={count} is larger than the dataset, which has {n} samples')
    return int(count)


def choose_subset(n: int, fraction: Optional[float] = None, count: Optional[int] = None, seed: int = 0) -> np.ndarray:
    """Sorted indices ``(k,)`` of a random subset of ``range(n)``, a pure function of its arguments."""
    k = subset_size(n, fraction, count)
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n)[:k])


@DATASETS.register_module()
class LabelSubsetDataset:
    """Keep a seeded random subset of ``dataset`` (a config dict or a built dataset).

    Args:
        dataset (dict | BaseDataset): the labelled dataset.
        fraction (float, optional): share in (0, 1] of its samples; rounded, at least one.
        count (int, optional): number of samples instead of a fraction.
        seed (int): the subset's own seed (independent of the training seed).
        list_file (str): name of the file list written into the work dir (empty: do not write).
        lazy_init (bool): defer choosing until :meth:`full_init` (mmengine convention).
    """

    def __init__(
        self,
        dataset: Union[dict, BaseDataset],
        fraction: Optional[float] = None,
        count: Optional[int] = None,
        seed: int = 0,
        list_file: str = 'label_subset.txt',
        lazy_init: bool = False,
    ):
        if (fraction is None) == (count is None):
            raise ValueError(
                f'LabelSubsetDataset: give exactly one of fraction and count '
                f'(got fraction={fraction!r}, count={count!r})'
            )
        if fraction is not None:  # range errors before the (possibly slow) dataset is built
            subset_size(1, fraction=fraction)
        elif isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f'LabelSubsetDataset: count must be a positive integer, got {count!r}')
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.fraction, self.count, self.seed, self.list_file = fraction, count, int(seed), list_file
        self._metainfo = self.dataset.metainfo
        self._fully_initialized = False
        self.indices = None
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return dict(self._metainfo)

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.dataset.full_init()
        n = len(self.dataset)
        try:
            self.indices = choose_subset(n, self.fraction, self.count, self.seed)
        except ValueError as err:
            raise ValueError(f'LabelSubsetDataset: {err}') from None
        self._fully_initialized = True
        self._record()

    @property
    def files(self):
        """Image paths of the kept samples, in dataset order."""
        return [self.dataset.get_data_info(int(i)).get('img_path', str(int(i))) for i in self.indices]

    def _record(self) -> None:
        from mmengine.dist import get_rank
        from mmengine.logging import MMLogger, print_log

        n, k = len(self.dataset), len(self.indices)
        what = f'fraction={self.fraction}' if self.fraction is not None else f'count={self.count}'
        msg = f'LabelSubsetDataset: {k} of {n} samples ({what}, seed={self.seed})'
        logger = MMLogger.get_current_instance()
        log_file = getattr(logger, 'log_file', None)
        if not self.list_file or not log_file:  # no runner's logger: nothing to write into
            print_log(msg, logger='current')
            return
        # mmengine logs to <work_dir>/<timestamp>/<timestamp>.log
        path = osp.join(osp.dirname(osp.dirname(osp.abspath(log_file))), self.list_file)
        if get_rank() == 0:
            with open(path, 'w') as f:
                f.write(''.join(p + '\n' for p in self.files))
        print_log(f'{msg}; file list: {path}', logger='current')

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(int(self.indices[idx]))

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        return self.dataset[int(self.indices[idx])]

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self.indices)
