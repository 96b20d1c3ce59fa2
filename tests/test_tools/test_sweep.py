"""tools/experiments/sweep.py: methods x label fractions x seeds, resumable, with intervals."""

import csv
import glob
import json
import os
import os.path as osp

import pytest
from PIL import Image
from test_runtime._tools import load_tool, run_tool

from grass_mm.analysis import read_metrics
from grass_mm.analysis.intervals import paired_differences, t_interval

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = [
    '--pretrain-iters',
    '3',
    '--finetune-iters',
    '2',
    '--batch',
    '4',
    '--seg-batch',
    '2',
    '--size',
    '64',
    '--view-size',
    '32',
    '--workers',
    '0',
]


def sweep(*args, timeout=1500):
    return run_tool([osp.join(REPO_ROOT, 'tools', 'experiments', 'sweep.py'), *args], timeout=timeout)


@pytest.fixture(scope='module')
def tiny_sweep(tmp_path_factory, rs_tiles):
    out = str(tmp_path_factory.mktemp('sweep') / 'sw')
    args = [
        '--work-dir',
        out,
        '--dataset-config',
        'configs/smoke/potsdam_crop.py',
        '--methods',
        'random-init',
        'SimCLR',
        '--fractions',
        '0.5',
        '1',
        '--protocols',
        'full',
        '--seeds',
        '0',
        '1',
        *TINY,
    ]
    proc = sweep(*args)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out, args, proc


