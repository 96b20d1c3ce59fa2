"""Every command README.md gives names a script and configs that exist, uses only flags the
script accepts, and the script is run by some test or by .ci/run."""

import functools
import glob
import os.path as osp
import re
import shlex

import pytest
from test_runtime._tools import run_tool

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = re.compile(r'^(?:tools|benchmarks)/[\w/]+\.(?:py|sh)$')


def readme_commands():
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        text = f.read()
    cmds = []
    for block in re.findall(r'```bash\n(.*?)```', text, flags=re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            line = line.split(' #')[0].strip()
            if line and not line.startswith('#'):
                cmds.append(line)
    cmds += re.findall(r'`((?:\.venv/bin/)?(?:python|bash) tools/[^`]+)`', text)
    return cmds


def script_of(cmd):
    tokens = shlex.split(cmd.replace('[', ' ').replace(']', ' '))
    return next((t for t in tokens if SCRIPT.match(t)), None), tokens


COMMANDS = [c for c in readme_commands() if script_of(c)[0]]


@functools.lru_cache(maxsize=None)
def help_text(script):
    proc = run_tool([script, '--help'], timeout=300)
    assert proc.returncode == 0, f'{script} --help failed:\n{proc.stderr[-2000:]}'
    return proc.stdout


def test_readme_has_the_main_commands():
    scripts = {script_of(c)[0] for c in COMMANDS}
    for s in (
        'tools/install.sh',
        'tools/quickstart.py',
        'tools/train.py',
        'tools/test.py',
        'tools/dist_train.sh',
        'tools/analysis/benchmark_table.py',
    ):
        assert s in scripts, s
    with open(osp.join(REPO_ROOT, '.ci', 'run')) as f:
        ci = f.read()
    test_cmd = '.venv/bin/python -m pytest -q tests'
    assert test_cmd in readme_commands() and test_cmd in ci


@pytest.mark.parametrize('cmd', COMMANDS)
def test_readme_command(cmd):
    script, tokens = script_of(cmd)
    assert osp.isfile(osp.join(REPO_ROOT, script)), f'{script} (README: {cmd})'
    for t in tokens:
        if t.startswith('configs/'):
            assert osp.isfile(osp.join(REPO_ROOT, t)), f'{t} (README: {cmd})'
    if script.endswith('.py'):
        helptext = help_text(script)
        for t in tokens:
            flag = t.split('=')[0]
            if flag.startswith('--'):
                assert flag in helptext, f'{script} has no {flag} (README: {cmd})'
    # the script is run by a test or by .ci/run
    callers = glob.glob(osp.join(REPO_ROOT, 'tests', '**', '*.py'), recursive=True)
    callers.append(osp.join(REPO_ROOT, '.ci', 'run'))
    me = osp.abspath(__file__)
    used = any(
        script in open(p).read() or osp.basename(script) in open(p).read() for p in callers if osp.abspath(p) != me
    )
    assert used, f'no test runs {script} (README: {cmd})'
