"""A wheel built from the repository: configs and tools in ``grass_mm/.mim``, ``grass_mm::``, ``mim train/test``.

One wheel (``pip wheel --no-deps --no-build-isolation``, offline) is built from a copy of the sources, so that
the checkout's ``grass_mm/.mim`` links stay as they are, and installed into a fresh venv. That venv reaches the
dependencies (torch, mmengine, mmseg, mmpretrain, openmim) through a ``.pth`` line naming this environment's
site-packages: its ``grass_mm`` is the wheel's (found first), not this environment's editable install, whose
``.pth`` hook is not run there. (``venv --system-site-packages`` would expose the base interpreter's packages,
not this environment's.)
"""

import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from types import SimpleNamespace

import pytest

from ._user_config import REPO_ROOT, quickstart_fcn_config, write_user_config, write_vts

#: what the sdist of grass_mm holds, copied to build the wheel from
SOURCES = ('setup.py', 'README.md', 'LICENSE', 'model-index.yml', 'configs', 'tools', 'grass_mm')
IGNORED = shutil.ignore_patterns('.mim', '__pycache__', '*.pyc', '*.egg-info')


def run(cmd, cwd, timeout=600):
    """``cmd`` in ``cwd`` with this environment minus PYTHONPATH (it could name the checkout); checked."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{" ".join(map(str, cmd))} exited {proc.returncode}:\n{out[-4000:]}'
    return out


@pytest.fixture(scope='module')
def wheel_env(tmp_path_factory):
    """The wheel and a venv with it installed: ``SimpleNamespace(wheel, python, site, root)``."""
    for module in ('setuptools', 'wheel'):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f'pip wheel --no-build-isolation needs {module} in this environment (offline build)')
    root = tmp_path_factory.mktemp('wheel')
    src = root / 'src'
    src.mkdir()
    for name in SOURCES:
        path = osp.join(REPO_ROOT, name)
        if osp.isdir(path):
            shutil.copytree(path, src / name, ignore=IGNORED)
        else:
            shutil.copy(path, src / name)
    dist = root / 'dist'
    pip = [sys.executable, '-m', 'pip']
    run([*pip, 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '-w', dist, src], root)
    (wheel,) = dist.glob('grass_mm-*.whl')

    prefix = root / 'venv'
    venv.EnvBuilder(with_pip=False).create(prefix)
    site = sysconfig.get_path('purelib', vars={'base': str(prefix), 'platbase': str(prefix)})
    run([*pip, 'install', '--no-deps', '--no-index', '--target', site, wheel], root)
    with open(osp.join(site, 'project_dependencies.pth'), 'w') as f:
        f.write(sysconfig.get_path('purelib') + '\n')
    return SimpleNamespace(wheel=wheel, python=str(prefix / 'bin' / 'python'), site=site, root=root)


def test_wheel_carries_configs_and_tools(wheel_env):
    with zipfile.ZipFile(wheel_env.wheel) as zf:
        names = set(zf.namelist())
    for folder in ('configs', 'tools'):
        for base, dirs, files in os.walk(osp.join(REPO_ROOT, folder)):
            dirs[:] = [d for d in dirs if d != '__pycache__']
            for name in files:
                if not name.endswith('.pyc'):
                    rel = osp.relpath(osp.join(base, name), REPO_ROOT)
                    assert f'grass_mm/.mim/{rel}' in names, rel
    assert 'grass_mm/.mim/model-index.yml' in names


def test_wheel_resolves_grass_mm_configs(wheel_env, tmp_path):
    """In the venv: grass_mm, its package paths, mmengine's and mim's lookups are the wheel's; ``grass_mm::`` reads."""
    path = write_user_config(str(tmp_path), 'data/vts')
    code = f"""
import json, os.path as osp
import grass_mm
from grass_mm.runtime import read_config
from grass_mm.utils.package_paths import configs_root, tools_root
import mmengine.config.config as config_module
from mim.utils import get_installed_path
cfg = read_config({path!r})
print(json.dumps(dict(
    file=grass_mm.__file__, configs=configs_root(), tools=tools_root(),
    mmengine=config_module.get_installed_path('grass_mm'), mim=get_installed_path('grass_mm'),
    links=[osp.islink(osp.join(osp.dirname(grass_mm.__file__), '.mim', n)) for n in ('configs', 'tools')],
    dataset=cfg.train_dataloader.dataset.type, model=cfg.model.type, max_iters=cfg.train_cfg.max_iters)))
"""
    out = run([wheel_env.python, '-c', code], tmp_path)
    found = json.loads(out.strip().splitlines()[-1])
    package = osp.join(wheel_env.site, 'grass_mm')
    assert found['file'] == osp.join(package, '__init__.py')
    assert found['mmengine'] == found['mim'] == package
    assert found['configs'] == osp.join(package, '.mim', 'configs')
    assert found['tools'] == osp.join(package, '.mim', 'tools')
    assert found['links'] == [False, False]  # copies, not links to a checkout
    assert (found['dataset'], found['model'], found['max_iters']) == ('VTSSegDataset', 'EncoderDecoder', 2)


