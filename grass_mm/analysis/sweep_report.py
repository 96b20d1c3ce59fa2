"""Tables and plots of a sweep: methods x protocols x label fractions x seeds (pure functions).

A *record* is one evaluated fine-tuning run: ``dict(method, protocol, fraction, seed, mIoU, OA,
mAcc, ...)`` with metrics in percent. Settings are summarised over seeds with a Student-t
interval; gains are paired by seed (same label subset and training seed) before summarising.
"""

import csv
import math
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

from .benchmark_table import METRICS
from .folds import fraction_name
from .intervals import beyond_interval, format_interval, paired_differences, t_interval

CSV_FIELDS = ['method', 'protocol', 'fraction', 'seed'] + list(METRICS) + ['work_dir']
#: how the tables name the evaluation protocols
PROTOCOL_LABELS = {'linear': 'linear probe', 'frozen': 'frozen encoder', 'full': 'full fine-tuning'}


def _ordered(records, key) -> list:
    return list(OrderedDict.fromkeys(r[key] for r in records))


def scores(records: Sequence[dict], metric: str = 'mIoU') -> Dict[tuple, Dict[int, float]]:
    """``{(method, protocol, fraction): {seed: value}}``; a repeated seed is an error."""
    out = {}
    for r in records:
        cell = out.setdefault((r['method'], r['protocol'], r['fraction']), {})
        if r['seed'] in cell:
            raise ValueError(f'two runs of {r["method"]}/{r["protocol"]}/{r["fraction"]} with seed {r["seed"]}')
        cell[r['seed']] = float(r[metric])
    return out


def default_comparisons(methods: Sequence[str]) -> List[tuple]:
    """Each pretraining vs random-init, and GraSS vs SimCLR, where both are present.

    Variants named with the same suffix are paired too: ``GraSS-wc`` vs ``SimCLR-wc``.
    """
    pairs = [(m, 'random-init') for m in methods if m != 'random-init' and 'random-init' in methods]
    for m in methods:
        if m.startswith('GraSS') and 'SimCLR' + m[len('GraSS') :] in methods:
            pairs.append((m, 'SimCLR' + m[len('GraSS') :]))
    return pairs


def _paired_row(sa: Dict[int, float], sb: Dict[int, float], confidence: float, **keys) -> Optional[dict]:
    """``keys`` plus the mean, half width, n and significance of ``sa - sb`` paired by seed (None: no common seed)."""
    diffs = paired_differences(sa, sb)
    if not diffs:
        return None
    mean, half, n = t_interval(diffs, confidence)
    return dict(keys, mean=mean, half=half, n=n, significant=beyond_interval(mean, half))


def paired_table(records, comparisons=None, metric='mIoU', confidence=0.95) -> List[dict]:
    """One row per (comparison, protocol, fraction): mean paired difference, half width, n."""
    sc = scores(records, metric)
    methods = _ordered(records, 'method')
    comparisons = default_comparisons(methods) if comparisons is None else comparisons
    rows = []
    for a, b in comparisons:
        for protocol in _ordered(records, 'protocol'):
            for fraction in _ordered(records, 'fraction'):
                sa, sb = sc.get((a, protocol, fraction)), sc.get((b, protocol, fraction))
                if not sa or not sb:
                    continue
                row = _paired_row(sa, sb, confidence, a=a, b=b, protocol=protocol, fraction=fraction)
                if row:
                    rows.append(row)
    return rows


