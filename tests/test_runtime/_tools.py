"""Helpers shared by tests (the one place for them): run or import the tools under ``tools/`` as a user
would, and run the experiment runner's steps in forks of a warm interpreter.

* :func:`run_tool`: ``python tools/...`` in a fresh interpreter (``fork_steps=True``: the runner's steps are
  forks of that interpreter instead of fresh ones);
* :func:`load_tool`: a script imported as a module (its functions, without running ``__main__``);
* :class:`ForkPopen`: ``subprocess.Popen`` for ``[python, SCRIPT, *args]`` that forks this interpreter and runs
  SCRIPT as ``__main__``: the same script, arguments, environment, output and exit code, without the ~10 s
  start-up of torch, mmseg and mmpretrain (``grass_mm.experiments.steps.Steps.popen`` takes it);
* :func:`forked_steps`: the runner's steps as :class:`ForkPopen` inside a ``with`` block.
"""

import contextlib
import importlib.util
import io
import os
import os.path as osp
import runpy
import signal
import subprocess
import sys
import traceback

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TESTS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: a forked step that runs longer is killed (it would otherwise hold the test until pytest's timeout)
FORK_TIMEOUT_S = 600
#: ``python -c BOOT SCRIPT ARGS...``: SCRIPT as ``__main__``, the runner's steps forked (see :func:`run_tool`)
_FORK_STEPS_BOOT = (
    'import os.path as osp, runpy, sys\n'
    f'sys.path.insert(0, {TESTS_DIR!r})\n'
    'from test_runtime._tools import forked_steps\n'
    'forked_steps().__enter__()\n'
    'sys.argv = sys.argv[1:]\n'
    'sys.path.insert(0, osp.dirname(osp.abspath(sys.argv[0])))\n'
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def run_tool(args, timeout=600, env=None, cwd=REPO_ROOT, fork_steps=False):
    """Run ``python tools/<args>`` from the repository root; returns CompletedProcess.

    ``fork_steps``: the script runs as ``__main__`` in a fresh interpreter as well, but the experiment runner's
    steps (``tools/train.py ...``) are forks of it (:class:`ForkPopen`) rather than fresh interpreters.
    """
    full_env = dict(os.environ)
    full_env.setdefault('PYTHONWARNINGS', 'ignore')
    if env:
        full_env.update(env)
    boot = ['-c', _FORK_STEPS_BOOT] if fork_steps else []
    return subprocess.run(
        [sys.executable, *boot] + list(args), cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def load_tool(rel):
    """Import a script under the repository root (e.g. ``tools/analysis/dar_purity.py``) as a module (its folder
    on ``sys.path`` while it loads, as when it runs)."""
    path = osp.join(REPO_ROOT, rel)
    spec = importlib.util.spec_from_file_location(osp.splitext(osp.basename(rel))[0], path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, osp.dirname(path))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(osp.dirname(path))
    return mod


def _exit_code(err: SystemExit) -> int:
    if err.code is None or isinstance(err.code, int):
        return err.code or 0
    print(err.code, file=sys.stderr)  # what the interpreter does with sys.exit('message')
    return 1


def _forget_mmengine_instances() -> None:
    """Start the child without the named mmengine instances this interpreter made (loggers, visualizers, message
    hubs, default scopes), as a fresh interpreter would: an earlier test's Runner made, e.g., mmseg's visualizer
    ``'visualizer'``, which a new Runner would otherwise reuse with the earlier run's folder."""
    from mmengine.utils import ManagerMixin

    classes, todo = [], [ManagerMixin]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo += cls.__subclasses__()
    for cls in classes:
        if isinstance(cls.__dict__.get('_instance_dict'), dict):
            cls._instance_dict.clear()


def _run_forked_child(cmd, env, cwd, out_fd, err_fd) -> None:
    """In the forked child: fds 1 and 2 -> ``out_fd`` and ``err_fd``, one thread, ``cmd[1]`` as ``__main__``;
    never returns."""
    code = 1
    try:
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.close(out_fd)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, 'w', closefd=False), line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, 'w', closefd=False), line_buffering=True)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(FORK_TIMEOUT_S)
        import torch

        # GNU OpenMP's thread pool does not survive a fork: a child that entered a parallel region with the
        # parent's threads would wait for them forever; one thread never enters one (as in DataLoader workers)
        torch.set_num_threads(1)
        _forget_mmengine_instances()
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        script = cmd[1]
        sys.argv = [script, *cmd[2:]]
        sys.path.insert(0, osp.dirname(osp.abspath(script)))
        runpy.run_path(script, run_name='__main__')
        code = 0
    except SystemExit as err:
        code = _exit_code(err)
    except BaseException:  # noqa: BLE001  (an uncaught error: the traceback, as the interpreter prints it)
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


class ForkPopen:
    """``subprocess.Popen(cmd, env=, stdout=PIPE, stderr=STDOUT, text=True)`` for ``cmd = [python, SCRIPT, *args]``:
    SCRIPT runs as ``__main__`` in a fork of this interpreter (its imports done already); ``stdout`` yields its
    output lines (stdout and stderr), :meth:`wait` returns its exit code."""

    def __init__(self, cmd, env=None, cwd=None, stderr=subprocess.STDOUT, **_):
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover  (the child)
            os.close(read)
            err = write if stderr == subprocess.STDOUT else stderr.fileno()
            _run_forked_child(list(cmd), env, cwd, write, err)
        os.close(write)
        self.pid, self.args, self.returncode = pid, list(cmd), None
        self.stdout = io.TextIOWrapper(io.FileIO(read, 'r'), errors='replace')

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
            self.stdout.close()
        return self.returncode


_FORMATTED = {}


def _memoised(format_code):
    """yapf's ``FormatCode`` remembering its results (a pure function of its arguments) for the session."""
    memo = _FORMATTED

    def format_once(text, style_config=None, **kwargs):
        key = (text, repr(style_config), repr(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = format_code(text, style_config=style_config, **kwargs)
        return memo[key]

    format_once.memo = memo
    return format_once


@contextlib.contextmanager
def forked_steps():
    """Inside the block, the experiment runner's steps run as :class:`ForkPopen` (a fork of this interpreter).

    mmengine formats a config with yapf (~1-3 s) each time it writes or logs it: the runner when it writes a
    step's config, the step's Runner three times (log, ``dump_config``, checkpoint meta) on the same text. The
    results are remembered here (and in the forks), so a text is formatted once; nothing else changes.
    """
    import mmengine.config.config as mmengine_config

    from grass_mm.experiments.steps import Steps

    old = Steps.popen, mmengine_config.FormatCode
    Steps.popen = staticmethod(ForkPopen)
    if not hasattr(old[1], 'memo'):
        mmengine_config.FormatCode = _memoised(old[1])
    try:
        yield
    finally:
        Steps.popen, mmengine_config.FormatCode = old


def run_forked(args, cwd=REPO_ROOT):
    """``python <args>`` (a script under ``tools/`` and its flags) in a fork of this interpreter, as
    :func:`run_tool` runs it in a fresh one (without its start-up); returns ``CompletedProcess``."""
    import tempfile

    with tempfile.TemporaryFile('w+') as err:
        proc = ForkPopen([sys.executable, *args], cwd=cwd, stderr=err)
        out = proc.stdout.read()
        code = proc.wait()
        err.seek(0)
        return subprocess.CompletedProcess(list(args), code, out, err.read())


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
