"""Helpers of the dataset tests."""

import functools

from test_runtime._tools import REPO_ROOT  # noqa: F401 (REPO_ROOT re-exported)
from test_runtime._tools import run_tool as _run_tool

#: ``python <args>`` from the repository root as a user would (dataset tools: 300 s at most)
run_tool = functools.partial(_run_tool, timeout=300)


def build_pretrain_dataset(cfg):
    """Build an mmpretrain dataset whatever the process-wide default scope is."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(cfg)


def build_seg_dataset(cfg):
    """Build an mmseg dataset whatever the process-wide default scope is."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS

    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)