def sweep_markdown(
    records: Sequence[dict], confidence: float = 0.95, title: Optional[str] = None, comparisons=None
) -> str:
    """Mean ± t-interval over seeds per setting, then the paired differences (mIoU)."""
    if not records:
        raise ValueError('no finished runs to report')
    pct = f'{100 * confidence:g}%'
    methods = _ordered(records, 'method')
    settings = [(p, f) for p in _ordered(records, 'protocol') for f in _ordered(records, 'fraction')]
    lines = [
        f'## {title}' if title else '## Sweep',
        '',
        f'In %. With several seeds: mean ± {pct} t-interval over seeds (n = seeds per cell); one seed: its value.',
        '',
    ]
    for metric in METRICS:
        sc = scores(records, metric)
        head = ['method'] + [f'{PROTOCOL_LABELS.get(p, p)}, {fraction_name(f)} labels' for p, f in settings]
        lines += [f'**{metric}**', '', '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
        for m in methods:
            row = [m]
            for p, f in settings:
                vals = sc.get((m, p, f))
                if not vals:
                    row.append('-')
                    continue
                mean, half, n = t_interval(list(vals.values()), confidence)
                row.append(format_interval(mean, half) if n == 1 else f'{format_interval(mean, half)} (n={n})')
            lines.append('| ' + ' | '.join(row) + ' |')
        lines.append('')
    rows = paired_table(records, comparisons, 'mIoU', confidence)
    if rows:
        lines += [
            f'**Paired mIoU differences** (same seed and label subset; mean ± {pct} t-interval; '
            f'* = the interval excludes 0)',
            '',
            '| comparison | protocol | labels | difference | n |',
            '|---|---|---|---|---|',
        ]
        for r in rows:
            star = ' *' if r['significant'] else ''
            lines.append(
                f'| {r["a"]} - {r["b"]} | {PROTOCOL_LABELS.get(r["protocol"], r["protocol"])} | '
                f'{fraction_name(r["fraction"])} | '
                f'{format_interval(r["mean"], r["half"], signed=True)}{star} | {r["n"]} |'
            )
        lines.append('')
    return '\n'.join(lines)


def write_sweep_csv(records: Sequence[dict], path: str) -> None:
    """One row per run (metrics in %), sorted as the sweep ran."""
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction='ignore')
        w.writeheader()
        for r in records:
            w.writerow({**r, **{k: f'{r[k]:.4f}' for k in METRICS}, 'fraction': f'{r["fraction"]:g}'})


def read_sweep_csv(path: str) -> List[dict]:
    with open(path, newline='') as f:
        return [
            dict(r, fraction=float(r['fraction']), seed=int(r['seed']), **{k: float(r[k]) for k in METRICS})
            for r in csv.DictReader(f)
        ]


def _fraction_axis(ax, fractions, protocol) -> None:
    """Log x axis of label fractions in %, titled by the protocol."""
    ax.set_xscale('log')
    ax.set_xlim(100 * min(fractions) / 1.5, 100 * max(fractions) * 1.5)
    ax.set_xticks([100 * f for f in fractions], [f'{100 * f:g}%' for f in fractions])
    ax.set_xlabel('labelled training images')
    ax.set_title(PROTOCOL_LABELS.get(protocol, protocol))
    ax.grid(alpha=0.3)


