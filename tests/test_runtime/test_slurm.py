"""tools/slurm_train.sh and tools/slurm_test.sh against a stub ``srun`` on PATH (no Slurm here).

The stub records its arguments and the environment the task would inherit; the tests check the
exact ``srun`` command line (OpenMMLab's form) and that the Python command it runs is the repository's
``tools/train.py`` / ``tools/test.py`` with the user's arguments intact.
"""

import os
import os.path as osp
import stat
import subprocess

import pytest

from ._tools import REPO_ROOT

STUB = """#!/usr/bin/env bash
printf '%s\\0' "$@" > "$SRUN_STUB_OUT/argv"
printf 'PYTHONPATH=%s\\0MASTER_PORT=%s\\0' "$PYTHONPATH" "$MASTER_PORT" > "$SRUN_STUB_OUT/env"
exit "${SRUN_STUB_RC:-0}"
"""


@pytest.fixture
def slurm(tmp_path):
    """Run a slurm script with a stub srun first on PATH; returns (proc, argv list, env dict)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(STUB)
    srun.chmod(srun.stat().st_mode | stat.S_IXUSR)

    def run(script, args, **env_vars):
        out = tmp_path / 'out'
        out.mkdir(exist_ok=True)
        for f in out.iterdir():
            f.unlink()
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS', 'PYTHON', 'MASTER_PORT')
        }
        env.update(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', SRUN_STUB_OUT=str(out), PYTHONPATH='/user/site')
        env.update(env_vars)
        proc = subprocess.run(
            ['bash', f'tools/{script}'] + list(args), cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        argv = (out / 'argv').read_text().split('\0')[:-1] if (out / 'argv').exists() else None
        seen = (
            dict(kv.split('=', 1) for kv in (out / 'env').read_text().split('\0')[:-1])
            if (out / 'env').exists()
            else None
        )
        return proc, argv, seen

    return run


def _split_at_python(argv, python):
    i = argv.index(python)
    return argv[:i], argv[i:]


def test_slurm_train_command_line_and_environment(slurm):
    proc, argv, env = slurm(
        'slurm_train.sh',
        [
            'gpu_part',
            'grass_r50',
            'configs/grass/grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py',
            'work_dirs/g r50',
            '--resume',
            '--cfg-options',
            'train_cfg.max_epochs=10',
            'model.threshold=0.4',
        ],
        GPUS='16',
        GPUS_PER_NODE='8',
        CPUS_PER_TASK='6',
        SRUN_ARGS='--qos=high --time=2-00:00:00',
        MASTER_PORT='29600',
    )
    assert proc.returncode == 0, proc.stderr
    srun_args, py = _split_at_python(argv, 'python')
    assert srun_args == [
        '-p',
        'gpu_part',
        '--job-name=grass_r50',
        '--gres=gpu:8',
        '--ntasks=16',
        '--ntasks-per-node=8',
        '--cpus-per-task=6',
        '--kill-on-bad-exit=1',
        '--qos=high',
        '--time=2-00:00:00',
    ]
    assert py[:3] == ['python', '-u', 'tools/train.py'] and osp.isfile(osp.join(REPO_ROOT, py[2]))
    # user arguments arrive unsplit and in order, after the launcher
    assert py[3:] == [
        'configs/grass/grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py',
        '--work-dir=work_dirs/g r50',
        '--launcher=slurm',
        '--resume',
        '--cfg-options',
        'train_cfg.max_epochs=10',
        'model.threshold=0.4',
    ]
    # the repository goes first on PYTHONPATH (grass_mm importable without installing), the user's stays
    first, rest = env['PYTHONPATH'].split(os.pathsep, 1)
    assert osp.samefile(osp.join(REPO_ROOT, first), REPO_ROOT) and rest == '/user/site'
    assert env['MASTER_PORT'] == '29600'  # the task environment is passed through to mmengine's launcher


def test_slurm_test_defaults_and_single_node(slurm):
    proc, argv, _ = slurm(
        'slurm_test.sh',
        ['p1', 'eval', 'cfg.py', 'work_dirs/x/iter_40000.pth', '--show-dir', 'show'],
        PYTHON='/opt/py/bin/python3',
    )
    assert proc.returncode == 0, proc.stderr
    srun_args, py = _split_at_python(argv, '/opt/py/bin/python3')
    # OpenMMLab defaults: 8 GPUs on one node, 5 CPUs per task, no extra srun arguments
    assert srun_args == [
        '-p',
        'p1',
        '--job-name=eval',
        '--gres=gpu:8',
        '--ntasks=8',
        '--ntasks-per-node=8',
        '--cpus-per-task=5',
        '--kill-on-bad-exit=1',
    ]
    assert py == [
        '/opt/py/bin/python3',
        '-u',
        'tools/test.py',
        'cfg.py',
        'work_dirs/x/iter_40000.pth',
        '--launcher=slurm',
        '--show-dir',
        'show',
    ]
    # fewer GPUs than a node holds: request only those
    proc, argv, _ = slurm('slurm_test.sh', ['p1', 'eval', 'cfg.py', 'c.pth'], GPUS='2')
    assert '--gres=gpu:2' in argv and '--ntasks=2' in argv and '--ntasks-per-node=2' in argv


@pytest.mark.parametrize('script', ['slurm_train.sh', 'slurm_test.sh'])
def test_missing_arguments_give_usage_and_no_job(slurm, script):
    proc, argv, _ = slurm(script, ['p', 'job', 'cfg.py'])
    assert proc.returncode == 2 and argv is None
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and 'usage:' in proc.stderr


def test_srun_failure_is_the_exit_status(slurm):
    proc, argv, _ = slurm('slurm_train.sh', ['p', 'job', 'cfg.py', 'wd'], SRUN_STUB_RC='3')
    assert argv is not None and proc.returncode == 3
