"""Cross-validation statistics (grass_mm.analysis.folds) against independent scipy/numpy computations."""

import math
import random

import numpy as np
import pytest
from scipy import stats

from grass_mm.analysis.folds import (
    COVERED,
    compare,
    cv_markdown,
    fold_differences,
    miou_over_covered,
    read_cv_csv,
    readme_markdown,
    runs_for_power,
    sign_test,
    with_covered,
    write_cv_csv,
)

CLASSES = ('building', 'land', 'water')


def synthetic_records(folds=6, seeds=(0, 1, 2), effect=1.5, rng_seed=0):
    """Records of methods A and B: B ~ fold level + noise; A = B + effect + fold-specific shift + noise."""
    rng = random.Random(rng_seed)
    recs = []
    for f in range(folds):
        level, shift = rng.uniform(20, 40), rng.gauss(0, 2)
        shares = [rng.uniform(0.2, 3), rng.uniform(30, 60)]
        shares.append(100 - sum(shares))
        for s in seeds:
            for method, offset in (('B', 0.0), ('A', effect + shift)):
                ious = [rng.uniform(0, 60) for _ in CLASSES]
                rec = dict(
                    fold=f'tile_{f + 1}',
                    method=method,
                    protocol='frozen',
                    fraction=0.1,
                    seed=s,
                    mIoU=level + offset + rng.gauss(0, 1),
                    OA=50.0,
                    mAcc=40.0,
                )
                rec.update({f'IoU.{c}': v for c, v in zip(CLASSES, ious, strict=True)})
                rec.update({f'share.{c}': v for c, v in zip(CLASSES, shares, strict=True)})
                recs.append(rec)
    return recs


def test_fold_is_the_unit_against_scipy():
    recs = synthetic_records()
    (row,) = compare(recs, comparisons=[('A', 'B')])
    # independent: per fold, the mean over seeds of the seed-paired differences
    expected = []
    for f in sorted({r['fold'] for r in recs}):
        a = {r['seed']: r['mIoU'] for r in recs if r['fold'] == f and r['method'] == 'A'}
        b = {r['seed']: r['mIoU'] for r in recs if r['fold'] == f and r['method'] == 'B'}
        expected.append(np.mean([a[s] - b[s] for s in sorted(a)]))
    expected = np.array(expected)
    assert [row['per_fold'][f] for f in sorted(row['per_fold'])] == pytest.approx(expected.tolist())
    assert row['n'] == 6
    assert row['mean'] == pytest.approx(expected.mean())
    lo, hi = stats.t.interval(0.95, len(expected) - 1, loc=expected.mean(), scale=stats.sem(expected))
    assert row['half'] == pytest.approx((hi - lo) / 2)
    assert row['sd'] == pytest.approx(expected.std(ddof=1))
    pos = int((expected > 0).sum())
    assert row['positives'] == pos and row['negatives'] == 6 - pos
    assert row['sign_p'] == pytest.approx(stats.binomtest(pos, 6, 0.5).pvalue)


def test_fold_differences_pair_by_seed_and_skip_missing():
    a = {'t1': {0: 10.0, 1: 12.0, 2: 20.0}, 't2': {0: 5.0}}
    b = {'t1': {0: 9.0, 1: 9.0}, 't3': {0: 1.0}}
    assert fold_differences(a, b) == {'t1': pytest.approx(2.0)}


def test_sign_test_drops_ties_and_matches_binomial():
    assert sign_test([1.0, 2.0, -0.5, 0.0, 3.0]) == (3, 1, pytest.approx(stats.binomtest(3, 4).pvalue))
    assert sign_test([0.0, 0.0]) == (0, 0, 1.0)
    assert sign_test([1.0] * 6)[2] == pytest.approx(2 * 0.5**6)


@pytest.mark.parametrize('effect', [0.5, 0.8, 1.2])
def test_runs_for_power_is_the_smallest_n_reaching_80_percent(effect):
    n = runs_for_power(1.0, effect)

    def power(k):  # noncentral t, computed independently of the function under test
        df, nc = k - 1, effect * math.sqrt(k)
        crit = stats.t.isf(0.025, df)
        return 1 - stats.nct.cdf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)

    assert power(n) >= 0.8 > power(n - 1)
    # a Monte Carlo check of the same power at n
    rng = np.random.default_rng(0)
    sims = rng.normal(effect, 1.0, size=(4000, n))
    p = stats.ttest_1samp(sims, 0.0, axis=1).pvalue
    assert abs((p < 0.05).mean() - power(n)) < 0.03


def test_runs_for_power_rejects_degenerate_input():
    with pytest.raises(ValueError, match='sd > 0'):
        runs_for_power(0.0, 1.0)


def test_miou_over_covered_drops_rare_and_absent_classes():
    rec = {'IoU.a': 10.0, 'IoU.b': 50.0, 'IoU.c': math.nan, 'share.a': 0.5, 'share.b': 60.0, 'share.c': 39.5}
    assert miou_over_covered(rec) == pytest.approx(50.0)
    assert miou_over_covered(rec, min_share=0.1) == pytest.approx(30.0)
    assert math.isnan(miou_over_covered({'IoU.a': 1.0, 'share.a': 0.1}))


def test_covered_metric_changes_the_comparison():
    recs = synthetic_records()
    (plain,) = compare(recs, comparisons=[('A', 'B')], metric='mIoU')
    (cov,) = compare(with_covered(recs), comparisons=[('A', 'B')], metric=COVERED)
    assert plain['mean'] != pytest.approx(cov['mean'])
    # building covers < 1% of some folds: there the covered mIoU is the mean of land and water only
    r = next(r for r in recs if r['share.building'] < 1)
    assert miou_over_covered(r) == pytest.approx((r['IoU.land'] + r['IoU.water']) / 2)


def test_csv_round_trip_regenerates_the_same_report(tmp_path):
    recs = synthetic_records()
    path = tmp_path / 'results.csv'
    write_cv_csv(recs, str(path))
    back = read_cv_csv(str(path))
    assert len(back) == len(recs)
    ab = [('A', 'B')]
    assert cv_markdown(back, comparisons=ab) == cv_markdown(read_cv_csv(str(path)), comparisons=ab)
    # four decimals in the CSV: the tables (two decimals) are the same as from the unrounded records
    assert readme_markdown(back, comparisons=ab) == readme_markdown(recs, comparisons=ab)
    assert '| A - B |' in readme_markdown(back, comparisons=ab)
    assert '| A - B | frozen | 10% |' in cv_markdown(back, comparisons=ab)