def plot_sweep(
    records: Sequence[dict], path: str, confidence: float = 0.95, metric: str = 'mIoU', title: Optional[str] = None
) -> None:
    """``metric`` vs label fraction (log x), one line per method, error bars = t-interval; one panel
    per protocol."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    sc = scores(records, metric)
    protocols = _ordered(records, 'protocol')
    fractions = sorted(_ordered(records, 'fraction'))
    fig, axes = plt.subplots(1, len(protocols), figsize=(5 * len(protocols), 4), squeeze=False, sharey=True)
    for ax, p in zip(axes[0], protocols, strict=True):
        for m in _ordered(records, 'method'):
            xs, ys, es = [], [], []
            for f in fractions:
                vals = sc.get((m, p, f))
                if vals:
                    mean, half, _ = t_interval(list(vals.values()), confidence)
                    xs.append(100 * f)
                    ys.append(mean)
                    es.append(0 if math.isnan(half) else half)
            if xs:
                ax.errorbar(xs, ys, yerr=es, marker='o', capsize=4, label=m)
        _fraction_axis(ax, fractions, p)
    axes[0][0].set_ylabel(f'{metric} (%), mean ± {100 * confidence:g}% CI')
    axes[0][-1].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ----------------------------------------------------------------------------- several sweeps
def gains_across(sweeps: Dict[str, Sequence[dict]], metric: str = 'mIoU', confidence: float = 0.95) -> List[dict]:
    """The paired gains of several sweeps side by side: ``sweeps`` maps a label (e.g. the pretraining
    length, or a fine-tuning recipe) to that sweep's records. One row per (label, comparison, protocol,
    fraction), as :func:`paired_table` with the label added."""
    rows = []
    for label, records in sweeps.items():
        for r in paired_table(records, None, metric, confidence):
            rows.append(dict(r, label=label))
    return rows


def recipe_effects(
    sweeps: Dict[str, Sequence[dict]], base: str, metric: str = 'mIoU', confidence: float = 0.95
) -> List[dict]:
    """What a fine-tuning recipe changes for the same start: each sweep's score of a method minus the ``base``
    sweep's score of that method, paired by (protocol, fraction, seed), i.e. the same checkpoint and label subset.
    Rows as :func:`gains_across` (``a`` = the method, ``b`` = ``'<method> (<base>)'``); the base has none.
    """
    if base not in sweeps:
        raise ValueError(f'--against {base!r}: no sweep has that label (labels: {", ".join(sweeps)})')
    ref = scores(sweeps[base], metric)
    rows = []
    for label, records in sweeps.items():
        if label == base:
            continue
        for (method, protocol, fraction), sa in scores(records, metric).items():
            sb = ref.get((method, protocol, fraction), {})
            keys = dict(label=label, a=method, b=f'{method} ({base})', protocol=protocol, fraction=fraction)
            row = _paired_row(sa, sb, confidence, **keys)
            if row:
                rows.append(row)
    return rows


def gains_markdown(rows: Sequence[dict], metric: str = 'mIoU', confidence: float = 0.95) -> str:
    """Rows = (comparison, protocol, labels), columns = the sweeps' labels; cells = mean ± half width (n),
    ``*`` where the interval excludes 0."""
    labels = _ordered(rows, 'label')
    keys = list(OrderedDict.fromkeys((f'{r["a"]} - {r["b"]}', r['protocol'], r['fraction']) for r in rows))
    cell = {(f'{r["a"]} - {r["b"]}', r['protocol'], r['fraction'], r['label']): r for r in rows}
    lines = [
        f'Paired {metric} differences (points; mean ± {100 * confidence:g}% t-interval over seeds, '
        f'n = seeds; * = the interval excludes 0)',
        '',
        '| comparison | protocol | labels | ' + ' | '.join(labels) + ' |',
        '|---|---|---|' + '---|' * len(labels),
    ]
    for comp, protocol, fraction in keys:
        cells = []
        for label in labels:
            r = cell.get((comp, protocol, fraction, label))
            cells.append(
                '-'
                if r is None
                else f'{format_interval(r["mean"], r["half"], signed=True)}{" *" if r["significant"] else ""} '
                f'(n={r["n"]})'
            )
        lines.append(f'| {comp} | {protocol} | {fraction:g} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def plot_gains(rows: Sequence[dict], path: str, metric: str = 'mIoU', confidence: float = 0.95) -> None:
    """Paired gain vs label fraction (log x), one line per (comparison, sweep label), error bars =
    t-interval, a dashed line at 0; one panel per protocol."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    protocols = _ordered(rows, 'protocol')
    fractions = sorted(_ordered(rows, 'fraction'))
    fig, axes = plt.subplots(1, len(protocols), figsize=(5.5 * len(protocols), 4), squeeze=False, sharey=True)
    for ax, p in zip(axes[0], protocols, strict=True):
        lines = OrderedDict()
        for r in rows:
            if r['protocol'] == p:
                lines.setdefault((f'{r["a"]} - {r["b"]}', r['label']), []).append(r)
        for i, ((comp, label), pts) in enumerate(lines.items()):
            pts = sorted(pts, key=lambda r: r['fraction'])
            dodge = 1.06 ** (i - (len(lines) - 1) / 2)  # side by side at one fraction (log x)
            ax.errorbar(
                [100 * r['fraction'] * dodge for r in pts],
                [r['mean'] for r in pts],
                yerr=[0 if math.isnan(r['half']) else r['half'] for r in pts],
                marker='o',
                capsize=4,
                label=f'{comp} ({label})',
            )
        ax.axhline(0, color='k', lw=1, ls='--')
        _fraction_axis(ax, fractions, p)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel(f'{metric} gain (points), mean ± {100 * confidence:g}% CI')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def compact_markdown(records: Sequence[dict], metric: str = 'mIoU', comparisons=None, confidence: float = 0.95) -> str:
    """A compact table of one sweep (README's main-job table): methods and paired differences (rows) x (protocol,
    labels) (columns); a mean ± t-interval only where a cell has n >= 2 seeds, else the single value."""
    sc = scores(records, metric)
    methods = _ordered(records, 'method')
    settings = [(p, f) for p in _ordered(records, 'protocol') for f in _ordered(records, 'fraction')]
    head = [f'{metric} (%)'] + [f'{PROTOCOL_LABELS.get(p, p)}, {fraction_name(f)}' for p, f in settings]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for m in methods:
        cells = []
        for p, f in settings:
            vals = sc.get((m, p, f))
            cells.append(format_interval(*t_interval(list(vals.values()), confidence)[:2]) if vals else '-')
        lines.append(f'| {m} | ' + ' | '.join(cells) + ' |')
    rows = {(r['a'], r['b'], r['protocol'], r['fraction']): r for r in paired_table(records, comparisons, metric)}
    for a, b in dict.fromkeys((r[0], r[1]) for r in rows):
        cells = []
        for p, f in settings:
            r = rows.get((a, b, p, f))
            cells.append('-' if r is None else format_interval(r['mean'], r['half'], signed=True))
        lines.append(f'| {a} - {b} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'
