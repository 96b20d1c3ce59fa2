"""The noisy-pair study (grass_mm.experiments.noisy_pairs, tools/experiments/noisy_pairs.py) runs configs through
tools/train.py (mmengine's Runner, mmseg's IoUMetric), writes CSV / Markdown / PNG and its configs, resumes, and
reports the random-init floor. The study runs in this interpreter, its steps in forks of it; one test runs the
tool as a user does."""

import contextlib
import csv
import io
import math
import os.path as osp

import pytest
from test_runtime._tools import forked_steps, run_forked, run_tool

from grass_mm.analysis.sweep_report import clean_pair_warnings, mark_floor, noisy_pairs_markdown
from grass_mm.experiments import NoisyPairsSettings, SweepError, noisy_pairs
from grass_mm.experiments.cli import parse_noisy_pairs

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = [
    '--methods',
    'pixel-pair',
    '--r-img',
    '0',
    '1',
    '--noisy-share',
    '1',
    '--size',
    '32',
    '--base-channels',
    '8',
    '--batch',
    '4',
    '--pretrain-iters',
    '2',
    '--eval-iters',
    '2',
    '--eval-batch',
    '2',
    '--eval-train',
    '4',
    '--eval-test',
    '4',
]


def run_study(argv):
    """The study of ``tools/experiments/noisy_pairs.py ARGV`` in this interpreter; ``(records, printed)``."""
    out = io.StringIO()
    with forked_steps(), contextlib.redirect_stdout(out):
        records = noisy_pairs.run(parse_noisy_pairs(argv))
    return records, out.getvalue()


@pytest.fixture(scope='module')
def study(tmp_path_factory):
    """The tiny study, run once for the tests of this module: ``(out dir, records)``."""
    out = tmp_path_factory.mktemp('noisy_pairs') / 'study'
    records, _ = run_study(['--out', str(out)] + TINY)
    return out, records


def test_tiny_study_writes_table_plot_and_configs(study):
    out, records = study
    with open(out / 'noisy_pairs.csv') as f:
        table = list(csv.DictReader(f))
    assert [r['method'] for r in table] == ['random-init', 'pixel-pair', 'pixel-pair']
    assert [float(r['r_img']) for r in table[1:]] == [0.0, 1.0]
    for r in table:
        for key in ('mIoU', 'aAcc', 'mAcc'):
            assert 0.0 <= float(r[key]) <= 100.0
        assert osp.isfile(r['config']) and osp.isdir(r['work_dir'])
    assert all(math.isfinite(float(r['pretrain_loss'])) for r in table[1:])
    floor = float(table[0]['mIoU'])
    for r in table[1:]:  # each run is marked against the floor
        assert float(r['vs_floor']) == pytest.approx(float(r['mIoU']) - floor, abs=0.011)
        assert r['beats_floor'] == ('yes' if float(r['mIoU']) > floor + 1.0 else 'no')
    assert (out / 'noisy_pairs.png').stat().st_size > 1000
    md = (out / 'noisy_pairs.md').read_text()
    assert 'clean pairs vs floor' in md and f'{floor:.2f}' in md
    configs = sorted(p.name for p in (out / 'configs').iterdir())
    assert len([c for c in configs if c.startswith('pretrain_pixel-pair')]) == 2
    assert len([c for c in configs if c.startswith('fcn-frozen_')]) == 3
    commands = (out / 'commands.sh').read_text().splitlines()
    assert len([c for c in commands if 'tools/train.py' in c]) == 5


def test_written_config_reruns_to_the_same_numbers(study, tmp_path):
    """A config of the study, rerun by hand with tools/train.py, gives the table's IoUMetric result."""
    from grass_mm.analysis import read_metrics

    _, records = study
    rec = records[-1]  # pixel-pair, r_img 1: its config loads the pretraining checkpoint
    assert rec['method'] == 'pixel-pair' and rec['r_img'] == 1.0
    proc = run_forked(['tools/train.py', rec['config'], '--work-dir', str(tmp_path / 'rerun')])
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics, _, kind = read_metrics(str(tmp_path / 'rerun'))
    assert kind == 'val'
    assert metrics['mIoU'] == pytest.approx(rec['mIoU'], abs=1e-6)
    assert metrics['mAcc'] == pytest.approx(rec['mAcc'], abs=1e-6)


