"""grass_mm.experiments.sweep: methods x label fractions x seeds, resumable, with intervals.

The sweeps run in this interpreter, their steps (``tools/train.py``) in forks of it (``forked_steps``); one
test runs ``tools/experiments/sweep.py`` as a user does (a fresh interpreter, its steps fresh interpreters too).
"""

import contextlib
import csv
import glob
import io
import os
import os.path as osp

import pytest
from PIL import Image
from test_runtime._tools import forked_steps, run_forked, run_tool

from grass_mm.analysis import read_metrics
from grass_mm.analysis.intervals import paired_differences, t_interval
from grass_mm.experiments import SweepError, sweep
from grass_mm.experiments.cli import parse_sweep

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
POTSDAM = 'configs/smoke/_base_/potsdam_crop.py'
TINY = ['--pretrain-iters', '3', '--finetune-iters', '2', '--batch', '4', '--seg-batch', '2', '--size', '64']
TINY += ['--view-size', '32', '--workers', '0']


def run_sweep(*argv):
    """``tools/experiments/sweep.py ARGV`` in this interpreter (steps forked); returns what it printed."""
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(REPO_ROOT)  # relative paths as from the repository root, as the README's commands
    try:
        with forked_steps(), contextlib.redirect_stdout(out):
            sweep.run(parse_sweep(list(argv)))
    finally:
        os.chdir(cwd)
    return out.getvalue()


@pytest.fixture(scope='module')
def tiny_sweep(tmp_path_factory, rs_tiles):
    out = str(tmp_path_factory.mktemp('sweep') / 'sw')
    args = ['--work-dir', out, '--dataset-config', POTSDAM, '--methods', 'random-init', 'SimCLR']
    args += ['--fractions', '0.5', '--protocols', 'full', '--seeds', '0', '1', *TINY]
    return out, args, run_sweep(*args)


