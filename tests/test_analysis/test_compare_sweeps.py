"""tools/analysis/compare_sweeps.py: the paired gains of several sweeps side by side (table and plot)."""

import os

import numpy as np
import pytest
from scipy import stats
from test_runtime._tools import run_forked, run_tool

from grass_mm.analysis.sweep_report import gains_across, gains_markdown, recipe_effects, write_sweep_csv


def _records(shift):
    """random-init and SimCLR on 3 seeds, 2 fractions; SimCLR = random-init + shift + seed/10."""
    out = []
    for seed in range(3):
        for fraction in (0.1, 1.0):
            base = 20.0 + seed + 10 * fraction
            for method, value in (('random-init', base), ('SimCLR', base + shift + seed / 10)):
                out.append(
                    dict(
                        method=method,
                        protocol='full',
                        fraction=fraction,
                        seed=seed,
                        mIoU=value,
                        OA=50.0,
                        mAcc=40.0,
                        work_dir=f'/runs/{method}/{fraction}/{seed}',
                    )
                )
    return out


def _half(diffs):
    lo, hi = stats.t.interval(0.95, len(diffs) - 1, loc=np.mean(diffs), scale=stats.sem(diffs))
    return (hi - lo) / 2


def test_gains_across_sweeps():
    rows = gains_across({'200 it': _records(-1.0), '800 it': _records(2.0)})
    cell = {(r['label'], r['fraction']): r for r in rows}
    assert set(cell) == {('200 it', 0.1), ('200 it', 1.0), ('800 it', 0.1), ('800 it', 1.0)}
    diffs = [2.0, 2.1, 2.2]
    r = cell[('800 it', 0.1)]
    assert r['mean'] == pytest.approx(np.mean(diffs)) and r['half'] == pytest.approx(_half(diffs)) and r['n'] == 3
    assert r['significant'] and (r['a'], r['b']) == ('SimCLR', 'random-init')
    assert cell[('200 it', 1.0)]['mean'] == pytest.approx(-0.9)
    md = gains_markdown(rows)
    assert '| comparison | protocol | labels | 200 it | 800 it |' in md
    assert f'| SimCLR - random-init | full | 0.1 | -0.90 ± {_half([-1.0, -0.9, -0.8]):.2f} * (n=3) | +2.10 ± ' in md


def test_recipe_effects_pair_the_same_method_and_seed():
    """A recipe's sweep against the plain one: SimCLR gains 3 + seed/10 over its plain self (the shift of
    _records), random-init nothing; the base label itself has no row, an unknown base is refused."""
    rows = recipe_effects({'plain': _records(-1.0), 'recipe': _records(2.0)}, 'plain')
    cell = {(r['a'], r['fraction']): r for r in rows}
    assert set(cell) == {(m, f) for m in ('random-init', 'SimCLR') for f in (0.1, 1.0)}
    assert {r['label'] for r in rows} == {'recipe'} and cell[('SimCLR', 0.1)]['b'] == 'SimCLR (plain)'
    assert cell[('SimCLR', 0.1)]['mean'] == pytest.approx(3.0) and cell[('SimCLR', 0.1)]['half'] == pytest.approx(0)
    assert cell[('random-init', 1.0)]['mean'] == 0 and cell[('random-init', 1.0)]['n'] == 3
    assert '| SimCLR - SimCLR (plain) | full | 0.1 | +3.00' in gains_markdown(rows)
    with pytest.raises(ValueError, match="--against 'base': no sweep has that label"):
        recipe_effects({'plain': _records(0.0)}, 'base')


def test_cli_writes_table_and_plot(tmp_path):
    """The tool as a user runs it (a fresh interpreter), then its other cases in forks of this interpreter."""
    dirs = []
    for name, shift in (('short', -1.0), ('long', 2.0)):
        d = tmp_path / name
        d.mkdir()
        write_sweep_csv(_records(shift), str(d / 'results.csv'))
        dirs.append(str(d))
    out = str(tmp_path / 'gains')
    proc = run_tool(['tools/analysis/compare_sweeps.py', f'200 it={dirs[0]}', dirs[1], '--out', out])
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(out + '.md') as f:
        md = f.read()
    assert '| 200 it | long |' in md and '+2.10' in md
    assert os.path.getsize(out + '.png') > 5000
    # an existing report is kept unless --overwrite
    again = run_forked(['tools/analysis/compare_sweeps.py', dirs[1], '--out', out])
    assert again.returncode != 0 and 'gains.md' in again.stderr and 'Traceback' not in again.stderr
    assert open(out + '.md').read() == md
    proc = run_forked(
        [
            'tools/analysis/compare_sweeps.py',
            f'200 it={dirs[0]}',
            dirs[1],
            '--against',
            '200 it',
            '--out',
            out,
            '--overwrite',
        ]
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(out + '.md') as f:
        assert "against '200 it'" in f.read() and '| SimCLR - SimCLR (200 it) | full | 1 | +3.00' in proc.stdout
    # two sweeps under one label are pooled (here: the same runs twice, so every seed is repeated: an error)
    proc = run_forked(
        ['tools/analysis/compare_sweeps.py', f'a={dirs[0]}', f'a={dirs[0]}', '--out', str(tmp_path / 'y')]
    )
    assert proc.returncode != 0 and 'with seed 0' in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    half = tmp_path / 'half'
    half.mkdir()
    write_sweep_csv([r for r in _records(2.0) if r['fraction'] == 0.1], str(half / 'results.csv'))
    rest = tmp_path / 'rest'
    rest.mkdir()
    write_sweep_csv([r for r in _records(2.0) if r['fraction'] == 1.0], str(rest / 'results.csv'))
    proc = run_forked(['tools/analysis/compare_sweeps.py', f'p={half}', f'p={rest}', '--out', str(tmp_path / 'pooled')])
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(tmp_path / 'pooled.md') as f:
        pooled = f.read()
    assert '| comparison | protocol | labels | p |' in pooled
    assert (
        '| SimCLR - random-init | full | 0.1 | +2.10' in pooled
        and '| SimCLR - random-init | full | 1 | +2.10' in pooled
    )
    # a folder without results: one line, nothing written
    proc = run_forked(['tools/analysis/compare_sweeps.py', str(tmp_path / 'none'), '--out', str(tmp_path / 'x')])
    assert proc.returncode != 0 and proc.stderr.strip() == (
        f'error: {tmp_path / "none"}: no results.csv (not a finished sweep; run sweep.py --report-only there)'
    )
    assert not any(p.name.startswith(('x.', 'y.')) for p in tmp_path.iterdir())
