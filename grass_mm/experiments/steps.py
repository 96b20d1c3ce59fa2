"""The steps of a study: ordinary tool commands (``tools/train.py CONFIG --work-dir DIR``, ...) run in
subprocesses, their progress shown, their command lines recorded in ``WORK_DIR/commands.sh``, their logs
in ``<run>/stdout.log``; and what a finished run left behind (its checkpoint, metrics, logged losses).

Nothing here re-implements training: every step is a command a user can rerun by hand.
"""

import glob
import json
import os
import os.path as osp
import re
import shlex
import site
import subprocess
import sys
import time
from typing import List, Optional, Sequence

from .paths import entry_point
from .settings import SweepError


def tool_command(name: str, *args: str) -> List[str]:
    """``[python, <grass_mm's tools/NAME>, *args]``: an entry point of the installed package (or checkout)."""
    try:
        return [sys.executable, entry_point(name), *args]
    except FileNotFoundError as err:
        raise SweepError(str(err)) from None


def step_env(device: str) -> dict:
    """The environment of a step: ``cpu`` hides the GPUs; the step imports the grass_mm this process runs."""
    import grass_mm

    env = dict(os.environ)
    if device == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    home = osp.dirname(osp.dirname(osp.abspath(grass_mm.__file__)))
    sites = getattr(site, 'getsitepackages', list)() + [site.getusersitepackages()]
    installed = {osp.abspath(p) for p in sites}
    if home not in installed:  # a checkout (PYTHONPATH=$PWD or an editable install): the same one
        env['PYTHONPATH'] = os.pathsep.join(filter(None, [home, env.get('PYTHONPATH')]))
    return env


