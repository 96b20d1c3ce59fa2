"""The ``_base_`` refactors of the config grid changed no merged config, except the intended changes listed here.

``data/merged_configs_before.json`` holds every merged family config (not quickstart/, smoke/) as it was
before the refactor (written by ``_merged_configs.py`` from that commit's ``configs/``). Intended changes,
undone by :func:`undo_intended` before the comparison and each checked to be really present:

``_base_`` refactor (issue 13):

* SyncBN in the multi-GPU configs (``SYNC_BN``): the 8xb32 SimCLR-style pretraining (SimCLR, BYOL, Barlow
  Twins, GraSS, pixel-pair: mmpretrain's own choice for the in-batch-negative methods) and the 8-GPU
  UPerNet/FCN fine-tuning configs;
* ``CheckedLoadImageFromFile`` / ``CheckedLoadAnnotations`` in the real-data dataset bases (a corrupt image
  stops with one line naming it);
* ``AtomicCheckpointHook`` in the schedules and the self-supervised runtime (a kill during a checkpoint
  write loses nothing).

Bases on mmseg's and mmpretrain's own (issue 15; which base inherits which: ``UPSTREAM``):

* ``tta_pipeline`` in every segmentation config, for ``tools/test.py --tta``: mmseg's own for Potsdam and
  LoveDA, in mmseg's style for Dubai, xBD and VTS; it loads images with the test pipeline's loader (the
  checked one for real data);
* ``img_ratios`` with it: its scales, the variable of mmseg's dataset bases (not for the VTS generated on the
  fly, whose TTA is a flip only: its masks come in memory, a resize would resize them too);
* ``backbone_norm_cfg`` in the Swin-T configs: a variable of ``mmseg::_base_/models/upernet_swin.py``, the
  backbone's LN, equal to ``model.backbone.norm_cfg``;
* ``_scope_``: mmengine marks each dict that a config inherits through ``mmseg::`` / ``mmpretrain::`` with
  that package's scope. One equal to the config's ``default_scope`` changes no registry lookup, so it is
  dropped from both sides; any other is compared. A layer config (``norm_cfg``, read by ``build_norm_layer``,
  not by a registry) must carry none: the model bases replace mmseg's top-level ``norm_cfg`` whole
  (``test_layer_cfgs_carry_no_scope``).

GPU runs at scale (issue 23), in the two runtime bases:

* ``randomness.diff_rank_seed=True`` in every config (:func:`undo_runtime_changes`): per-rank random draws (DDP still
  starts all ranks from rank 0's weights);
* ``env_cfg.cudnn_benchmark=True`` in the segmentation configs: mmseg's own default, no longer overridden
  (the self-supervised runtime keeps mmpretrain's ``False``);
* ``DeterministicWarnOnlyHook`` in every config's ``custom_hooks``, right after ``PlainCheckpointHook``: with
  ``randomness.deterministic=True`` kernels without a deterministic CUDA version warn instead of raising.

The official LAM normalisation (``LAM / max``, issue of the evidence protocol): ``model.lam_norm='original'``
instead of ``'relu'`` in every GraSS config (:func:`undo_lam_norm`).

Nothing else may differ: the model, schedule and dataset bases state only grass_mm's difference from
upstream and still merge to the same values.
"""

import json
import os.path as osp

import pytest
from mmengine.config import Config

from ._merged_configs import leaf_configs, merged
from ._tools import REPO_ROOT, memoised_config_lookups

CONFIGS = osp.join(REPO_ROOT, 'configs')
BEFORE = osp.join(osp.dirname(osp.abspath(__file__)), 'data', 'merged_configs_before.json')
SYNC_BN_METHODS = ('barlowtwins_', 'byol_', 'simclr_', 'grass_', 'pixel-pair_')
SEG_FAMILIES = ('finetune/', 'patch_contrast/', 'pixel_anchor/', 'noisy_pairs/fcn_')
VTS_ON_THE_FLY = ('noisy_pairs/fcn_',)
UPSTREAM = {  # grass_mm base -> the upstream base it inherits
    '_base_/datasets/potsdam.py': 'mmseg::_base_/datasets/potsdam.py',
    '_base_/datasets/loveda_urban.py': 'mmseg::_base_/datasets/loveda.py',  # rural and the union inherit it
    '_base_/models/fcn_r50.py': 'mmseg::_base_/models/fcn_r50-d8.py',
    '_base_/models/upernet_r50.py': 'mmseg::_base_/models/upernet_r50.py',
    '_base_/models/upernet_swin_t.py': 'mmseg::_base_/models/upernet_swin.py',
    '_base_/schedules/seg_20k.py': 'mmseg::_base_/schedules/schedule_20k.py',
    '_base_/schedules/seg_40k.py': 'mmseg::_base_/schedules/schedule_40k.py',
    '_base_/schedules/seg_80k.py': 'mmseg::_base_/schedules/schedule_80k.py',
    '_base_/default_runtime_seg.py': 'mmseg::_base_/default_runtime.py',
    '_base_/default_runtime_selfsup.py': 'mmpretrain::_base_/default_runtime.py',
    '_base_/schedules/selfsup_lars_coslr_350e.py': 'mmpretrain::_base_/schedules/imagenet_lars_coslr_200e.py',
    'label_efficient/_base_/deeplabv3plus_r50-os16.py': 'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
}
RENAMED = {
    'CheckedLoadImageFromFile': 'LoadImageFromFile',
    'CheckedLoadAnnotations': 'LoadAnnotations',
    'AtomicCheckpointHook': 'CheckpointHook',
}


