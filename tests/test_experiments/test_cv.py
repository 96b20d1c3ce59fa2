"""The sweep's --folds tiles: leave-one-tile-out cross-validation, its controls and the linear probe, end to end
(in this interpreter, the steps in forks of it)."""

import csv
import glob
import os
import os.path as osp
import shutil

import pytest
import torch
from test_runtime._tools import run_forked

from grass_mm.experiments import SweepError

from .test_sweep import run_sweep

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO_ROOT, 'grass_mm', 'demo', 'dubai_aerial')
TINY = ['--pretrain-iters', '4', '--finetune-iters', '2', '--batch', '4', '--seg-batch', '2']
TINY += ['--size', '64', '--view-size', '32', '--workers', '0']
METHODS = ['GraSS', 'GraSS-random-boxes', 'supervised']


def tiny_dubai(root, tiles=('tile_2', 'tile_5')):
    """Real Dubai tiles, two images each, in the raw Kaggle layout."""
    data = root / 'dubai'
    for tile in tiles:
        for sub, ext in (('images', 'jpg'), ('masks', 'png')):
            os.makedirs(data / tile / sub)
            for k in (1, 2):
                shutil.copy(osp.join(DEMO, tile, sub, f'image_part_00{k}.{ext}'), data / tile / sub)
    return str(data)


@pytest.fixture(scope='module')
def split_cv(tmp_path_factory):
    """Two folds, random init only, half of the labels: what each fold's runs read."""
    root = tmp_path_factory.mktemp('cv_split')
    data = tiny_dubai(root)
    out = str(root / 'cv')
    args = ['--work-dir', out, '--data', data, '--folds', 'tiles', '--methods', 'random-init']
    run_sweep(*args, '--protocols', 'linear', '--fractions', '0.5', '--seeds', '0', *TINY)
    return out, data


@pytest.fixture(scope='module')
def tiny_cv(tmp_path_factory):
    """One fold (tile_2 held out) with GraSS, its random-box control and the positive control, linear probe."""
    root = tmp_path_factory.mktemp('cv')
    data = tiny_dubai(root)
    out = str(root / 'cv')
    args = ['--work-dir', out, '--data', data, '--folds', 'tiles', '--fold-tiles', 'tile_2', '--methods', *METHODS]
    args += ['--protocols', 'linear', '--fractions', '1', '--seeds', '0', *TINY]
    return out, data, args, run_sweep(*args)


def _images(cfg, split):
    from mmengine.config import Config

    ds = Config.fromfile(cfg)[f'{split}_dataloader']['dataset']
    while 'dataset' in ds:
        ds = ds['dataset']
    prefix = ds['data_prefix']
    folder = osp.join(ds['data_root'], prefix['img_path'] if isinstance(prefix, dict) else prefix)
    return sorted(os.listdir(folder))


