"""Every file the experiment runner takes from the package, in one place.

Configs are named by their path relative to grass_mm's configs folder (what follows ``grass_mm::``), as
plain strings, so that a config rename finds them here; :func:`packaged_config` and :func:`entry_point`
turn them into files through :mod:`grass_mm.utils.package_paths`, which works from a checkout and from an
installed wheel alike (``grass_mm/.mim``).
"""

import os.path as osp

from grass_mm.utils.package_paths import PACKAGE_ROOT, config_path, tool_path

#: the pretraining config of each built-in method (the sweep sets data, depth, batch and iterations)
BUILTIN_PRETRAIN = {
    'SimCLR': 'quickstart/simclr_resnet18_1xb16-coslr-200it_tiles-vts-64px.py',
    'GraSS': 'quickstart/grass_resnet18_1xb16-coslr-200it_tiles-vts-64px.py',
}
#: the fine-tuning config of each decoder (the sweep sets data, depth, classes and budget)
FINETUNE_CONFIGS = {
    'fcn': 'quickstart/fcn_r18_1xb4-150it_vts-128x128.py',
    'upernet': 'quickstart/upernet_r18_1xb4-150it_vts-128x128.py',
}
#: the dataset keys of the Dubai aerial data (converted layout) and of the VTS files the quickstart writes
DUBAI_DATASET = '_base_/datasets/dubai.py'
VTS_DATASET = '_base_/datasets/vts_files.py'
#: the noisy-pair study: a pretraining config per method, an evaluation config per protocol
NOISY_PAIRS_PRETRAIN = {
    'mocov2': 'noisy_pairs/mocov2_resnet50_8xb32-coslr-350e_vts-pairs.py',
    'densecl': 'noisy_pairs/densecl_resnet50_8xb32-coslr-350e_vts-pairs.py',
    'pixel-pair': 'noisy_pairs/pixel-pair_resnet50_8xb32-coslr-350e_vts-pairs.py',
    'grass': 'noisy_pairs/grass_resnet50_8xb32-coslr-350e_vts-pairs.py',
}
NOISY_PAIRS_EVAL = {
    'frozen': 'noisy_pairs/fcn_r50-pixel-pair-pre_1xb8-frozen-4k_vts-256x256.py',
    'finetune': 'noisy_pairs/fcn_r50-pixel-pair-pre_1xb8-4k_vts-256x256.py',
}
#: the CC0 Dubai aerial tiles shipped with the package (package data), the default data of the sweep
DEMO_DATA = osp.join(PACKAGE_ROOT, 'demo', 'dubai_aerial')


def packaged_config(rel: str) -> str:
    """The file of grass_mm config ``rel`` (e.g. ``'quickstart/grass_resnet18_1xb16-coslr-200it_tiles-vts-64px.py'``),
    links resolved.

    Raises:
        FileNotFoundError: the package has no such config.
    """
    return osp.realpath(config_path(rel))


def entry_point(name: str) -> str:
    """The file of grass_mm's OpenMMLab entry point ``name`` (``'train.py'``, ``'visualize_lam.py'``), links
    resolved: the commands the runner writes name the checkout's ``tools/`` in a checkout, the installed copy
    otherwise.

    Raises:
        FileNotFoundError: the package has no such tool.
    """
    return osp.realpath(tool_path(name))
