"""Cross-validation over folds (e.g. leave-one-tile-out): the fold is the unit (pure functions).

A *record* is one evaluated fine-tuning run: ``dict(fold, method, protocol, fraction, seed, mIoU, OA, mAcc,
IoU.<class>..., share.<class>...)`` with metrics in percent (``share.<c>``: the share of the fold's labelled test
pixels that carry class ``c``). A comparison ``A - B`` is paired by seed inside a fold, the seeds are averaged
into one difference per fold, and the folds are summarised: mean ± Student-t interval over folds and a two-sided
sign test (how many folds favour ``A``). Seeds inside a fold are not independent replicates of the question
"does it transfer to an unseen tile", folds are.
"""

import csv
import math
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from scipy import stats

from .intervals import format_interval, t_interval

#: the comparisons a cross-validation reports (those whose two methods are both present)
CV_COMPARISONS = (
    ('SimCLR', 'random-init'),
    ('GraSS', 'random-init'),
    ('GraSS', 'SimCLR'),
    ('GraSS', 'GraSS-random-boxes'),
    ('supervised', 'random-init'),
)
#: mIoU over the classes that cover at least this share (%) of a fold's labelled test pixels
MIN_CLASS_SHARE = 1.0
COVERED = 'mIoU_cov'
BASE_FIELDS = ('fold', 'method', 'protocol', 'fraction', 'seed', 'mIoU', 'OA', 'mAcc')


def fraction_name(fraction: float) -> str:
    """``1.0 -> '100%'``, ``0.1 -> '10%'``, ``0.025 -> '2.5%'``."""
    return f'{100 * fraction:g}%'


def class_names(records: Sequence[dict]) -> List[str]:
    """Class names of the ``IoU.<class>`` keys, in first-seen order."""
    names = OrderedDict()
    for r in records:
        for k in r:
            if k.startswith('IoU.'):
                names[k[4:]] = None
    return list(names)


def miou_over_covered(record: dict, min_share: float = MIN_CLASS_SHARE) -> float:
    """Mean IoU over the classes whose ``share.<c>`` is ``>= min_share`` %; a NaN IoU (class neither labelled nor
    predicted) counts as absent. NaN when no class qualifies."""
    vals = [
        record[f'IoU.{c}']
        for c in class_names([record])
        if record.get(f'share.{c}', math.nan) >= min_share and not math.isnan(record[f'IoU.{c}'])
    ]
    return sum(vals) / len(vals) if vals else math.nan


def with_covered(records: Sequence[dict], min_share: float = MIN_CLASS_SHARE) -> List[dict]:
    """Copies of ``records`` with :data:`COVERED` (mIoU over the covered classes) added."""
    return [dict(r, **{COVERED: miou_over_covered(r, min_share)}) for r in records]


def fold_scores(records: Sequence[dict], metric: str = 'mIoU') -> Dict[tuple, Dict[str, Dict[int, float]]]:
    """``{(method, protocol, fraction): {fold: {seed: value}}}``; a repeated run is an error."""
    out = {}
    for r in records:
        cell = out.setdefault((r['method'], r['protocol'], r['fraction']), {}).setdefault(r['fold'], {})
        if r['seed'] in cell:
            raise ValueError(
                f'two runs of {r["method"]}/{r["protocol"]}/{r["fraction"]} in fold {r["fold"]} with seed {r["seed"]}'
            )
        cell[r['seed']] = float(r[metric])
    return out


def fold_differences(a: Dict[str, Dict[int, float]], b: Dict[str, Dict[int, float]]) -> Dict[str, float]:
    """``{fold: mean over the seeds both have of (a - b)}`` for the folds with at least one common seed."""
    out = {}
    for fold in a:
        seeds = sorted(set(a[fold]) & set(b.get(fold, {})))
        if seeds:
            out[fold] = sum(a[fold][s] - b[fold][s] for s in seeds) / len(seeds)
    return out


