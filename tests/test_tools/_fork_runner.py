"""Run many tool commands as child processes of one warm interpreter (used by test_bad_input.py).

    python tests/test_tools/_fork_runner.py JOBS.json RESULTS.json

Each command of JOBS.json (``[{"id", "argv", "cwd"}]``, ``argv[0]`` a script under ``tools/``) runs in
its own process, forked after torch, mmcv, mmseg, mmpretrain and grass_mm were imported once: the
script runs as ``__main__`` with its own ``sys.argv``, stdout, stderr and exit code, as from a shell,
but without the ~6 s interpreter start-up each. RESULTS.json gets ``{id: {"rc", "stdout", "stderr"}}``.
Import-time behaviour (warnings printed while the packages load) is not seen here; the test runs a
few commands in fresh interpreters for that.
"""

import json
import os
import os.path as osp
import runpy
import signal
import sys
import tempfile
import traceback

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TIMEOUT_S = 180


def warm_up() -> None:
    """Import what the tools import, and fill grass_mm's registry cache, before forking."""
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools'))
    import matplotlib

    import _cli  # noqa: F401  (the tools' start-up: warning filters)

    matplotlib.use('Agg')
    import matplotlib.pyplot  # noqa: F401
    import mmengine.runner  # noqa: F401
    import torchvision.transforms  # noqa: F401

    import grass_mm  # noqa: F401
    from grass_mm.runtime.config_check import _registries

    _registries()
    sys.path.pop(0)


def run_child(argv, cwd, out_path, err_path) -> None:
    """In the forked child: point fds 1 and 2 at files, run the script as __main__, exit with its code."""
    for fd, path in ((1, out_path), (2, err_path)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(handle, fd)
        os.close(handle)
    signal.alarm(TIMEOUT_S)
    code = 0
    try:
        os.chdir(cwd)
        sys.argv = list(argv)
        sys.path.insert(0, osp.dirname(osp.abspath(argv[0])))
        runpy.run_path(argv[0], run_name='__main__')
    except SystemExit as err:  # what the interpreter does with it
        if isinstance(err.code, int) or err.code is None:
            code = err.code or 0
        else:
            print(err.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001  (an uncaught error: the traceback, as the interpreter prints it)
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(jobs_path, results_path) -> None:
    with open(jobs_path) as f:
        jobs = json.load(f)
    warm_up()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for job in jobs:
            out_path, err_path = osp.join(tmp, 'out'), osp.join(tmp, 'err')
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                run_child(job['argv'], job['cwd'], out_path, err_path)
            _, status = os.waitpid(pid, 0)
            with open(out_path, errors='replace') as f_out, open(err_path, errors='replace') as f_err:
                out, err = f_out.read(), f_err.read()
            results[job['id']] = dict(rc=os.waitstatus_to_exitcode(status), stdout=out, stderr=err)
    with open(results_path, 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    main(*sys.argv[1:3])
