"""Intervals over seeds and paired differences: checked against scipy.stats on known numbers."""

import math

import numpy as np
import pytest
from scipy import stats

from grass_mm.analysis.intervals import beyond_interval, format_interval, paired_differences, t_interval
from grass_mm.analysis.sweep_report import default_comparisons, paired_table, sweep_markdown


def test_t_interval_equals_scipy():
    vals = [23.68, 21.86, 22.61, 24.02, 22.5]
    mean, half, n = t_interval(vals)
    lo, hi = stats.t.interval(0.95, len(vals) - 1, loc=np.mean(vals), scale=stats.sem(vals))
    assert n == 5 and mean == pytest.approx(np.mean(vals))
    assert mean - half == pytest.approx(lo) and mean + half == pytest.approx(hi)
    _, half90, _ = t_interval(vals, 0.90)
    assert half90 < half
    m1, h1, n1 = t_interval([3.0])
    assert (m1, n1) == (3.0, 1) and math.isnan(h1)
    with pytest.raises(ValueError):
        t_interval([])


def test_paired_differences_match_by_seed():
    a = {0: 25.0, 1: 24.0, 2: 26.5}
    b = {2: 25.5, 0: 23.0, 3: 99.0}
    assert paired_differences(a, b) == [2.0, 1.0]
    assert format_interval(1.234, 0.5, signed=True) == '+1.23 ± 0.50'
    assert beyond_interval(1.0, 0.5) is True and beyond_interval(-0.2, 0.5) is False


def _records():
    rng = np.random.default_rng(0)
    out = []
    for seed in range(3):
        for frac in (0.1, 1.0):
            base = 20 + 10 * frac + rng.normal()
            for method, gain in (('random-init', 0.0), ('SimCLR', 1.0), ('GraSS', 1.5)):
                v = base + gain + 0.1 * seed * (method == 'GraSS')
                out.append(
                    dict(
                        method=method,
                        protocol='frozen',
                        fraction=frac,
                        seed=seed,
                        mIoU=v,
                        OA=v + 30,
                        mAcc=v + 5,
                        work_dir=f'/w/{method}/{frac}/{seed}',
                    )
                )
    return out


def test_paired_table_and_markdown():
    recs = _records()
    rows = {(r['a'], r['b'], r['fraction']): r for r in paired_table(recs)}
    assert set(k[:2] for k in rows) == {('SimCLR', 'random-init'), ('GraSS', 'random-init'), ('GraSS', 'SimCLR')}
    g = rows[('GraSS', 'SimCLR', 0.1)]
    diffs = [0.5, 0.6, 0.7]
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean(diffs), scale=stats.sem(diffs))
    assert g['mean'] == pytest.approx(0.6) and g['half'] == pytest.approx((hi - lo) / 2) and g['n'] == 3
    assert g['significant'] is True
    s = rows[('SimCLR', 'random-init', 1.0)]
    assert s['mean'] == pytest.approx(1.0) and s['half'] == pytest.approx(0.0, abs=1e-9)
    md = sweep_markdown(recs, title='toy')
    mean, half, _ = t_interval([r['mIoU'] for r in recs if r['method'] == 'SimCLR' and r['fraction'] == 0.1])
    assert f'{mean:.2f} ± {half:.2f} (n=3)' in md
    assert '| GraSS - SimCLR | frozen encoder | 10% | +0.60 ± ' in md
    assert '| method | frozen encoder, 10% labels | frozen encoder, 100% labels |' in md  # not "0.1 labels"
    dup = recs + [dict(recs[0])]
    with pytest.raises(ValueError, match='seed 0'):
        paired_table(dup)


def test_default_comparisons_pair_variants_by_suffix():
    """GraSS is compared with the SimCLR of the same variant (same suffix), never with another variant."""
    got = default_comparisons(['random-init', 'SimCLR-wc', 'GraSS-wc', 'GraSS', 'MoCoV2'])
    assert got == [
        ('SimCLR-wc', 'random-init'),
        ('GraSS-wc', 'random-init'),
        ('GraSS', 'random-init'),
        ('MoCoV2', 'random-init'),
        ('GraSS-wc', 'SimCLR-wc'),
    ]
    assert default_comparisons(['SimCLR', 'GraSS']) == [('GraSS', 'SimCLR')]