def sign_test(diffs: Sequence[float]) -> Tuple[int, int, float]:
    """``(positives, negatives, p)``: two-sided exact binomial sign test of the non-zero differences against 1/2
    (p = 1 with no non-zero difference)."""
    pos = sum(d > 0 for d in diffs)
    neg = sum(d < 0 for d in diffs)
    if pos + neg == 0:
        return 0, 0, 1.0
    return pos, neg, float(stats.binomtest(pos, pos + neg, 0.5, alternative='two-sided').pvalue)


def runs_for_power(sd: float, delta: float, power: float = 0.8, alpha: float = 0.05, n_max: int = 100000) -> int:
    """Smallest n whose two-sided one-sample (paired) t-test at level ``alpha`` detects a true mean difference
    ``delta`` with probability ``power``, when the differences scatter with standard deviation ``sd``
    (noncentral t; ``n_max + 1`` when even ``n_max`` is not enough)."""
    if sd <= 0 or delta == 0 or math.isnan(sd) or math.isnan(delta):
        raise ValueError(f'runs_for_power needs sd > 0 and delta != 0, got sd={sd}, delta={delta}')
    effect = abs(delta) / sd
    for n in range(2, n_max + 1):
        df = n - 1
        crit = stats.t.ppf(1 - alpha / 2, df)
        nc = effect * math.sqrt(n)
        achieved = stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)
        if achieved >= power:
            return n
    return n_max + 1


def compare(
    records: Sequence[dict], comparisons=CV_COMPARISONS, metric: str = 'mIoU', confidence: float = 0.95
) -> List[dict]:
    """One row per (comparison, protocol, fraction) present: per-fold differences, their mean ± t-interval over
    folds, the folds' SD, the sign test and the folds needed for 80% power at that SD for the observed mean."""
    sc = fold_scores(records, metric)
    protocols = list(OrderedDict.fromkeys(r['protocol'] for r in records))
    fractions = sorted({r['fraction'] for r in records}, reverse=True)
    rows = []
    for a, b in comparisons:
        for protocol in protocols:
            for fraction in fractions:
                sa, sb = sc.get((a, protocol, fraction)), sc.get((b, protocol, fraction))
                if not sa or not sb:
                    continue
                per_fold = fold_differences(sa, sb)
                if not per_fold:
                    continue
                vals = list(per_fold.values())
                mean, half, n = t_interval(vals, confidence)
                sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else math.nan
                pos, neg, p = sign_test(vals)
                need = runs_for_power(sd, mean) if n > 1 and sd > 0 and mean != 0 else None
                rows.append(
                    dict(
                        a=a,
                        b=b,
                        protocol=protocol,
                        fraction=fraction,
                        per_fold=per_fold,
                        mean=mean,
                        half=half,
                        n=n,
                        sd=sd,
                        positives=pos,
                        negatives=neg,
                        sign_p=p,
                        folds_for_power=need,
                    )
                )
    return rows


def method_summary(records: Sequence[dict], metric: str = 'mIoU', confidence: float = 0.95) -> List[dict]:
    """One row per (method, protocol, fraction): the mean over folds (each fold the mean of its seeds) ± t-interval."""
    rows = []
    for (method, protocol, fraction), folds in fold_scores(records, metric).items():
        per_fold = [sum(v.values()) / len(v) for v in folds.values()]
        mean, half, n = t_interval(per_fold, confidence)
        rows.append(dict(method=method, protocol=protocol, fraction=fraction, mean=mean, half=half, n=n))
    return rows


def _cell(mean: float, half: float, signed: bool = False) -> str:
    return 'n/a' if math.isnan(mean) else format_interval(mean, half, signed)


def _pvalue(p: float) -> str:
    return f'{p:.3f}' if p >= 0.001 else '<0.001'


