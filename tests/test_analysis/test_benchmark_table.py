"""tools/analysis/benchmark_table.py on fabricated mmengine work dirs."""

import csv
import json
import os
import os.path as osp

import pytest
from test_runtime._tools import run_tool

from grass_mm.analysis import ResultsNotFoundError, benchmark_table, collect_results, read_metrics


def fake_test_run(work_dir, stamp, aacc, miou, macc):
    """What tools/test.py leaves: <stamp>/<stamp>.json (+ .log)."""
    d = osp.join(work_dir, stamp)
    os.makedirs(d, exist_ok=True)
    with open(osp.join(d, f'{stamp}.json'), 'w') as f:
        json.dump(dict(aAcc=aacc, mIoU=miou, mAcc=macc, data_time=0.01, time=0.1), f)
    open(osp.join(d, f'{stamp}.log'), 'w').close()


def fake_train_run(work_dir, stamp, val_lines):
    """What a training run with validation leaves: <stamp>/vis_data/scalars.json."""
    d = osp.join(work_dir, stamp, 'vis_data')
    os.makedirs(d, exist_ok=True)
    with open(osp.join(d, 'scalars.json'), 'w') as f:
        for step, (aacc, miou, macc) in enumerate(val_lines, 1):
            f.write(json.dumps(dict(lr=0.01, loss=1.0, step=10 * step)) + '\n')
            f.write(json.dumps(dict(aAcc=aacc, mIoU=miou, mAcc=macc, step=10 * step)) + '\n')


def dump_config(work_dir, name, text):
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, name), 'w') as f:
        f.write(text)


SEG_CFG = "train_dataloader = dict(dataset=dict(type='{dtype}'))\nmodel = dict(backbone=dict(init_cfg={init}))\n"


@pytest.fixture
def runs(tmp_path):
    """3 methods x 2 datasets with known numbers; returns (run args, expected cells)."""
    values = {  # (method, dataset): (aAcc, mIoU, mAcc)
        ('random-init', 'Potsdam'): (80.0, 60.0, 70.0),
        ('simclr', 'Potsdam'): (82.0, 63.0, 72.5),
        ('GraSS', 'Potsdam'): (83.5, 65.5, 74.0),
        ('random-init', 'VTS'): (70.0, 50.0, 65.0),
        ('simclr', 'VTS'): (71.0, 52.0, 66.0),
        ('GraSS', 'VTS'): (74.0, 57.0, 69.0),
    }
    args = []
    for i, ((method, dataset), (aacc, miou, macc)) in enumerate(values.items()):
        wd = str(tmp_path / f'run{i}')
        dtype = f'{dataset}Dataset'
        if method == 'random-init':  # labels from the dumped config: no init -> random-init
            dump_config(wd, 'fcn.py', SEG_CFG.format(dtype=dtype, init='None'))
        elif method == 'simclr':  # labels from the pretraining work dir named in init_cfg
            init = "dict(type='Pretrained', checkpoint='work_dirs/simclr_r18_tiles/iter_300.pth')"
            dump_config(wd, 'fcn.py', SEG_CFG.format(dtype=dtype, init=init))
        else:  # labels from grass_mm_meta
            dump_config(
                wd,
                'fcn.py',
                SEG_CFG.format(dtype=dtype, init='None')
                + f"grass_mm_meta = dict(method='GraSS', dataset='{dataset}')\n",
            )
        if dataset == 'VTS' and method == 'simclr':  # only a validation during training
            fake_train_run(wd, '20260101_000000', [(1.0, 1.0, 1.0), (aacc, miou, macc)])
        else:  # an older test run and the newest one
            fake_test_run(wd, '20260101_000000', 1.0, 1.0, 1.0)
            fake_test_run(wd, '20260102_000000', aacc, miou, macc)
        args.append(wd)
    return args, values


def test_labels_and_newest_results(runs):
    args, values = runs
    results = collect_results(args)
    got = {(r.method, r.dataset): (r.metrics['OA'], r.metrics['mIoU'], r.metrics['mAcc']) for r in results}
    assert got == values
    kinds = {(r.method, r.dataset): r.kind for r in results}
    assert kinds[('simclr', 'VTS')] == 'val' and kinds[('GraSS', 'VTS')] == 'test'


