"""Helpers of the dataset tests."""
import os
import os.path as osp
import subprocess
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_tool(args, timeout=300):
    """Run ``python <args>`` from the repository root as a user would."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    return subprocess.run([sys.executable] + list(args), cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


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