def comparison_markdown(rows: Sequence[dict], metric: str = 'mIoU', confidence: float = 0.95) -> str:
    """The comparison table: one line per (comparison, protocol, fraction)."""
    folds = list(OrderedDict.fromkeys(f for r in rows for f in r['per_fold']))
    lines = [
        f'| comparison ({metric}) | protocol | labels | mean ± {confidence:.0%} CI over folds | folds A > B | '
        'sign test p | ' + ' | '.join(folds) + ' | folds for 80% power |',
        '|---|---|---|---|---|---|' + '---|' * len(folds) + '---|',
    ]
    for r in rows:
        per = ' | '.join(f'{r["per_fold"][f]:+.2f}' if f in r['per_fold'] else '' for f in folds)
        power = '' if r['folds_for_power'] is None else str(r['folds_for_power'])
        lines.append(
            f'| {r["a"]} - {r["b"]} | {r["protocol"]} | {fraction_name(r["fraction"])} | '
            f'{_cell(r["mean"], r["half"], signed=True)} | {r["positives"]}/{r["n"]} | {_pvalue(r["sign_p"])} | '
            f'{per} | {power} |'
        )
    return '\n'.join(lines) + '\n'


def summary_markdown(rows: Sequence[dict], metric: str = 'mIoU') -> str:
    """Methods (rows) x (protocol, labels) (columns): mean ± interval over folds."""
    cols = list(OrderedDict.fromkeys((r['protocol'], r['fraction']) for r in rows))
    methods = list(OrderedDict.fromkeys(r['method'] for r in rows))
    cell = {(r['method'], r['protocol'], r['fraction']): r for r in rows}
    head = ' | '.join(f'{p}, {fraction_name(f)}' for p, f in cols)
    lines = [f'| method ({metric}) | {head} |', '|---|' + '---|' * len(cols)]
    for m in methods:
        vals = [cell.get((m, p, f)) for p, f in cols]
        lines.append(f'| {m} | ' + ' | '.join('' if v is None else _cell(v['mean'], v['half']) for v in vals) + ' |')
    return '\n'.join(lines) + '\n'


def class_markdown(records: Sequence[dict], protocol: str, fraction: float) -> str:
    """Per-class IoU (mean over folds and seeds, NaN-free values only) of each method in one setting, and each
    class's share of the test pixels per fold."""
    names = class_names(records)
    sel = [r for r in records if r['protocol'] == protocol and r['fraction'] == fraction]
    methods = list(OrderedDict.fromkeys(r['method'] for r in sel))
    lines = [
        f'| method ({protocol}, {fraction_name(fraction)}) | ' + ' | '.join(names) + ' |',
        '|---|' + '---|' * len(names),
    ]
    for m in methods:
        cells = []
        for c in names:
            vals = [r[f'IoU.{c}'] for r in sel if r['method'] == m and not math.isnan(r.get(f'IoU.{c}', math.nan))]
            cells.append(f'{sum(vals) / len(vals):.1f}' if vals else 'n/a')
        lines.append(f'| {m} | ' + ' | '.join(cells) + ' |')
    shares = OrderedDict()
    for r in records:
        shares.setdefault(r['fold'], {c: r.get(f'share.{c}', math.nan) for c in names})
    lines.append('')
    lines.append('| test pixels (%) | ' + ' | '.join(names) + ' |')
    lines.append('|---|' + '---|' * len(names))
    for fold, sh in shares.items():
        lines.append(f'| {fold} | ' + ' | '.join('n/a' if math.isnan(sh[c]) else f'{sh[c]:.1f}' for c in names) + ' |')
    return '\n'.join(lines) + '\n'