def test_sweep_writes_runs_table_and_plot(tiny_sweep):
    out, _, proc = tiny_sweep
    assert '[10/10]' in proc.stdout and 'ETA' in proc.stdout  # 2 pretrainings + 8 fine-tunings
    with open(osp.join(out, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8
    assert {(r['method'], r['fraction'], r['seed']) for r in rows} == {
        (m, f, s) for m in ('random-init', 'SimCLR') for f in ('0.5', '1') for s in ('0', '1')
    }
    for r in rows:  # each row is what that run's evaluation wrote
        metrics, _, kind = read_metrics(r['work_dir'])
        assert kind == 'val' and float(r['mIoU']) == pytest.approx(metrics['mIoU'], abs=1e-3)
    # the Markdown holds the mean ± t-interval and the paired difference, recomputed here
    with open(osp.join(out, 'results.md')) as f:
        md = f.read()
    assert md.strip()[:200] in proc.stdout
    by = {(r['method'], r['fraction'], int(r['seed'])): float(r['mIoU']) for r in rows}
    mean, half, _ = t_interval([by[('SimCLR', '0.5', s)] for s in (0, 1)])
    assert f'{mean:.2f} ± {half:.2f} (n=2)' in md
    diffs = paired_differences(
        {s: by[('SimCLR', '1', s)] for s in (0, 1)}, {s: by[('random-init', '1', s)] for s in (0, 1)}
    )
    dm, dh, _ = t_interval(diffs)
    assert f'| SimCLR - random-init | full fine-tuning | 100% | {dm:+.2f} ± {dh:.2f}' in md
    assert 'chance level ln(2N-1) = 1.95' in md  # N = 4 images = 8 views
    with Image.open(osp.join(out, 'results.png')) as im:
        assert im.size[0] > 200
    # the label fraction reached the fine-tuning: half of the (two) Potsdam training images
    sub = glob.glob(osp.join(out, 'finetune', 'simclr', 'full', 'frac0.5', 'seed1', 'label_subset.txt'))
    assert sub and len(open(sub[0]).read().split()) == 1
    assert not glob.glob(osp.join(out, 'finetune', 'simclr', 'full', 'frac1', 'seed1', 'label_subset.txt'))
    # every step is an ordinary command written out
    with open(osp.join(out, 'commands.sh')) as f:
        assert sum(ln.startswith('python ') for ln in f) == 10


def test_sweep_rerun_skips_finished_runs_and_resumes_an_interrupted_one(tiny_sweep):
    """A re-run skips every finished run; a fine-tuning killed before its evaluation is run again."""
    out, args, _ = tiny_sweep
    victim = osp.join(out, 'finetune', 'random-init', 'full', 'frac0.5', 'seed0')
    before = {
        p: osp.getmtime(p)
        for p in glob.glob(osp.join(out, 'finetune', '**', '*.pth'), recursive=True)
        if not p.startswith(victim)
    }
    for j in glob.glob(osp.join(victim, '2*', 'vis_data', 'scalars.json')):  # its evaluation never got logged
        os.remove(j)
    proc = sweep(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count('finished earlier, skipped') == 9
    assert read_metrics(victim)[2] == 'val'
    after = {
        p: osp.getmtime(p)
        for p in glob.glob(osp.join(out, 'finetune', '**', '*.pth'), recursive=True)
        if not p.startswith(victim)
    }
    assert before == after
    # other settings in the same work dir are refused, naming the setting
    changed = [a if a != '2' or args[i - 1] != '--finetune-iters' else '5' for i, a in enumerate(args)]
    proc = sweep(*changed)
    assert proc.returncode != 0 and 'finetune_iters: 2 -> 5' in proc.stderr


@pytest.mark.parametrize(
    'extra, message',
    [
        (['--fractions', '1.5'], 'label fraction 1.5 is outside (0, 1]'),
        (['--fractions', '0'], 'label fraction 0 is outside (0, 1]'),
        (['--methods', 'random-init', 'BYOLX'], "unknown method(s) ['BYOLX']"),
        (['--pretrain-config', 'MoCo'], "--pretrain-config 'MoCo': expected NAME=CONFIG"),
        (['--pretrain-config', 'MoCo=no/such.py'], 'config file no/such.py does not exist'),
        (['--probe-iters', '2'], '--probe-iters must lie in [0, --finetune-iters 2), got 2'),
        (['--finetune-optimizer', 'lamb'], "invalid choice: 'lamb'"),
        (['--finetune-optimizer', 'adam', '--finetune-lr', '0'], '--finetune-lr must be positive'),
    ],
)
def test_sweep_bad_flags(tmp_path, extra, message):
    out = tmp_path / 'sw'
    proc = sweep('--work-dir', str(out), *extra, *TINY, timeout=300)
    assert proc.returncode != 0 and message in proc.stderr
    assert not out.exists()


def test_sweep_refuses_a_pretraining_backbone_that_does_not_fit(tmp_path, rs_tiles):
    cfg = tmp_path / 'three_stages.py'
    cfg.write_text(
        f"_base_ = ['{REPO_ROOT}/configs/quickstart/simclr_r18_quickstart_vts.py']\n"
        'model = dict(backbone=dict(num_stages=3, out_indices=(2, ), strides=(1, 2, 2),'
        ' dilations=(1, 1, 1)), neck=dict(in_channels=256))\n'
    )
    out = tmp_path / 'sw'
    proc = sweep(
        '--work-dir',
        str(out),
        '--dataset-config',
        'configs/smoke/potsdam_crop.py',
        '--pretrain-config',
        f'Short={cfg}',
        '--methods',
        'random-init',
        'Short',
        *TINY,
        timeout=300,
    )
    assert proc.returncode != 0
    assert f'pretraining config of Short ({cfg}): its backbone lacks' in proc.stderr and 'layer4' in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()


def test_sweep_refuses_a_foreign_work_dir(tmp_path):
    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'notes.txt').write_text('keep')
    proc = sweep('--work-dir', str(mine), *TINY, timeout=300)
    assert proc.returncode != 0 and 'no sweep made it' in proc.stderr
    assert os.listdir(mine) == ['notes.txt']


def test_sweep_reuses_another_sweeps_pretraining(tiny_sweep):
    """Fine-tuning ablations start from the first sweep's checkpoints, without pretraining again."""
    out, args, _ = tiny_sweep
    out2 = out + '_ablation'
    common = [
        '--dataset-config',
        'configs/smoke/potsdam_crop.py',
        '--methods',
        'random-init',
        'SimCLR',
        '--fractions',
        '1',
        '--protocols',
        'full',
        '--seeds',
        '1',
        *TINY,
    ]
    proc = sweep('--work-dir', out2, '--reuse-pretraining', out, '--norm-eval', *common)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count('finished earlier, skipped') == 1 and '[3/3]' in proc.stdout
    from mmengine.config import Config

    cfg = Config.fromfile(osp.join(out2, 'configs', 'fcn_r18_simclr_full_frac1_seed1.py'))
    assert cfg.model.backbone.init_cfg.checkpoint == osp.join(out, 'pretrain', 'simclr', 'seed1', 'iter_3.pth')
    assert cfg.model.backbone.norm_eval is True
    assert not osp.exists(osp.join(out2, 'pretrain'))
    # a seed the first sweep never pretrained: refused, except by --report-only, which lists its runs as not run
    more = common[: common.index('--seeds') + 1] + ['1', '9'] + common[common.index('--seeds') + 2 :]
    proc = sweep('--work-dir', out2, '--reuse-pretraining', out, '--norm-eval', *more, timeout=300)
    assert proc.returncode != 0 and 'no finished pretraining' in proc.stderr and 'seed9' in proc.stderr
    proc = sweep('--work-dir', out2, '--reuse-pretraining', out, '--norm-eval', '--report-only', *more, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count('not run yet (--report-only)') == 3  # seed 9: its pretraining and 2 fine-tunings
    # other pretraining settings are refused before anything runs, naming the setting
    bad = [a if a != '3' else '7' for a in common]  # --pretrain-iters 3 -> 7
    proc = sweep('--work-dir', out + '_bad', '--reuse-pretraining', out, *bad, timeout=300)
    assert proc.returncode != 0 and 'pretrain_iters: 3 there, 7 here' in proc.stderr
    assert not osp.exists(out + '_bad')


def test_sweep_configs_take_tta(tiny_sweep):
    """A fine-tuning config the sweep wrote runs under tools/test.py --tta (its dataset config's TTA pipeline)."""
    out, _, _ = tiny_sweep
    wd = osp.join(out, 'finetune', 'simclr', 'full', 'frac1', 'seed0')
    cfg = osp.join(out, 'configs', 'fcn_r18_simclr_full_frac1_seed0.py')
    proc = run_tool(['tools/test.py', cfg, osp.join(wd, 'iter_2.pth'), '--tta', '--work-dir', osp.join(out, 'tta')])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'mIoU' in proc.stdout + proc.stderr


def test_sweep_report_only_runs_nothing(tiny_sweep):
    """--report-only tabulates the finished runs among the requested ones and trains nothing."""
    out, args, _ = tiny_sweep
    more = list(args) + ['--report-only']
    i = more.index('--seeds')
    more[i + 1 : i + 3] = ['0', '1', '2']
    proc = sweep(*more)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count('not run yet (--report-only)') == 5  # seed 2: 1 pretraining + 4 fine-tunings
    assert not osp.exists(osp.join(out, 'pretrain', 'simclr', 'seed2'))
    with open(osp.join(out, 'results.csv')) as f:
        assert len(list(csv.DictReader(f))) == 8


def test_finetune_recipe_reaches_the_optimizer(tmp_path):
    """--backbone-lr-mult and --finetune-lr as written, read back from the built optimizer's parameter groups;
    the frozen protocol freezes every backbone parameter and keeps BN statistics."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    sw = load_tool('tools/experiments/sweep.py')
    args = sw.parse_args(
        ['--backbone-lr-mult', '0.1', '--finetune-lr', '0.02', '--norm-eval', '--probe-iters', '1', *TINY]
    )
    data = sw._scaled_dubai(str(tmp_path), 64)
    init_default_scope('mmseg')
    cfg = sw.finetune_config('SimCLR', args, data, None, 'full', 0.5, 3)
    assert cfg.train_dataloader.dataset.type == 'LabelSubsetDataset' and cfg.train_dataloader.dataset.seed == 3
    model = MODELS.build(cfg.model)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    names = {id(p): n for n, p in model.named_parameters()}
    lrs = {}
    for g in optim.optimizer.param_groups:
        for p in g['params']:
            lrs[names[id(p)]] = g['lr']
    assert lrs and all(v == pytest.approx(0.002 if k.startswith('backbone.') else 0.02) for k, v in lrs.items())
    assert model.backbone.norm_eval is True
    assert dict(type='ProbeThenFinetuneHook', probe_iters=1) in cfg.custom_hooks
    # --tta: flips x scales around the sweep's test scale (2 x 64 px here), not around the raw image size
    resizes = cfg.tta_pipeline[1]['transforms'][0]
    assert [t['scale'] for t in resizes] == [(64, 64), (96, 96), (128, 128), (160, 160), (192, 192), (224, 224)]
    assert [t for t in cfg.val_dataloader.dataset.pipeline if t['type'] == 'Resize'][0]['scale'] == (128, 128)
    # random-init keeps the plain recipe: no multiplier, BN statistics trained, no probe
    plain = sw.finetune_config('random-init', args, data, None, 'full', 0.5, 3)
    assert 'paramwise_cfg' not in plain.optim_wrapper and plain.model.backbone.get('norm_eval') is not True
    assert not any(h['type'] == 'ProbeThenFinetuneHook' for h in plain.get('custom_hooks', []))
    frozen = MODELS.build(sw.finetune_config('SimCLR', args, data, None, 'frozen', 1.0, 0).model)
    frozen.train()
    assert not any(p.requires_grad for p in frozen.backbone.parameters())
    assert all(not m.training for m in frozen.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))
    # the frozen protocol does not take the full-fine-tuning multiplier
    assert 'paramwise_cfg' not in sw.finetune_config('SimCLR', args, data, None, 'frozen', 1.0, 0).optim_wrapper


@pytest.mark.parametrize('method', ['SimCLR', 'random-init'])
def test_finetune_optimizer_and_bn_reestimation(tmp_path, method):
    """--finetune-optimizer adam gives every start (random-init too) mmengine's Adam at 1e-4 without weight decay,
    read back from the built optimizer; --reestimate-bn adds ReestimateBNHook to pretrained starts only."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    sw = load_tool('tools/experiments/sweep.py')
    args = sw.parse_args(['--finetune-optimizer', 'adam', '--reestimate-bn', *TINY])
    data = sw._scaled_dubai(str(tmp_path), 64)
    init_default_scope('mmseg')
    cfg = sw.finetune_config(method, args, data, None, 'full', 1.0, 0)
    optim = build_optim_wrapper(MODELS.build(cfg.model), cfg.optim_wrapper).optimizer
    assert type(optim).__name__ == 'Adam'
    assert {(g['lr'], g['weight_decay']) for g in optim.param_groups} == {(1e-4, 0.0)}
    hooks = [h for h in cfg.get('custom_hooks', []) if h['type'] == 'ReestimateBNHook']
    expected = [dict(type='ReestimateBNHook', num_samples=50 * args.seg_batch)] if method != 'random-init' else []
    assert hooks == expected
    # the default stays the fine-tuning config's SGD 0.01
    plain = sw.finetune_config(method, sw.parse_args(TINY), data, None, 'full', 1.0, 0)
    assert dict(plain.optim_wrapper.optimizer) == dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4)


def test_linear_neck_pretraining_fits_the_depth(tmp_path):
    """The neck ablation's config (LinearNeck) gets the backbone's channels at every depth."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    sw = load_tool('tools/experiments/sweep.py')
    config = osp.join(REPO_ROOT, 'configs', 'quickstart', 'simclr_r18_quickstart_weak-colour_linear-neck.py')
    data = sw._scaled_dubai(str(tmp_path), 64)
    init_default_scope('mmpretrain')
    for depth, chans in ((18, 512), (50, 2048)):
        args = sw.parse_args(['--pretrain-config', f'lin={config}', '--methods', 'lin', '--depth', str(depth)])
        cfg = sw.pretrain_config('lin', args, data, 0)
        model = MODELS.build(cfg.model)
        assert model.neck.fc.in_features == chans and model.neck.fc.out_features == 128


def test_sweep_folders_from_before_a_new_setting_resume(tmp_path):
    """A setting added later (--probe-iters) reads as its default in an older sweep's marker: the old sweep
    resumes with the default and refuses another value, naming it."""
    sw = load_tool('tools/experiments/sweep.py')
    wd = tmp_path / 'old'
    wd.mkdir()
    settings = dict(depth=18, probe_iters=0)
    (wd / sw.MARKER).write_text(json.dumps(dict(depth=18)))
    assert sw.prepare_work_dir(str(wd), settings) is True
    with pytest.raises(sw.SweepError, match='probe_iters: 0 -> 5'):
        sw.prepare_work_dir(str(wd), dict(settings, probe_iters=5))


def test_weak_colour_recipe_end_to_end(tmp_path, rs_tiles):
    """The remote-sensing recipe of the README's evidence: the weak-colour SimCLR and GraSS configs pretrain a few
    iterations, their backbones fit the fine-tuning backbone (checked before anything runs), GraSS is compared
    with the SimCLR of the same variant, and --probe-iters reaches the pretrained starts' fine-tuning only."""
    out = str(tmp_path / 'wc')
    qs = osp.join(REPO_ROOT, 'configs', 'quickstart')
    proc = sweep(
        '--work-dir',
        out,
        '--dataset-config',
        'configs/smoke/potsdam_crop.py',
        '--methods',
        'random-init',
        'SimCLR-wc',
        'GraSS-wc',
        '--pretrain-config',
        f'SimCLR-wc={qs}/simclr_r18_quickstart_weak-colour.py',
        '--pretrain-config',
        f'GraSS-wc={qs}/grass_r18_quickstart_weak-colour.py',
        '--fractions',
        '1',
        '--protocols',
        'full',
        '--seeds',
        '0',
        '--probe-iters',
        '1',
        *TINY,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(osp.join(out, 'results.md')) as f:
        md = f.read()
    assert '| GraSS-wc - SimCLR-wc | full fine-tuning | 100% |' in md
    logs = {
        m: ''.join(
            open(p).read() for p in glob.glob(osp.join(out, 'finetune', m, 'full', 'frac1', 'seed0', '2*', '*.log'))
        )
        for m in ('random-init', 'simclr-wc', 'grass-wc')
    }
    assert (
        'backbone fixed for the first 1 iterations' in logs['simclr-wc']
        and 'the whole network trains' in logs['grass-wc']
    )
    assert 'ProbeThenFinetuneHook' not in logs['random-init']
    from mmengine.config import Config

    for m in ('simclr-wc', 'grass-wc'):  # the pretraining ran with the weak colour jitter of the recipe
        cfg = Config.fromfile(glob.glob(osp.join(out, 'configs', f'pretrain_{m}_*.py'))[0])
        multi = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'MultiView'][0]
        views = [t for group in multi['transforms'] for t in group]
        jitter = [j for t in views if t['type'] == 'RandomApply' for j in t['transforms'] if j['type'] == 'ColorJitter']
        assert [(j['saturation'], j['hue']) for j in jitter] == [(0.0, 0.0)]
        assert not any(t['type'] == 'RandomGrayscale' for t in views)