def test_tool_rerun_skips_finished_runs_and_refuses_other_budgets(study):
    """The tool as a user runs it, on the study made above: it reads the work dir's settings, runs nothing again
    and writes the same table."""
    out, records = study
    commands = (out / 'commands.sh').read_text()
    table = (out / 'noisy_pairs.csv').read_text()
    proc = run_tool([osp.join(REPO_ROOT, 'tools', 'experiments', 'noisy_pairs.py'), '--out', str(out), *TINY])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count('finished earlier, skipped') == 5 and '[noisy_pairs] resuming' in proc.stdout
    assert (out / 'commands.sh').read_text() == commands  # nothing was run again
    assert (out / 'noisy_pairs.csv').read_text() == table
    assert (out / 'noisy_pairs.md').read_text().strip() in proc.stdout
    with pytest.raises(SweepError, match='eval_iters: 2 -> 3'):
        run_study(['--out', str(out)] + TINY[:-8] + ['--eval-iters', '3'] + TINY[-6:])


def test_floor_marks_and_warning():
    recs = [
        dict(method='random-init', r_img=None, noisy_share=None, mIoU=60.0),
        dict(method='grass', r_img=0.0, noisy_share=1.0, mIoU=63.0),
        dict(method='grass', r_img=1.0, noisy_share=1.0, mIoU=58.0),
        dict(method='mocov2', r_img=0.0, noisy_share=1.0, mIoU=60.5),
    ]
    assert mark_floor(recs, margin=1.0) == 60.0
    assert [r['beats_floor'] for r in recs] == ['', 'yes', 'no', 'no']
    assert recs[3]['vs_floor'] == pytest.approx(0.5)
    lines = clean_pair_warnings(recs, margin=1.0)
    assert len(lines) == 1 and 'mocov2' in lines[0] and 'raise --pretrain-iters' in lines[0]
    md = noisy_pairs_markdown(recs, margin=1.0)
    assert '| grass | 1 | 63.00 | 58.00 | +3.00 (beats the floor) |' in md
    assert '| mocov2 | 1 | 60.50 | - | +0.50 (does NOT beat the floor) |' in md
    assert '| random-init (floor) | - | 60.00 | 60.00 | - |' in md
    assert clean_pair_warnings(recs[1:]) == []  # no floor run: nothing to compare with
    assert '(no random-init floor run)' in noisy_pairs_markdown(recs[1:])


def test_configs_are_named_key_merges_of_the_noisy_pair_configs():
    args = parse_noisy_pairs(['--out', 'unused', '--size', '64', '--base-channels', '16'])
    cfg = noisy_pairs.pretrain_config('densecl', args, r_img=0.5, share=0.25)
    views = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'PairedViews']
    assert len(views) == 1 and views[0]['pair_prob'] == 0.25 and views[0]['photometric'] == []
    assert views[0]['shared_geometry'] is True  # kept from configs/noisy_pairs/_base_/paired_views.py
    assert cfg.train_dataloader.dataset.r_img == 0.5 and cfg.model.neck.in_channels == 128
    assert cfg.model.backbone.zero_init_residual is True
    ev = noisy_pairs.eval_config('densecl', args, ckpt='/x/iter_200.pth')
    assert ev.model.backbone.frozen_stages == 4 and ev.model.backbone.norm_eval is True
    assert ev.model.backbone.init_cfg == dict(type='Pretrained', checkpoint='/x/iter_200.pth', prefix='backbone.')
    assert ev.val_evaluator.type == 'IoUMetric' and ev.model.auxiliary_head is None
    assert noisy_pairs.eval_config('random-init', args).model.backbone.init_cfg is None
    full = noisy_pairs.eval_config('densecl', NoisyPairsSettings(finetune=True))
    assert full.grass_mm_meta.protocol == 'finetune' and full.model.backbone.get('frozen_stages', -1) == -1
