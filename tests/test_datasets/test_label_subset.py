"""LabelSubsetDataset: a seeded random label fraction of any mmseg dataset."""

import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from mmengine.logging import MMLogger

import grass_mm  # noqa: F401
from grass_mm.datasets import LabelSubsetDataset, choose_subset
from grass_mm.datasets.label_subset import subset_size


class _Files:
    """A stand-in dataset of ``n`` files (metainfo, full_init, get_data_info, indexing)."""

    metainfo = dict(classes=('a', 'b'))

    def __init__(self, n):
        self.items = [dict(img_path=f'/data/img_{i:03d}.png', idx=i) for i in range(n)]

    def full_init(self):
        pass

    def __len__(self):
        return len(self.items)

    def get_data_info(self, i):
        return self.items[i]

    def __getitem__(self, i):
        return self.items[i]


def test_choice_is_deterministic_per_seed_and_differs_between_seeds():
    a = choose_subset(1000, fraction=0.05, seed=3)
    assert np.array_equal(a, choose_subset(1000, fraction=0.05, seed=3))
    b = choose_subset(1000, fraction=0.05, seed=4)
    assert len(a) == len(b) == 50 and not np.array_equal(a, b)
    assert len(np.unique(a)) == 50 and a.min() >= 0 and a.max() < 1000 and np.all(np.diff(a) > 0)
    # spread over the whole set, unlike indices=N (the first N files)
    assert a.max() > 500


def test_fraction_rounding_and_count():
    assert subset_size(13824, fraction=0.01) == 138  # the GraSS lab's 1% Potsdam list
    assert subset_size(45, fraction=0.01) == 1  # never empty
    assert subset_size(45, fraction=0.1) == 4  # round(4.5) -> 4 (banker's rounding of Python's round)
    assert subset_size(10, fraction=1.0) == 10
    assert subset_size(10, count=7) == 7


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(fraction=0.0), 'fraction must lie in (0, 1], got 0.0'),
        (dict(fraction=1.5), 'fraction must lie in (0, 1], got 1.5'),
        (dict(count=-2), 'count must be a positive integer, got -2'),
        (dict(), 'give exactly one of fraction and count'),
        (dict(fraction=0.5, count=2), 'give exactly one of fraction and count'),
    ],
)
def test_bad_arguments_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)').replace(']', r'\]')):
        LabelSubsetDataset(_Files(10), **kwargs)


def test_count_larger_than_the_set_names_both_numbers():
    with pytest.raises(ValueError, match='count=12 is larger than the dataset, which has 10 samples'):
        LabelSubsetDataset(_Files(10), count=12)


def test_wrapper_indexes_the_chosen_samples_and_writes_the_file_list(tmp_path):
    log_dir = tmp_path / 'work' / '20261130_000000'
    log_dir.mkdir(parents=True)
    MMLogger.get_instance('label_subset_test', log_file=str(log_dir / '20261130_000000.log'))
    ds = LabelSubsetDataset(_Files(40), fraction=0.25, seed=1)
    chosen = choose_subset(40, fraction=0.25, seed=1)
    assert len(ds) == 10 and ds.metainfo == _Files.metainfo
    assert [ds[i]['idx'] for i in range(len(ds))] == list(chosen)
    assert ds.get_data_info(0)['img_path'] == f'/data/img_{chosen[0]:03d}.png'
    listed = (tmp_path / 'work' / 'label_subset.txt').read_text().split()
    assert listed == [f'/data/img_{i:03d}.png' for i in chosen]


def test_same_subset_in_separate_processes(rs_tiles, tmp_path):
    """Every rank of a distributed run builds the subset in its own process: it must not depend on
    anything process-specific (hash seeds, dict order, global RNG state)."""
    code = (
        'import sys, numpy, random, torch\n'
        'import grass_mm\n'
        'from mmseg.utils import register_all_modules\n'
        'register_all_modules(init_default_scope=True)\n'
        'random.seed(int(sys.argv[1])); numpy.random.seed(int(sys.argv[1])); torch.manual_seed(int(sys.argv[1]))\n'
        'from mmseg.registry import DATASETS\n'
        f'root = {osp.join(rs_tiles, "loveda")!r}\n'
        'ds = DATASETS.build(dict(type="LabelSubsetDataset", fraction=0.67, seed=5, dataset=dict(\n'
        '    type="LoveDADataset", data_root=root, data_prefix=dict(img_path="img_dir", seg_map_path="ann_dir"),\n'
        '    pipeline=[])))\n'
        'print("FILES", ds.files)\n'
    )
    outs = []
    for rank_seed, hashseed in ((0, '1'), (1, '2')):
        proc = subprocess.run(
            [sys.executable, '-c', code, str(rank_seed)],
            capture_output=True,
            text=True,
            env={**__import__('os').environ, 'PYTHONHASHSEED': hashseed},
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs.append([ln for ln in proc.stdout.splitlines() if ln.startswith('FILES')][0])
    assert outs[0] == outs[1] and outs[0].count('.png') == 2  # round(0.67 * 3) of the 3 LoveDA crops
