"""Helpers shared by tests: run the OpenMMLab entry points as a user would."""

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
