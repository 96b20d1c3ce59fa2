"""The ``_base_`` refactor of the config grid changed no merged config, except the intended changes listed here.

``data/merged_configs_before.json`` holds every merged family config (not quickstart/, smoke/) as it was
before the refactor (written by ``_merged_configs.py`` from that commit's ``configs/``). Intended changes,
undone by :func:`undo_intended` before the comparison and each checked to be really present:

* SyncBN in the multi-GPU configs (``SYNC_BN``): the 8xb32 SimCLR-style pretraining (SimCLR, BYOL, Barlow
  Twins, GraSS, pixel-pair: mmpretrain's own choice for the in-batch-negative methods) and the 8-GPU
  UPerNet/FCN fine-tuning configs;
* ``CheckedLoadImageFromFile`` / ``CheckedLoadAnnotations`` in the real-data dataset bases (a corrupt image
  stops with one line naming it);
* ``AtomicCheckpointHook`` in the schedules and the self-supervised runtime (a kill during a checkpoint
  write loses nothing).
"""

import json
import os.path as osp

import pytest

from ._merged_configs import leaf_configs, merged
from ._tools import REPO_ROOT

CONFIGS = osp.join(REPO_ROOT, 'configs')
BEFORE = osp.join(osp.dirname(osp.abspath(__file__)), 'data', 'merged_configs_before.json')
SYNC_BN_METHODS = ('barlowtwins_', 'byol_', 'simclr_', 'grass_', 'pixel-pair_')
RENAMED = {
    'CheckedLoadImageFromFile': 'LoadImageFromFile',
    'CheckedLoadAnnotations': 'LoadAnnotations',
    'AtomicCheckpointHook': 'CheckpointHook',
}


def sync_bn_expected(rel):
    family, name = rel.split('/')
    return family == 'finetune' or ('8xb32' in name and name.startswith(SYNC_BN_METHODS))


def undo_intended(rel, cfg):
    """Map the intended changes back; returns (config, set of the changes found)."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == 'norm_cfg' and isinstance(v, dict) and v.get('type') == 'SyncBN':
                    found.add('SyncBN')
                    v = dict(v, type='BN')
                elif k == 'type' and v in RENAMED:
                    found.add(v)
                    v = RENAMED[v]
                out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(cfg), found


@pytest.fixture(scope='module')
def before():
    with open(BEFORE) as f:
        return json.load(f)


def test_every_config_is_kept(before):
    # configs may be added (other work); none of the reference may disappear
    assert sorted(set(before) - set(leaf_configs(CONFIGS))) == []
    assert len(before) >= 60


def test_merged_configs_equal_before_refactor(before):
    diffs = []
    for rel, ref in sorted(before.items()):
        now, found = undo_intended(rel, merged(osp.join(CONFIGS, rel)))
        if ('SyncBN' in found) != sync_bn_expected(rel):
            diffs.append(f'{rel}: SyncBN {"unexpected" if "SyncBN" in found else "missing"}')
        if now != ref:
            keys = sorted(k for k in set(now) | set(ref) if now.get(k) != ref.get(k))
            diffs.append(f'{rel}: differs in {keys}')
    assert diffs == [], '\n'.join(diffs)


def test_intended_changes_are_present():
    """The SyncBN, checked-loader and atomic-checkpoint defaults are in the configs a user runs."""
    fine = merged(osp.join(CONFIGS, 'finetune/upernet_r50_grass-pretrain_40k_potsdam.py'))
    m = fine['model']
    assert {
        m['backbone']['norm_cfg']['type'],
        m['decode_head']['norm_cfg']['type'],
        m['auxiliary_head']['norm_cfg']['type'],
    } == {'SyncBN'}
    assert [t['type'] for t in fine['train_pipeline'][:2]] == ['CheckedLoadImageFromFile', 'CheckedLoadAnnotations']
    assert fine['default_hooks']['checkpoint']['type'] == 'AtomicCheckpointHook'
    grass = merged(osp.join(CONFIGS, 'grass/grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py'))
    assert grass['model']['backbone']['norm_cfg']['type'] == 'SyncBN'
    assert grass['default_hooks']['checkpoint']['type'] == 'AtomicCheckpointHook'
    moco = merged(osp.join(CONFIGS, 'baselines/mocov2_resnet50_8xb32-coslr-350e_tiles-potsdam.py'))
    assert moco['model']['backbone']['norm_cfg']['type'] == 'BN'  # as mmpretrain's MoCo v2


def test_leaves_state_only_their_difference(before):
    """Every grid leaf is short: its dataset base, its family base and the dataset-dependent lines."""
    long = []
    for rel in sorted(before):
        if rel == 'noisy_pairs/fcn_r50_frozen-4k_vts.py':  # the one evaluation protocol, not a grid member
            continue
        with open(osp.join(CONFIGS, rel)) as f:
            code = [ln for ln in f.read().splitlines() if ln.strip() and not ln.lstrip().startswith('#')]
        if len(code) > 8:
            long.append(f'{rel}: {len(code)} lines')
    assert long == []
