"""Helpers shared by tests: run the OpenMMLab entry points as a user would."""

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