def test_every_tile_is_evaluated_once_and_never_trained_on(split_cv):
    out, _ = split_cv
    with open(osp.join(out, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    assert sorted(r['fold'] for r in rows) == ['tile_2', 'tile_5']  # each tile is the test set of one run
    for tile in ('tile_2', 'tile_5'):
        (cfg,) = glob.glob(osp.join(out, 'folds', tile, 'configs', '*.py'))
        train, val = _images(cfg, 'train'), _images(cfg, 'val')
        assert len(train) == 2 and not [s for s in train if s.startswith(tile + '_')]
        assert len(val) == 2 and all(s.startswith(tile + '_') for s in val)
        # the labelled images the run actually used (LabelSubsetDataset's record): other tiles only
        (subset,) = glob.glob(osp.join(out, 'folds', tile, 'finetune', '**', 'label_subset.txt'), recursive=True)
        used = [ln for ln in open(subset).read().split() if ln.endswith('.jpg')]
        assert len(used) == 1 and not osp.basename(used[0]).startswith(tile + '_') and osp.basename(used[0]) in train
    # per-class figures: IoU and the test pixels' class shares (summing to 100 %)
    shares = [float(v) for k, v in rows[0].items() if k.startswith('share.')]
    assert len(shares) == 6 and sum(shares) == pytest.approx(100, abs=0.01)
    iou = [k for k in rows[0] if k.startswith('IoU.')]
    assert len(iou) == 6


def test_cv_arms_and_pretraining_read_only_the_other_tiles(tiny_cv):
    out = tiny_cv[0]
    with open(osp.join(out, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    assert sorted((r['fold'], r['method']) for r in rows) == sorted(('tile_2', m) for m in METHODS)
    cfgs = glob.glob(osp.join(out, 'folds', 'tile_2', 'configs', '*.py'))
    pre = [c for c in cfgs if osp.basename(c).startswith('pretrain_')]
    assert len(pre) == 2 and len(cfgs) == 2 + 4  # GraSS, its control; three arms + the positive control's source
    for c in pre:
        seen = _images(c, 'train')
        assert seen and not [s for s in seen if s.startswith('tile_2_')]
    assert 'GraSS - GraSS-random-boxes' in open(osp.join(out, 'results.md')).read()


def test_random_box_control_resumes_the_grass_warmup(tiny_cv):
    from mmengine.config import Config

    out = tiny_cv[0]
    fold = osp.join(out, 'folds', 'tile_2')
    (cfg,) = glob.glob(osp.join(fold, 'configs', 'pretrain_grass-random-boxes_*.py'))
    cfg = Config.fromfile(cfg)
    warm = osp.join(fold, 'pretrain', 'grass', 'seed0', 'warmup_end.pth')
    assert cfg.model.box_mode == 'random' and cfg.resume is True and cfg.load_from == warm
    ckpt = torch.load(warm, map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 2  # half of the 4 iterations: the first gradient-guided step follows
    log = open(glob.glob(osp.join(fold, 'pretrain', 'grass-random-boxes', 'seed0', 'stdout.log'))[0]).read()
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'gradient-guided sampling from epoch 0, iter 2' in log


def test_positive_control_starts_from_the_supervised_encoder(tiny_cv):
    from mmengine.config import Config

    fold = osp.join(tiny_cv[0], 'folds', 'tile_2')
    (cfg,) = glob.glob(osp.join(fold, 'configs', '*supervised_linear*.py'))
    init = Config.fromfile(cfg).model.backbone.init_cfg
    assert init.checkpoint == osp.join(fold, 'finetune', 'random-init', 'full', 'frac1', 'seed0', 'iter_2.pth')
    assert init.prefix == 'backbone.'


def test_linear_probe_trains_only_the_1x1_conv(tiny_cv, tmp_path):
    """Rebuild the GraSS linear-probe run with mmengine's Runner: only conv_seg is trainable, and the encoder's
    weights and BN statistics are those of the pretraining checkpoint after training."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    import grass_mm  # noqa: F401

    fold = osp.join(tiny_cv[0], 'folds', 'tile_2')
    (path,) = glob.glob(osp.join(fold, 'configs', '*_grass_linear_*.py'))
    cfg = Config.fromfile(path)
    cfg.work_dir = str(tmp_path)
    assert cfg.model.auxiliary_head is None and cfg.model.decode_head.num_convs == 0
    runner = Runner.from_cfg(cfg)
    runner.train()
    trainable = {n for n, p in runner.model.named_parameters() if p.requires_grad}
    assert trainable == {'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias'}
    in_optimizer = {id(p) for g in runner.optim_wrapper.optimizer.param_groups for p in g['params'] if p.requires_grad}
    assert in_optimizer == {id(p) for n, p in runner.model.named_parameters() if n in trainable}
    pre = torch.load(cfg.model.backbone.init_cfg.checkpoint, map_location='cpu', weights_only=False)['state_dict']
    after = runner.model.backbone.state_dict()
    for k, v in after.items():  # weights, running means and variances unchanged by training
        if 'num_batches_tracked' not in k:
            assert torch.equal(v, pre['backbone.' + k]), k


def test_cv_report_tool_rebuilds_the_table(tiny_cv, tmp_path):
    out = tiny_cv[0]
    proc = run_forked([osp.join(REPO_ROOT, 'tools', 'analysis', 'cv_report.py'), osp.join(out, 'results.csv')])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == open(osp.join(out, 'results.md')).read()


def test_cv_bad_flags(tmp_path, tiny_cv, capsys):
    data = tiny_cv[1]
    with pytest.raises(SweepError, match='tile_9') as err:
        run_sweep('--work-dir', str(tmp_path / 'a'), '--data', data, '--folds', 'tiles', '--fold-tiles', 'tile_9')
    assert len(str(err.value).splitlines()) == 1 and not osp.exists(tmp_path / 'a')
    with pytest.raises(SweepError, match='--folds tiles needs the Dubai data'):
        run_sweep('--work-dir', str(tmp_path / 'c'), '--folds', 'tiles', '--dataset-config', 'x.py')
    with pytest.raises(SystemExit):
        run_sweep('--work-dir', str(tmp_path / 'b'), '--methods', 'random-init', 'GraSS-random-boxes')
    assert 'list GraSS too' in capsys.readouterr().err and not osp.exists(tmp_path / 'b')