def sync_bn_expected(rel):
    family, name = rel.split('/')
    return family == 'finetune' or ('8xb32' in name and name.startswith(SYNC_BN_METHODS))


def expected_changes(rel):
    """The intended changes that must be found in ``rel`` (besides SyncBN, see :func:`sync_bn_expected`)."""
    out = {'_scope_'}  # every grid config inherits at least one upstream base now
    if rel.startswith(SEG_FAMILIES):
        out.add('tta_pipeline')
        if not rel.startswith(VTS_ON_THE_FLY):
            out.add('img_ratios')
    if 'swin' in rel:
        out.add('backbone_norm_cfg')
    return out


def undo_lam_norm(cfg, ref):
    """Map GraSS's ``lam_norm='original'`` back to the reference's ``'relu'``; returns (config, found)."""
    model, ref_model = cfg.get('model', {}), ref.get('model', {})
    if model.get('type') == 'GraSS' and model.get('lam_norm') == 'original' and ref_model.get('lam_norm') == 'relu':
        return dict(cfg, model=dict(model, lam_norm='relu')), True
    return cfg, False


def runtime_changes_expected(ref):
    """Issue 23's runtime changes that must be found in a config whose reference is ``ref``."""
    expected = {'diff_rank_seed', 'DeterministicWarnOnlyHook'}
    return expected | {'cudnn_benchmark'} if ref.get('default_scope') == 'mmseg' else expected


def undo_runtime_changes(cfg, ref):
    """Map issue 23's runtime changes back; returns (config, set of the changes found)."""
    found = set()
    rnd = cfg.get('randomness', {})
    if rnd.get('diff_rank_seed') is True and 'diff_rank_seed' not in ref.get('randomness', {}):
        found.add('diff_rank_seed')
        cfg = dict(cfg, randomness={k: v for k, v in rnd.items() if k != 'diff_rank_seed'})
    env = cfg.get('env_cfg', {})
    if env.get('cudnn_benchmark') is True and ref.get('env_cfg', {}).get('cudnn_benchmark') is False:
        found.add('cudnn_benchmark')
        cfg = dict(cfg, env_cfg=dict(env, cudnn_benchmark=False))
    hooks, ref_hooks = cfg.get('custom_hooks', []), ref.get('custom_hooks', [])
    added = dict(type='DeterministicWarnOnlyHook')
    if added not in ref_hooks and hooks[1:2] == [added] and hooks[:1] == [dict(type='PlainCheckpointHook')]:
        found.add('DeterministicWarnOnlyHook')
        cfg = dict(cfg, custom_hooks=hooks[:1] + hooks[2:])
    return cfg, found


def drop_default_scope(cfg):
    """``cfg`` without the ``_scope_`` keys equal to its ``default_scope``; returns (config, how many)."""
    scope, dropped = cfg.get('default_scope'), [0]

    def walk(node):
        if isinstance(node, dict):
            if node.get('_scope_', None) == scope:
                dropped[0] += 1
            return {k: walk(v) for k, v in node.items() if not (k == '_scope_' and v == scope)}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(cfg), dropped[0]


def undo_intended(rel, cfg, ref):
    """Map the intended changes back; returns (config, reference, set of the changes found)."""
    found = set()
    ref, ref_scopes = drop_default_scope(ref)
    cfg, scopes = drop_default_scope(cfg)
    if scopes > ref_scopes:
        found.add('_scope_')
    for key in ('tta_pipeline', 'img_ratios', 'backbone_norm_cfg'):
        if key in cfg and key not in ref:
            found.add(key)
            cfg.pop(key)

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

    return walk(cfg), ref, found


@pytest.fixture(scope='module', autouse=True)
def _parse_fast():
    with memoised_config_lookups():
        yield


@pytest.fixture(scope='module')
def before():
    with open(BEFORE) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def now(before):
    return {rel: merged(osp.join(CONFIGS, rel)) for rel in before}


