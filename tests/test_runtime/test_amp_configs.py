"""Mixed-precision configs of the pretraining families: each is its parent with mmengine's AmpOptimWrapper only;
every config of the families issue 23 added to is in its metafile and README table."""

import glob
import os.path as osp
import re

import pytest
import yaml

from ._merged_configs import merged
from ._tools import REPO_ROOT, memoised_config_lookups

CONFIGS = osp.join(REPO_ROOT, 'configs')
PARENTS = {
    'grass': 'grass_resnet50_8xb32-coslr-350e_tiles-potsdam',
    'baselines': 'simclr_resnet50_8xb32-coslr-350e_tiles-potsdam',
    'noisy_pairs': 'pixel-pair_resnet50_8xb32-coslr-350e_vts-pairs',
}
AMP = {'amp': dict(loss_scale='dynamic'), 'amp-bf16': dict(dtype='bfloat16', loss_scale=1.0)}


@pytest.fixture(scope='module', autouse=True)
def _parse_fast():
    with memoised_config_lookups():
        yield


@pytest.mark.parametrize('family', sorted(PARENTS))
@pytest.mark.parametrize('kind', sorted(AMP))
def test_amp_config_is_its_parent_with_amp(family, kind):
    parent = PARENTS[family]
    name = parent.replace('8xb32-coslr', f'8xb32-{kind}-coslr')
    amp, ref = merged(osp.join(CONFIGS, family, name + '.py')), merged(osp.join(CONFIGS, family, parent + '.py'))
    wrapper = amp.pop('optim_wrapper')
    expected = dict(ref.pop('optim_wrapper'), type='AmpOptimWrapper', **AMP[kind])
    assert wrapper == expected
    assert amp == ref


@pytest.mark.parametrize('family', sorted(PARENTS) + ['patch_contrast'])
def test_family_configs_are_in_metafile_and_readme(family):
    folder = osp.join(CONFIGS, family)
    leaves = sorted(osp.basename(p)[:-3] for p in glob.glob(osp.join(folder, '*.py')))
    with open(osp.join(folder, 'metafile.yml')) as f:
        models = yaml.safe_load(f)['Models']
    assert sorted(m['Name'] for m in models) == leaves
    assert all(m['Config'] == f'configs/{family}/{m["Name"]}.py' for m in models)
    with open(osp.join(folder, 'README.md')) as f:
        rows = re.findall(r'^\| \[([^\]]+)\]\(\./([^)]+)\.py\)', f.read(), re.M)
    assert sorted(name for name, _ in rows) == leaves and all(a == b for a, b in rows)