@pytest.fixture(scope='module')
def mim_trained(wheel_env):
    """``mim train grass_mm CONFIG`` in the venv: a user config inheriting ``grass_mm::``, 2 iterations on VTS."""
    user = wheel_env.root / 'user'
    user.mkdir()
    config = write_user_config(str(user), write_vts(str(user)))
    work_dir = user / 'work'
    cmd = [wheel_env.python, '-m', 'mim', 'train', 'grass_mm', config, '--work-dir', work_dir]
    return SimpleNamespace(out=run(cmd, user), config=config, work_dir=work_dir, user=user)


def test_mim_train_grass_mm(wheel_env, mim_trained):
    train_py = osp.join(wheel_env.site, 'grass_mm', '.mim', 'tools', 'train.py')
    assert f'Training command is {wheel_env.python} {train_py} {mim_trained.config}' in mim_trained.out
    assert 'Iter(train) [2/2]' in mim_trained.out
    assert (mim_trained.work_dir / 'iter_2.pth').is_file()


def test_mim_test_grass_mm(wheel_env, mim_trained):
    checkpoint = mim_trained.work_dir / 'iter_2.pth'
    cmd = [wheel_env.python, '-m', 'mim', 'test', 'grass_mm', mim_trained.config, '--checkpoint', checkpoint]
    out = run(cmd + ['--work-dir', mim_trained.user / 'test'], mim_trained.user)
    test_py = osp.join(wheel_env.site, 'grass_mm', '.mim', 'tools', 'test.py')
    assert f'Testing command is {wheel_env.python} {test_py} {mim_trained.config} {checkpoint}' in out
    assert 'Iter(test) [2/2]' in out and 'mIoU' in out


def test_quickstart_config_is_the_packaged_one(wheel_env):
    """The config that the user configs above inherit is in the wheel, byte for byte."""
    rel = quickstart_fcn_config()
    with zipfile.ZipFile(wheel_env.wheel) as zf:
        packaged = zf.read(f'grass_mm/.mim/configs/{rel}')
    with open(osp.join(REPO_ROOT, 'configs', rel), 'rb') as f:
        assert packaged == f.read()


def test_quickstart_data_preparation_from_the_wheel(wheel_env, tmp_path):
    """In the venv, without a checkout: the quickstart converts the Dubai demo tiles shipped in the wheel, and its
    steps would run the wheel's own ``tools/train.py``."""
    code = f"""
import json
from grass_mm.experiments.data import data_roots, split_images
from grass_mm.experiments.quickstart import quickstart_data
from grass_mm.experiments.settings import QuickstartSettings
from grass_mm.experiments.steps import tool_command
data = quickstart_data(QuickstartSettings(size=64), {str(tmp_path)!r})
print('RESULT', json.dumps(dict(
    train=len(split_images(data['seg'], 'train')), val=len(split_images(data['seg'], 'val')),
    roots=data_roots(data), train_py=tool_command('train.py')[1])))
"""
    out = run([wheel_env.python, '-c', code], tmp_path)
    # the converter's progress bar shares stdout and ends without a newline
    found = json.loads(out.split('RESULT ', 1)[1].splitlines()[0])
    # the demo's tiles 1-5 train, tile 6 (9 images) validates; converted into the work dir, not the package
    assert found['train'] > 0 and found['val'] == 9, found
    assert found['roots'] and all(r.startswith(str(tmp_path)) for r in found['roots'] if r), found
    assert found['train_py'] == osp.join(wheel_env.site, 'grass_mm', '.mim', 'tools', 'train.py')