def test_sweep_writes_runs_table_and_plot(tiny_sweep):
    out, _, printed = tiny_sweep
    assert '[6/6]' in printed and 'ETA' in printed  # 2 pretrainings + 4 fine-tunings
    with open(osp.join(out, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert {(r['method'], r['fraction'], r['seed']) for r in rows} == {
        (m, '0.5', s) for m in ('random-init', 'SimCLR') for s in ('0', '1')
    }
    for r in rows:  # each row is what that run's evaluation wrote
        metrics, _, kind = read_metrics(r['work_dir'])
        assert kind == 'val' and float(r['mIoU']) == pytest.approx(metrics['mIoU'], abs=1e-3)
    # the Markdown holds the mean ± t-interval and the paired difference, recomputed here
    with open(osp.join(out, 'results.md')) as f:
        md = f.read()
    assert md.strip()[:200] in printed
    by = {(r['method'], r['fraction'], int(r['seed'])): float(r['mIoU']) for r in rows}
    mean, half, _ = t_interval([by[('SimCLR', '0.5', s)] for s in (0, 1)])
    assert f'{mean:.2f} ± {half:.2f} (n=2)' in md
    diffs = paired_differences(
        {s: by[('SimCLR', '0.5', s)] for s in (0, 1)}, {s: by[('random-init', '0.5', s)] for s in (0, 1)}
    )
    dm, dh, _ = t_interval(diffs)
    assert f'| SimCLR - random-init | full fine-tuning | 50% | {dm:+.2f} ± {dh:.2f}' in md
    assert 'chance level ln(2N-1) = 1.95' in md  # N = 4 images = 8 views
    with Image.open(osp.join(out, 'results.png')) as im:
        assert im.size[0] > 200
    # the label fraction reached the fine-tuning: half of the (two) Potsdam training images, the same half for
    # every method of a seed (a fraction of 1 takes no subset: tests/test_experiments/test_configs.py)
    subsets = {
        m: open(osp.join(out, 'finetune', m, 'full', 'frac0.5', 'seed1', 'label_subset.txt')).read().split()
        for m in ('simclr', 'random-init')
    }
    assert len(subsets['simclr']) == 1 and subsets['simclr'] == subsets['random-init']
    # every step is an ordinary command written out: grass_mm's tools/train.py on a config of the sweep
    with open(osp.join(out, 'commands.sh')) as f:
        commands = [ln.split() for ln in f if ln.startswith('python ')]
    assert len(commands) == 6 and {c[1] for c in commands} == {'tools/train.py'}
    assert all(c[2].startswith(osp.join(out, 'configs')) and c[3] == '--work-dir' for c in commands)


def test_sweep_tool_resumes_an_interrupted_run(tiny_sweep):
    """The tool as a user runs it, on the sweep made above: it reads the work dir's settings, skips every
    finished run and runs again (in a fresh interpreter) a fine-tuning killed before its evaluation."""
    out, args, _ = tiny_sweep
    victim = osp.join(out, 'finetune', 'random-init', 'full', 'frac0.5', 'seed0')
    before = {
        p: osp.getmtime(p)
        for p in glob.glob(osp.join(out, 'finetune', '**', '*.pth'), recursive=True)
        if not p.startswith(victim)
    }
    for j in glob.glob(osp.join(victim, '2*', 'vis_data', 'scalars.json')):  # its evaluation never got logged
        os.remove(j)
    proc = run_tool([osp.join(REPO_ROOT, 'tools', 'experiments', 'sweep.py'), *args], timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count('finished earlier, skipped') == 5 and '[sweep] resuming' in proc.stdout
    assert read_metrics(victim)[2] == 'val'
    after = {
        p: osp.getmtime(p)
        for p in glob.glob(osp.join(out, 'finetune', '**', '*.pth'), recursive=True)
        if not p.startswith(victim)
    }
    assert before == after
    with open(osp.join(out, 'results.md')) as f:
        assert f.read().strip()[:200] in proc.stdout
    # other settings in the same work dir are refused, naming the setting
    changed = [a if a != '2' or args[i - 1] != '--finetune-iters' else '5' for i, a in enumerate(args)]
    with pytest.raises(SweepError, match='finetune_iters: 2 -> 5'):
        run_sweep(*changed)


def test_sweep_refuses_a_pretraining_backbone_that_does_not_fit(tmp_path, rs_tiles):
    cfg = tmp_path / 'three_stages.py'
    cfg.write_text(
        f"_base_ = ['{REPO_ROOT}/configs/quickstart/simclr_resnet18_1xb16-coslr-200it_tiles-vts-64px.py']\n"
        'model = dict(backbone=dict(num_stages=3, out_indices=(2, ), strides=(1, 2, 2),'
        ' dilations=(1, 1, 1)), neck=dict(in_channels=256))\n'
    )
    out = tmp_path / 'sw'
    argv = ['--work-dir', str(out), '--dataset-config', POTSDAM, '--pretrain-config', f'Short={cfg}']
    with pytest.raises(SweepError) as err:
        run_sweep(*argv, '--methods', 'random-init', 'Short', *TINY)
    msg = str(err.value)
    assert f'pretraining config of Short ({cfg}): its backbone lacks' in msg and 'layer4' in msg
    assert len(msg.splitlines()) == 1 and not out.exists()


def test_sweep_refuses_a_foreign_work_dir(tmp_path):
    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'notes.txt').write_text('keep')
    with pytest.raises(SweepError, match='no sweep made it'):
        run_sweep('--work-dir', str(mine), *TINY)
    assert os.listdir(mine) == ['notes.txt']
    with pytest.raises(SweepError, match='holds no sweep'):
        run_sweep('--work-dir', str(tmp_path / 'none'), '--report-only', *TINY)


def test_sweep_reuses_another_sweeps_pretraining(tiny_sweep):
    """Fine-tuning ablations start from the first sweep's checkpoints, without pretraining again."""
    out, _, _ = tiny_sweep
    out2 = out + '_ablation'
    common = ['--dataset-config', POTSDAM, '--methods', 'random-init', 'SimCLR', '--fractions', '1']
    common += ['--protocols', 'full', '--seeds', '1', *TINY]
    printed = run_sweep('--work-dir', out2, '--reuse-pretraining', out, '--norm-eval', *common)
    assert printed.count('finished earlier, skipped') == 1 and '[3/3]' in printed
    from mmengine.config import Config

    cfg = Config.fromfile(osp.join(out2, 'configs', 'fcn_r18_simclr_full_frac1_seed1.py'))
    assert cfg.model.backbone.init_cfg.checkpoint == osp.join(out, 'pretrain', 'simclr', 'seed1', 'iter_3.pth')
    assert cfg.model.backbone.norm_eval is True
    assert not osp.exists(osp.join(out2, 'pretrain'))
    # a seed the first sweep never pretrained: refused, except by --report-only, which lists its runs as not run
    more = common[: common.index('--seeds') + 1] + ['1', '9'] + common[common.index('--seeds') + 2 :]
    with pytest.raises(SweepError, match='no finished pretraining .*seed9'):
        run_sweep('--work-dir', out2, '--reuse-pretraining', out, '--norm-eval', *more)
    printed = run_sweep('--work-dir', out2, '--reuse-pretraining', out, '--norm-eval', '--report-only', *more)
    assert printed.count('not run yet (--report-only)') == 3  # seed 9: its pretraining and 2 fine-tunings
    # other pretraining settings are refused before anything runs, naming the setting
    bad = [a if a != '3' else '7' for a in common]  # --pretrain-iters 3 -> 7
    with pytest.raises(SweepError, match='pretrain_iters: 3 there, 7 here'):
        run_sweep('--work-dir', out + '_bad', '--reuse-pretraining', out, *bad)
    assert not osp.exists(out + '_bad')


def test_sweep_configs_take_tta(tiny_sweep):
    """A fine-tuning config the sweep wrote runs under tools/test.py --tta (its dataset config's TTA pipeline)."""
    out, _, _ = tiny_sweep
    wd = osp.join(out, 'finetune', 'simclr', 'full', 'frac0.5', 'seed0')
    cfg = osp.join(out, 'configs', 'fcn_r18_simclr_full_frac0.5_seed0.py')
    proc = run_forked(['tools/test.py', cfg, osp.join(wd, 'iter_2.pth'), '--tta', '--work-dir', osp.join(out, 'tta')])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'mIoU' in proc.stdout + proc.stderr


def test_sweep_report_only_runs_nothing(tiny_sweep):
    """--report-only tabulates the finished runs among the requested ones and trains nothing."""
    out, args, _ = tiny_sweep
    more = list(args) + ['--report-only']
    i = more.index('--seeds')
    more[i + 1 : i + 3] = ['0', '1', '2']
    printed = run_sweep(*more)
    assert printed.count('not run yet (--report-only)') == 3  # seed 2: 1 pretraining + 2 fine-tunings
    assert not osp.exists(osp.join(out, 'pretrain', 'simclr', 'seed2'))
    with open(osp.join(out, 'results.csv')) as f:
        assert len(list(csv.DictReader(f))) == 4


def test_weak_colour_recipe_end_to_end(tmp_path, rs_tiles):
    """The remote-sensing recipe of the README's evidence: the weak-colour SimCLR and GraSS configs pretrain a few
    iterations, their backbones fit the fine-tuning backbone (checked before anything runs), GraSS is compared
    with the SimCLR of the same variant, and --probe-iters reaches the pretrained starts' fine-tuning (not
    random-init's: tests/test_experiments/test_configs.py)."""
    out = str(tmp_path / 'wc')
    qs = osp.join(REPO_ROOT, 'configs', 'quickstart')
    run_sweep(
        '--work-dir',
        out,
        '--dataset-config',
        POTSDAM,
        '--methods',
        'SimCLR-wc',
        'GraSS-wc',
        '--pretrain-config',
        f'SimCLR-wc={qs}/simclr_resnet18_1xb16-weak-colour-coslr-200it_tiles-vts-64px.py',
        '--pretrain-config',
        f'GraSS-wc={qs}/grass_resnet18_1xb16-weak-colour-coslr-200it_tiles-vts-64px.py',
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
    with open(osp.join(out, 'results.md')) as f:
        md = f.read()
    assert '| GraSS-wc - SimCLR-wc | full fine-tuning | 100% |' in md
    logs = {
        m: ''.join(
            open(p).read() for p in glob.glob(osp.join(out, 'finetune', m, 'full', 'frac1', 'seed0', '2*', '*.log'))
        )
        for m in ('simclr-wc', 'grass-wc')
    }
    assert (
        'backbone fixed for the first 1 iterations' in logs['simclr-wc']
        and 'the whole network trains' in logs['grass-wc']
    )
    from mmengine.config import Config

    for m in ('simclr-wc', 'grass-wc'):  # the pretraining ran with the weak colour jitter of the recipe
        cfg = Config.fromfile(glob.glob(osp.join(out, 'configs', f'pretrain_{m}_*.py'))[0])
        multi = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'MultiView'][0]
        views = [t for group in multi['transforms'] for t in group]
        jitter = [j for t in views if t['type'] == 'RandomApply' for j in t['transforms'] if j['type'] == 'ColorJitter']
        assert [(j['saturation'], j['hue']) for j in jitter] == [(0.0, 0.0)]
        assert not any(t['type'] == 'RandomGrayscale' for t in views)