class Steps:
    """Runs ordinary tool commands in subprocesses, shows their progress, records them."""

    LOG = re.compile(r' - mmengine - \w+ - (.*)$')
    KEEP = re.compile(
        r'^(Iter\(\w+\) \[\s*\d+/\d+\]\s+(?:lr: \S+\s+)?(?:eta: \S+)?)(?:.*?(loss: \S+))?'
        r'|^(Saving checkpoint.*)$'
    )
    METRICS = re.compile(r'^Iter\(\w+\) .*mIoU.*$')
    #: how a step's command starts: ``popen(cmd, env=, stdout=, stderr=, text=, bufsize=)``, an object with a
    #: line iterator ``stdout`` and ``wait()`` (a fresh interpreter; tests substitute a fork of a warm one)
    popen = staticmethod(subprocess.Popen)

    def __init__(self, work_dir: str, device: str, total: int, quiet: bool = False):
        self.work_dir, self.total, self.done, self.quiet = work_dir, total, 0, quiet
        self.env = step_env(device)
        self.commands = osp.join(work_dir, 'commands.sh')
        if not osp.isfile(self.commands):
            with open(self.commands, 'w') as f:
                f.write(
                    '#!/usr/bin/env bash\n# The commands that were run, in order.\n'
                    f'set -e\ncd {shlex.quote(os.getcwd())}\n'
                )
        self.start = time.time()
        self.timed = {}  # kind -> [seconds of each executed step]

    def progress(self, text: str) -> Optional[str]:
        """The part of an mmengine log line worth showing (ETA, loss, metrics), or None."""
        m = self.LOG.search(text.rstrip())
        if not m:
            return None
        if self.METRICS.match(m.group(1)):  # the evaluation's line: all of it
            return m.group(1).strip()
        k = self.KEEP.match(m.group(1))
        if not k:
            return None
        if k.group(1):
            return ' '.join(filter(None, (k.group(1).strip(), k.group(2))))
        return k.group(3).strip()

    def eta(self, remaining_kinds: Sequence[str]) -> Optional[float]:
        """Seconds left: each remaining step costs the mean of the executed steps of its kind."""
        if not self.timed:
            return None
        every = [t for ts in self.timed.values() for t in ts]
        mean_all = sum(every) / len(every)
        return sum(sum(self.timed[k]) / len(self.timed[k]) if k in self.timed else mean_all for k in remaining_kinds)

    def skip(self, title: str, why: str = 'finished earlier, skipped') -> None:
        self.done += 1
        print(f'[{self.done}/{self.total}] {title}: {why}', flush=True)

    def run(self, title: str, cmd: Sequence[str], log: str, kind: str = 'step', remaining: Sequence[str] = ()) -> None:
        """Run ``cmd`` (``[python, script, ...]``), its output into ``log``.

        Raises:
            SweepError: the command failed (its last lines and the log's path).
        """
        self.done += 1
        eta = self.eta([kind] + list(remaining))
        eta_s = '' if eta is None else f', ETA {time.strftime("%H:%M:%S", time.gmtime(eta))}'
        print(f'\n[{self.done}/{self.total}] {title}  ({time.time() - self.start:.0f} s so far{eta_s})', flush=True)
        cwd = os.getcwd()
        rel = [osp.relpath(c, cwd) if osp.isabs(c) and c.startswith(cwd + os.sep) else c for c in cmd]
        line = ' '.join(['python'] + [shlex.quote(c) for c in rel[1:]])
        print(f'    $ {line}', flush=True)
        with open(self.commands, 'a') as f:
            f.write(line + '\n')
        os.makedirs(osp.dirname(log), exist_ok=True)
        t0 = time.time()
        with open(log, 'w') as out:
            proc = self.popen(
                list(cmd), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
            )
            tail = []
            for text in proc.stdout:
                out.write(text)
                tail = (tail + [text])[-30:]
                shown = None if self.quiet else self.progress(text)
                if shown:
                    print('    ' + shown, flush=True)
            rc = proc.wait()
        if rc:
            raise SweepError(f'step "{title}" failed (exit {rc}); full output in {log}; last lines:\n' + ''.join(tail))
        self.timed.setdefault(kind, []).append(time.time() - t0)

    def train(self, title: str, config: str, work_dir: str, kind: str, remaining: Sequence[str] = ()) -> None:
        """``tools/train.py CONFIG --work-dir WORK_DIR`` (output in ``WORK_DIR/stdout.log``)."""
        cmd = tool_command('train.py', config, '--work-dir', work_dir)
        self.run(title, cmd, osp.join(work_dir, 'stdout.log'), kind, remaining)


# ----------------------------------------------------------------------------- finished runs
def last_checkpoint(work_dir: str) -> str:
    """The checkpoint mmengine's ``last_checkpoint`` file names.

    Raises:
        SweepError: the run wrote none.
    """
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        raise SweepError(f'{work_dir}: the run wrote no checkpoint (no last_checkpoint file)')
    with open(path) as f:
        ckpt = f.read().strip()
    return osp.abspath(ckpt)


def finished_checkpoint(work_dir: str, iters: int) -> Optional[str]:
    """The final checkpoint of a finished run, or None."""
    ckpt = osp.join(work_dir, f'iter_{iters}.pth')
    return osp.abspath(ckpt) if osp.isfile(ckpt) else None


def finished_metrics(work_dir: str, iters: int) -> Optional[dict]:
    """The metrics of a finished run (its evaluation after ``iters`` iterations, or a tools/test.py result),
    else None."""
    from grass_mm.analysis import ResultsNotFoundError, read_metrics

    if not finished_checkpoint(work_dir, iters):
        return None
    try:
        return read_metrics(work_dir)[0]
    except (ResultsNotFoundError, ValueError):
        return None


def has_result(work_dir: str, iters: int) -> bool:
    """True when the run finished (see :func:`finished_metrics`)."""
    return finished_metrics(work_dir, iters) is not None


def logged_losses(work_dir: str) -> List[float]:
    """The training losses a run logged (mmengine's ``<timestamp>/vis_data/scalars.json``), in order."""
    losses = []
    for scalars in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(scalars) as f:
            losses += [json.loads(line)['loss'] for line in f if '"loss"' in line]
    return losses