def test_table_markdown_csv_and_gains(runs, tmp_path):
    args, values = runs
    prefix = str(tmp_path / 'bench')
    md = benchmark_table(args, prefix)
    lines = md.splitlines()
    assert lines[0] == ('| method | Potsdam mIoU | Potsdam OA | Potsdam mAcc | VTS mIoU | VTS OA | VTS mAcc |')
    grass_row = next(ln for ln in lines if ln.startswith('| GraSS |'))
    cells = [c.strip() for c in grass_row.strip('|').split('|')][1:]
    exp = []
    for d in ('Potsdam', 'VTS'):
        aacc, miou, macc = values[('GraSS', d)]
        exp += [f'{miou:.2f}', f'{aacc:.2f}', f'{macc:.2f}']
    assert cells == exp
    with open(prefix + '.csv') as f:
        rows = list(csv.DictReader(f))
    table = {(r['method'], r['dataset']): r for r in rows}
    for (m, d), (aacc, miou, macc) in values.items():
        r = table[(m, d)]
        assert (float(r['OA']), float(r['mIoU']), float(r['mAcc'])) == pytest.approx((aacc, miou, macc))
    # default baselines: every method not named GraSS*; gain = mean over datasets of the difference
    for base in ('random-init', 'simclr'):
        r = table[('GraSS', f'mean gain vs {base}')]
        for k, idx in (('OA', 0), ('mIoU', 1), ('mAcc', 2)):
            diffs = [values[('GraSS', d)][idx] - values[(base, d)][idx] for d in ('Potsdam', 'VTS')]
            assert float(r[k]) == pytest.approx(sum(diffs) / 2)
    assert ('GraSS', 'mean gain vs GraSS') not in table
    assert 'vs simclr mIoU' in md
    with open(prefix + '.md') as f:
        assert f.read() == md


def test_repeated_runs_are_averaged_and_labels_from_args(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    fake_test_run(a, '20260101_000000', 80.0, 60.0, 70.0)
    fake_test_run(b, '20260101_000000', 90.0, 64.0, 74.0)
    md = benchmark_table([f'GraSS@Dubai={a}', f'GraSS@Dubai={b}'], baselines=[])
    row = next(ln for ln in md.splitlines() if ln.startswith('| GraSS |'))
    assert '62.00 (n=2)' in row and '85.00 (n=2)' in row and '72.00 (n=2)' in row


def test_missing_results_name_the_folder(tmp_path, runs):
    args, _ = runs
    empty = tmp_path / 'unfinished'
    (empty / '20260101_000000').mkdir(parents=True)
    (empty / '20260101_000000' / '20260101_000000.log').write_text('training crashed\n')
    with pytest.raises(ResultsNotFoundError) as err:
        read_metrics(str(empty))
    assert str(empty) in str(err.value) and 'no evaluation results' in str(err.value)
    with pytest.raises(ResultsNotFoundError, match='no such folder'):
        read_metrics(str(tmp_path / 'nope'))
    # through the command line: exit code 1, one line per bad folder, the good ones not reported
    proc = run_tool(['tools/analysis/benchmark_table.py', *args, str(empty), str(tmp_path / 'nope')])
    assert proc.returncode == 1
    assert f'{empty}: no evaluation results' in proc.stderr
    assert f'{tmp_path / "nope"}: no such folder' in proc.stderr
    assert args[0] not in proc.stderr


def test_result_without_a_metric_and_unknown_labels(tmp_path):
    wd = str(tmp_path / 'r')
    d = osp.join(wd, '20260101_000000')
    os.makedirs(d)
    with open(osp.join(d, '20260101_000000.json'), 'w') as f:
        json.dump(dict(mIoU=50.0, aAcc=70.0), f)  # no mAcc
    with pytest.raises(ResultsNotFoundError, match="has no 'mAcc'"):
        read_metrics(wd)
    wd2 = str(tmp_path / 'r2')
    fake_test_run(wd2, '20260101_000000', 80.0, 60.0, 70.0)  # no dumped config, no labels given
    with pytest.raises(ResultsNotFoundError, match='METHOD@DATASET='):
        collect_results([wd2])
    with pytest.raises(ValueError, match='not among the methods'):
        benchmark_table([f'A@X={wd2}'], baselines=['B'])


def test_cli_writes_files(runs, tmp_path):
    args, _ = runs
    out = str(tmp_path / 'report')
    proc = run_tool(['tools/analysis/benchmark_table.py', *args, '--out', out, '--baselines', 'random-init'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out + '.md') as f:
        md = f.read()
    assert md in proc.stdout
    assert 'vs random-init mIoU' in md and 'vs simclr' not in md
    assert osp.isfile(out + '.csv')
