"""Run many tool commands as child processes of one warm interpreter (used by test_bad_input.py).

    python tests/test_tools/_fork_runner.py JOBS.json RESULTS.json

Each command of JOBS.json (``[{"id", "argv", "cwd"}]``, ``argv[0]`` a script under ``tools/``) runs in
its own process, forked after torch, mmcv, mmseg, mmpretrain and grass_mm were imported once: the
script runs as ``__main__`` with its own ``sys.argv``, stdout, stderr and exit code, as from a shell,
but without the ~6 s interpreter start-up each (``test_runtime._tools.run_forked``). RESULTS.json gets
``{id: {"rc", "stdout", "stderr"}}``.
Import-time behaviour (warnings printed while the packages load) is not seen here; the test runs a
few commands in fresh interpreters for that.
"""

import json
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tests/: the shared test helpers
from test_runtime._tools import run_forked  # noqa: E402


def warm_up() -> None:
    """Import what the tools import, and fill grass_mm's registry cache, before forking."""
    import matplotlib

    import grass_mm.utils.cli  # noqa: F401  (the tools' start-up: warning filters)

    matplotlib.use('Agg')
    import matplotlib.pyplot  # noqa: F401
    import mmengine.runner  # noqa: F401
    import torchvision.transforms  # noqa: F401

    import grass_mm  # noqa: F401
    from grass_mm.runtime.config_check import _registries

    _registries()


def main(jobs_path, results_path) -> None:
    with open(jobs_path) as f:
        jobs = json.load(f)
    warm_up()
    results = {}
    for job in jobs:
        proc = run_forked(job['argv'], cwd=job['cwd'])
        results[job['id']] = dict(rc=proc.returncode, stdout=proc.stdout, stderr=proc.stderr)
    with open(results_path, 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    main(*sys.argv[1:3])
