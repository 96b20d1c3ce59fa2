"""``grass_mm::`` configs from outside the repository, with this environment's (editable) install.

grass_mm's configs and tools are in ``grass_mm/.mim`` (links made by ``setup.py`` for ``pip install -e .``);
:mod:`grass_mm.utils.package_paths` finds them; :mod:`grass_mm.runtime.external_configs` lets mmengine
resolve ``grass_mm::`` and build what it inherits. The wheel is checked in ``test_wheel.py``.
"""

import os
import os.path as osp
import subprocess
import sys

import pytest
import yaml
from mmengine.config import Config, ConfigDict
from test_runtime._tools import run_forked

import grass_mm
from grass_mm.runtime import read_config
from grass_mm.runtime.external_configs import drop_package_scope, editable_aware
from grass_mm.utils import package_paths
from grass_mm.utils.package_paths import config_path, configs_root, tool_path, tools_root

from ._user_config import REPO_ROOT, quickstart_fcn_config, write_user_config, write_vts


def scope_marks(cfg, scope='grass_mm'):
    """How many dicts of ``cfg`` carry ``_scope_=scope``."""
    if isinstance(cfg, dict):
        own = int(cfg.get('_scope_') == scope)
        return own + sum(scope_marks(v, scope) for v in cfg.values())
    if isinstance(cfg, (list, tuple)):
        return sum(scope_marks(v, scope) for v in cfg)
    return 0


def test_package_paths_name_the_packaged_configs_and_tools():
    assert osp.realpath(configs_root()) == osp.realpath(osp.join(REPO_ROOT, 'configs'))
    assert osp.realpath(tools_root()) == osp.realpath(osp.join(REPO_ROOT, 'tools'))
    rel = quickstart_fcn_config()
    path = config_path(rel)
    assert osp.isfile(path) and path == osp.join(configs_root(), rel)
    assert config_path('grass_mm::' + rel) == path
    assert tool_path('train.py') == osp.join(tools_root(), 'train.py')
    with pytest.raises(FileNotFoundError, match='no_such_config'):
        config_path('quickstart/no_such_config.py')
    with pytest.raises(FileNotFoundError, match='no_such_tool'):
        tool_path('no_such_tool.py')


def test_package_paths_prefer_mim_and_fall_back_on_the_checkout(monkeypatch, tmp_path):
    mim = tmp_path / 'mim'
    (mim / 'configs').mkdir(parents=True)
    monkeypatch.setattr(package_paths, 'mim_root', lambda: str(mim))
    assert configs_root() == str(mim / 'configs')  # the installed copy first
    assert tools_root() == osp.join(REPO_ROOT, 'tools')  # not in this .mim: the checkout's
    monkeypatch.setattr(package_paths, 'mim_root', lambda: str(tmp_path / 'absent'))
    assert configs_root() == osp.join(REPO_ROOT, 'configs')
    monkeypatch.setattr(package_paths, 'PACKAGE_ROOT', str(tmp_path / 'site' / 'grass_mm'))
    with pytest.raises(FileNotFoundError, match='configs/ folder is missing'):
        configs_root()