def cv_markdown(
    records: Sequence[dict], confidence: float = 0.95, title: Optional[str] = None, comparisons=CV_COMPARISONS
) -> str:
    """The whole cross-validation report (Markdown): summary, comparisons (mIoU and mIoU over covered classes),
    per-class IoU."""
    recs = with_covered(records)
    folds = list(OrderedDict.fromkeys(r['fold'] for r in recs))
    seeds = sorted({r['seed'] for r in recs})
    md = f'# {title or "Leave-one-tile-out cross-validation"}\n\n'
    md += (
        f'{len(folds)} folds ({", ".join(folds)}), seeds {", ".join(map(str, seeds))}; the fold is the unit: seeds '
        f'are averaged within a fold, then mean ± {confidence:.0%} t-interval over folds and a two-sided sign '
        'test over folds.\n\n'
    )
    md += '## mIoU per method (mean over folds)\n\n' + summary_markdown(method_summary(recs, 'mIoU', confidence))
    md += '\n## Paired differences, mIoU\n\n' + comparison_markdown(compare(recs, comparisons, 'mIoU', confidence))
    md += (
        f"\n## Paired differences, mIoU over the classes covering >= {MIN_CLASS_SHARE:g}% of the fold's test "
        'pixels\n\n' + comparison_markdown(compare(recs, comparisons, COVERED, confidence), metric=COVERED)
    )
    settings = list(OrderedDict.fromkeys((r['protocol'], r['fraction']) for r in recs))
    md += '\n## Per-class IoU (mean over folds and seeds)\n\n'
    md += '\n'.join(class_markdown(recs, p, f) for p, f in settings)
    return md


def write_cv_csv(records: Sequence[dict], path: str) -> None:
    """One row per run: the base fields, then every ``IoU.<c>`` and ``share.<c>``, then ``work_dir`` if present."""
    names = class_names(records)
    fields = list(BASE_FIELDS) + [f'IoU.{c}' for c in names] + [f'share.{c}' for c in names]
    if any('work_dir' in r for r in records):
        fields.append('work_dir')
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction='ignore')
        w.writeheader()
        for r in records:
            row = dict(r, fraction=f'{r["fraction"]:g}')
            for k in fields[5:]:
                if k != 'work_dir' and k in r:
                    row[k] = f'{float(r[k]):.4f}'
            w.writerow(row)


def read_cv_csv(path: str) -> List[dict]:
    """Records of :func:`write_cv_csv` (numbers parsed; an empty cell reads as NaN)."""
    out = []
    with open(path, newline='') as f:
        for r in csv.DictReader(f):
            rec = dict(r, fraction=float(r['fraction']), seed=int(r['seed']))
            for k, v in r.items():
                if k in ('mIoU', 'OA', 'mAcc') or k.startswith(('IoU.', 'share.')):
                    rec[k] = float(v) if v not in ('', None) else math.nan
            out.append(rec)
    return out


def readme_markdown(records: Sequence[dict], confidence: float = 0.95, comparisons=CV_COMPARISONS) -> str:
    """README's evidence tables: the comparisons (rows) x (protocol, labels) (columns), each cell the mean paired
    difference ± t-interval over folds and the folds where A > B, for mIoU and for mIoU over covered classes."""
    recs = with_covered(records)
    out = []
    for metric, what in (('mIoU', 'mIoU'), (COVERED, f'mIoU over classes >= {MIN_CLASS_SHARE:g}% of the test pixels')):
        rows = compare(recs, comparisons, metric, confidence)
        cols = list(OrderedDict.fromkeys((r['protocol'], r['fraction']) for r in rows))
        pairs = list(OrderedDict.fromkeys((r['a'], r['b']) for r in rows))
        cell = {(r['a'], r['b'], r['protocol'], r['fraction']): r for r in rows}
        head = ' | '.join(f'{p}, {fraction_name(f)}' for p, f in cols)
        out += [f'| {what}: A - B | {head} |', '|---|' + '---|' * len(cols)]
        for a, b in pairs:
            cells = []
            for p, f in cols:
                r = cell.get((a, b, p, f))
                if r is None:
                    cells.append('')
                    continue
                sign = f'{r["positives"]}/{r["n"]}, p={_pvalue(r["sign_p"])}'
                cells.append(f'{_cell(r["mean"], r["half"], signed=True)} ({sign})')
            out.append(f'| {a} - {b} | ' + ' | '.join(cells) + ' |')
        out.append('')
    return '\n'.join(out)