def test_every_config_is_kept(before):
    # configs may be added (other work); none of the reference may disappear
    assert sorted(set(before) - set(leaf_configs(CONFIGS))) == []
    assert len(before) >= 60


def test_merged_configs_equal_before_refactor(before, now):
    diffs = []
    for rel, ref in sorted(before.items()):
        cfg, runtime = undo_runtime_changes(now[rel], ref)
        if runtime != runtime_changes_expected(ref):
            diffs.append(f'{rel}: runtime changes {sorted(runtime)}, expected {sorted(runtime_changes_expected(ref))}')
        cfg, lam_norm = undo_lam_norm(cfg, ref)
        if lam_norm != (ref['model'].get('type') == 'GraSS'):
            diffs.append(f'{rel}: lam_norm change {"unexpected" if lam_norm else "missing"}')
        cfg, ref, found = undo_intended(rel, cfg, ref)
        if ('SyncBN' in found) != sync_bn_expected(rel):
            diffs.append(f'{rel}: SyncBN {"unexpected" if "SyncBN" in found else "missing"}')
        issue15 = found & {'_scope_', 'tta_pipeline', 'img_ratios', 'backbone_norm_cfg'}
        if issue15 != expected_changes(rel):
            diffs.append(f'{rel}: intended changes {sorted(issue15)}, expected {sorted(expected_changes(rel))}')
        if cfg != ref:
            keys = sorted(k for k in set(cfg) | set(ref) if cfg.get(k) != ref.get(k))
            diffs.append(f'{rel}: differs in {keys}')
    assert diffs == [], '\n'.join(diffs)


def test_layer_cfgs_carry_no_scope(now):
    """``_scope_`` is harmless only where a registry builds the dict: a norm/activation/conv layer config (read by
    ``build_norm_layer`` & co., also through ``{{_base_.norm_cfg}}``) must not carry one."""
    marked = []

    def walk(node, path):
        if isinstance(node, dict):
            if path.endswith(('norm_cfg', 'act_cfg', 'conv_cfg')) and '_scope_' in node:
                marked.append(path)
            for k, v in node.items():
                walk(v, f'{path}.{k}')
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f'{path}[{i}]')

    for rel, cfg in sorted(now.items()):
        walk(cfg, rel)
    assert marked == []


def test_intended_changes_are_present():
    """The SyncBN, checked-loader and atomic-checkpoint defaults are in the configs a user runs."""
    fine = merged(osp.join(CONFIGS, 'finetune/upernet_r50-grass-pre_8xb4-40k_potsdam-512x512.py'))
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
    # test-time augmentation (mmseg's, with grass_mm's checked loaders) and mmseg's TTA model
    tta = fine['tta_pipeline']
    assert [tta[0]['type'], tta[1]['type']] == ['CheckedLoadImageFromFile', 'TestTimeAug']
    assert [t['type'] for t in tta[1]['transforms'][2]] == ['CheckedLoadAnnotations']
    assert [t['scale_factor'] for t in tta[1]['transforms'][0]] == fine['img_ratios']
    assert fine['tta_model']['type'] == 'SegTTAModel'
    swin, _ = drop_default_scope(
        merged(osp.join(CONFIGS, 'patch_contrast/upernet_swin-t_patch-contrast_4xb4-80k_potsdam-512x512.py'))
    )
    assert swin['backbone_norm_cfg'] == swin['model']['backbone']['norm_cfg'] == {'type': 'LN', 'requires_grad': True}


@pytest.mark.parametrize('local, upstream', sorted(UPSTREAM.items()))
def test_bases_inherit_upstream(local, upstream):
    """The grass_mm base inherits the upstream one and states only its difference: no upstream value re-typed."""
    path = osp.join(CONFIGS, local)
    assert upstream in Config._get_base_files(path)
    with open(path) as f:
        code = f.read()
    # a base that re-typed upstream's loaders, model skeleton, schedule or runtime would repeat one of these
    for key in ('sampler=', 'persistent_workers=', 'loss_decode=', 'dropout_ratio=', 'PolyLR', 'val_cfg', 'mp_cfg'):
        assert key not in code, f'{local} repeats {key!r} of {upstream}'


def test_leaves_state_only_their_difference(before):
    """Every grid leaf is short: its dataset base, its family base and the dataset-dependent lines."""
    long = []
    for rel in sorted(before):
        # the one evaluation protocol, not a grid member
        if rel == 'noisy_pairs/fcn_r50-pixel-pair-pre_1xb8-frozen-4k_vts-256x256.py':
            continue
        with open(osp.join(CONFIGS, rel)) as f:
            code = [ln for ln in f.read().splitlines() if ln.strip() and not ln.lstrip().startswith('#')]
        if len(code) > 8:
            long.append(f'{rel}: {len(code)} lines')
    assert long == []