def test_model_index_imports_every_metafile():
    with open(osp.join(REPO_ROOT, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    families = sorted(
        f'configs/{name}/metafile.yml'
        for name in os.listdir(osp.join(REPO_ROOT, 'configs'))
        if osp.isfile(osp.join(REPO_ROOT, 'configs', name, 'metafile.yml'))
    )
    assert sorted(imports) == families
    for metafile in imports:
        with open(osp.join(REPO_ROOT, metafile)) as f:
            models = yaml.safe_load(f)['Models']
        for model in models:
            # mmengine joins Config to <package>/.mim (hub.get_config) and drops 'configs/' (_get_cfg_metainfo)
            assert model['Config'].startswith('configs/'), (metafile, model['Name'])
            assert osp.isfile(config_path(model['Config'].partition('/')[2])), (metafile, model['Name'])


def test_mmengine_resolves_the_grass_mm_prefix():
    import mmengine.config.config as config_module
    from mmengine.config.utils import MODULE2PACKAGE, _get_package_and_cfg_path

    rel = quickstart_fcn_config()
    assert MODULE2PACKAGE['grass_mm'] == 'grass_mm'
    assert _get_package_and_cfg_path('grass_mm::' + rel) == ('grass_mm', rel)
    package_path = config_module.get_installed_path('grass_mm')
    assert osp.realpath(package_path) == osp.realpath(osp.dirname(grass_mm.__file__))
    assert osp.isfile(osp.join(package_path, '.mim', 'configs', rel)), (
        'grass_mm/.mim is missing: pip install -e . (setup.py links configs/, tools/ and model-index.yml there)'
    )


def test_editable_aware_keeps_real_paths_and_finds_the_imported_package(tmp_path):
    def site_packages_join(package):  # what mmengine computes for a PEP 660 editable install
        return str(tmp_path / package)

    fixed = editable_aware(site_packages_join)
    assert fixed('grass_mm') == osp.dirname(grass_mm.__file__)
    assert fixed('no_such_module_xyz') == str(tmp_path / 'no_such_module_xyz')
    (tmp_path / 'yaml').mkdir()
    assert fixed('yaml') == str(tmp_path / 'yaml')  # a folder that exists is kept
    assert editable_aware(fixed) is fixed


def test_drop_package_scope_removes_only_grass_mm_marks():
    cfg = ConfigDict(
        model=dict(_scope_='mmseg', type='EncoderDecoder', backbone=dict(_scope_='grass_mm', type='ResNet')),
        pipeline=[dict(_scope_='grass_mm', type='LoadImageFromFile'), (dict(_scope_='grass_mm', type='X'),)],
        norm_cfg=dict(type='BN'),
    )
    assert drop_package_scope(cfg) == 3
    assert cfg.model._scope_ == 'mmseg'
    assert scope_marks(cfg) == 0 and cfg.pipeline[0] == dict(type='LoadImageFromFile')


def test_read_config_builds_grass_mm_bases_in_the_default_scope(tmp_path):
    path = write_user_config(str(tmp_path), 'data/vts')
    raw = Config.fromfile(path)
    assert scope_marks(raw.to_dict()) > 0  # mmengine marks what a grass_mm:: base defines
    cfg = read_config(path)
    assert scope_marks(cfg.to_dict()) == 0
    assert cfg.default_scope == 'mmseg'
    assert cfg.train_dataloader.dataset.type == 'VTSSegDataset'
    assert cfg.train_dataloader.dataset.data_root == 'data/vts'
    assert cfg.train_cfg.max_iters == 2


def test_user_config_outside_the_repository_trains(tmp_path):
    data_root = write_vts(str(tmp_path))
    path = write_user_config(str(tmp_path), data_root)
    work_dir = tmp_path / 'work'
    proc = run_forked([tool_path('train.py'), path, '--work-dir', str(work_dir)], cwd=str(tmp_path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'Iter(train) [2/2]' in out
    assert (work_dir / 'iter_2.pth').is_file()


def test_mim_finds_an_editable_checkout_on_pythonpath():
    """mim does not import grass_mm: for ``pip install -e .`` it finds ``.mim`` with the checkout on PYTHONPATH."""
    if osp.dirname(osp.dirname(osp.realpath(grass_mm.__file__))) != osp.realpath(REPO_ROOT):
        pytest.skip('grass_mm is not installed in editable mode from this checkout')
    if not osp.isdir(osp.join(REPO_ROOT, 'grass_mm.egg-info')):
        pytest.skip('no grass_mm.egg-info in the checkout (pip install -e . writes it)')
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, PYTHONWARNINGS='ignore')
    code = "from mim.utils import get_installed_path; print(get_installed_path('grass_mm'))"
    proc = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    package_path = proc.stdout.strip().splitlines()[-1]
    assert osp.isfile(osp.join(package_path, '.mim', 'tools', 'train.py'))
    assert osp.isfile(osp.join(package_path, '.mim', 'tools', 'test.py'))
