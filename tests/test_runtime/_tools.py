"""Helpers shared by tests: run the OpenMMLab entry points as a user would."""

import contextlib
import importlib.util
import os
import os.path as osp
import subprocess
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_tool(args, timeout=600, env=None, cwd=REPO_ROOT):
    """Run ``python tools/<args>`` from the repository root; returns CompletedProcess."""
    full_env = dict(os.environ)
    full_env.setdefault('PYTHONWARNINGS', 'ignore')
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable] + list(args), cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def load_tool(rel):
    """Import a script under the repository root (e.g. ``tools/quickstart.py``) as a module."""
    spec = importlib.util.spec_from_file_location(osp.splitext(osp.basename(rel))[0], osp.join(REPO_ROOT, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@contextlib.contextmanager
def memoised_config_lookups():
    """Parse many configs fast: remember what mmengine looks up for every ``mmseg::``/``mmpretrain::`` base.

    For each such base mmengine reloads ``pkg_resources`` (``is_installed``, ~30 ms) and re-reads all of the
    package's metafiles (``_get_cfg_metainfo``, ~0.1 s) although neither changes during a test session.
    """
    import mmengine.config.config as cfg_config
    import mmengine.config.utils as cfg_utils

    metainfo, installed, memo = cfg_utils._get_cfg_metainfo, cfg_config.is_installed, {}

    def memoised_metainfo(package_path, cfg_path):
        key = ('metainfo', package_path, cfg_path)
        if key not in memo:
            try:
                memo[key] = metainfo(package_path, cfg_path)
            except ValueError as err:  # a _base_ path: mmengine then falls back to the base folder
                memo[key] = err
        if isinstance(memo[key], ValueError):
            raise memo[key]
        return memo[key]

    def memoised_installed(package):
        key = ('installed', package)
        if key not in memo:
            memo[key] = installed(package)
        return memo[key]

    old = cfg_utils._get_cfg_metainfo, cfg_config.is_installed
    cfg_utils._get_cfg_metainfo, cfg_config.is_installed = memoised_metainfo, memoised_installed
    try:
        yield
    finally:
        cfg_utils._get_cfg_metainfo, cfg_config.is_installed = old
