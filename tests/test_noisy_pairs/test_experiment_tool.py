"""tools/experiments/noisy_pairs.py: a minimal sweep writes a CSV (one row per run) and a PNG."""

import csv
import importlib.util
import math
import os.path as osp

import pytest

TOOL = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools', 'experiments', 'noisy_pairs.py')


def _tool():
    spec = importlib.util.spec_from_file_location('noisy_pairs_tool', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tiny_sweep_writes_csv_and_png(tmp_path):
    tool = _tool()
    out = tmp_path / 'sweep'
    rows = tool.main(
        [
            '--out',
            str(out),
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
            '2',
            '--pretrain-iters',
            '2',
            '--eval-iters',
            '2',
            '--eval-train',
            '4',
            '--eval-test',
            '2',
        ]
    )
    with open(out / 'noisy_pairs.csv') as f:
        table = list(csv.DictReader(f))
    assert [r['method'] for r in table] == ['random-init', 'pixel-pair', 'pixel-pair']
    assert [float(r['r_img']) for r in table[1:]] == [0.0, 1.0]
    for r in table:
        assert 0.0 <= float(r['miou']) <= 100.0
    assert all(math.isfinite(float(r['pretrain_loss'])) for r in table[1:])
    assert len(rows) == 3 and (out / 'noisy_pairs.png').stat().st_size > 1000


@pytest.mark.parametrize('flag', [['--r-img', '1.5'], ['--noisy-share', '-0.2'], ['--batch', '0']])
def test_bad_flags(flag, capsys):
    with pytest.raises(SystemExit):
        _tool().parse_args(flag)
    assert flag[0] in capsys.readouterr().err
