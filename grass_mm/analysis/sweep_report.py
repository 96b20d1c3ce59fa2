"""Tables and plots of the experiment runner's studies (pure functions, one module for both):

* the sweep: methods x protocols x label fractions x seeds. A *record* is one evaluated fine-tuning run:
  ``dict(method, protocol, fraction, seed, mIoU, OA, mAcc, ...)`` with metrics in percent. Settings are
  summarised over seeds with a Student-t interval; gains are paired by seed (same label subset and training
  seed) before summarising;
* the noisy-pair study: methods x noise level ``r_img`` x noisy share, each run against the random-init floor
  (records ``dict(method, r_img, noisy_share, seed, pretrain_loss, mIoU, aAcc, mAcc, config, work_dir)``).

Both write their CSV, Markdown and plot with the same pieces (:func:`md_row`, :func:`write_rows`,
:func:`_pyplot`).
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


def md_row(cells: Sequence) -> str:
    """One Markdown table row: ``| a | b |``."""
    return '| ' + ' | '.join(str(c) for c in cells) + ' |'


def md_rule(n: int) -> str:
    """The rule under a Markdown table head of ``n`` columns."""
    return '|' + '---|' * n


def write_rows(rows: Sequence[dict], path: str, fields: Sequence[str]) -> None:
    """A CSV of ``rows`` with the columns ``fields`` (other keys ignored)."""
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(fields), extrasaction='ignore')
        w.writeheader()
        for r in rows:
            w.writerow(r)


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str, dpi: int = 100) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    _pyplot().close(fig)


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
        lines += [f'**{metric}**', '', md_row(head), md_rule(len(head))]
        for m in methods:
            row = [m]
            for p, f in settings:
                vals = sc.get((m, p, f))
                if not vals:
                    row.append('-')
                    continue
                mean, half, n = t_interval(list(vals.values()), confidence)
                row.append(format_interval(mean, half) if n == 1 else f'{format_interval(mean, half)} (n={n})')
            lines.append(md_row(row))
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
    rows = [{**r, **{k: f'{r[k]:.4f}' for k in METRICS}, 'fraction': f'{r["fraction"]:g}'} for r in records]
    write_rows(rows, path, CSV_FIELDS)


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
    plt = _pyplot()
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
    _save(fig, path)


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
        md_row(['comparison', 'protocol', 'labels', *labels]),
        md_rule(3 + len(labels)),
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
    plt = _pyplot()
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
    _save(fig, path)


def compact_markdown(records: Sequence[dict], metric: str = 'mIoU', comparisons=None, confidence: float = 0.95) -> str:
    """A compact table of one sweep (README's main-job table): methods and paired differences (rows) x (protocol,
    labels) (columns); a mean ± t-interval only where a cell has n >= 2 seeds, else the single value."""
    sc = scores(records, metric)
    methods = _ordered(records, 'method')
    settings = [(p, f) for p in _ordered(records, 'protocol') for f in _ordered(records, 'fraction')]
    head = [f'{metric} (%)'] + [f'{PROTOCOL_LABELS.get(p, p)}, {fraction_name(f)}' for p, f in settings]
    lines = [md_row(head), md_rule(len(head))]
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


# ----------------------------------------------------------------------------- the noisy-pair study
#: the baseline of the noisy-pair study: the same encoder and protocol without pretraining
FLOOR = 'random-init'
NOISY_PAIRS_CSV_FIELDS = ['method', 'r_img', 'noisy_share', 'seed', 'pretrain_loss', 'mIoU', 'aAcc', 'mAcc']
NOISY_PAIRS_CSV_FIELDS += ['vs_floor', 'beats_floor', 'config', 'work_dir']


def _floor(records: Sequence[dict]) -> Optional[float]:
    floors = [r['mIoU'] for r in records if r['method'] == FLOOR]
    return floors[0] if floors else None


def mark_floor(records: Sequence[dict], margin: float = 1.0) -> Optional[float]:
    """Add ``vs_floor`` (mIoU - floor) and ``beats_floor`` (mIoU > floor + margin) to each record (in place).

    Returns:
        float: the floor's mIoU, or None without a random-init record (the marks are then empty).
    """
    floor = _floor(records)
    for r in records:
        if floor is None or r['method'] == FLOOR:
            r['vs_floor'], r['beats_floor'] = '', ''
        else:
            r['vs_floor'] = round(r['mIoU'] - floor, 2)
            r['beats_floor'] = 'yes' if r['mIoU'] > floor + margin else 'no'
    return floor


def clean_pair_warnings(records: Sequence[dict], margin: float = 1.0) -> List[str]:
    """One line per method whose clean-pair run (r_img 0) does not beat the floor by ``margin``."""
    floor = _floor(records)
    if floor is None:
        return []
    return [
        f'warning: {r["method"]} (noisy share {r["noisy_share"]:g}) with clean pairs: mIoU {r["mIoU"]:.2f} '
        f'does not beat the random-init floor {floor:.2f} by {margin:g}: learned nothing at this '
        f'budget; raise --pretrain-iters'
        for r in records
        if r['method'] != FLOOR and r['r_img'] == 0 and r['mIoU'] <= floor + margin
    ]


def write_noisy_pairs_csv(records: Sequence[dict], path: str) -> None:
    """One row per run (:data:`NOISY_PAIRS_CSV_FIELDS`); the floor's noise columns and missing values empty."""
    rows = []
    for r in records:
        row = dict(r)
        for k in ('r_img', 'noisy_share'):
            row[k] = '' if r[k] is None else r[k]
        for k in ('pretrain_loss', 'mIoU', 'aAcc', 'mAcc'):
            row[k] = '' if not math.isfinite(r[k]) else round(r[k], 4 if k == 'pretrain_loss' else 2)
        rows.append(row)
    write_rows(rows, path, NOISY_PAIRS_CSV_FIELDS)


def noisy_pairs_markdown(records: Sequence[dict], margin: float = 1.0, title: str = '') -> str:
    """mIoU per (method, noisy share) x r_img; the clean-pair run (r_img 0) marked against the floor."""
    floor = _floor(records)
    levels = sorted({r['r_img'] for r in records if r['method'] != FLOOR})
    keys = list(dict.fromkeys((r['method'], r['noisy_share']) for r in records if r['method'] != FLOOR))
    cells = {(r['method'], r['noisy_share'], r['r_img']): r['mIoU'] for r in records}
    md = f'### {title}\n\n' if title else ''
    md += 'mIoU (%, IoUMetric) per method and noise level `r_img`'
    md += f'; random-init floor **{floor:.2f}**.\n\n' if floor is not None else ' (no random-init floor run).\n\n'
    clean = floor is not None and 0.0 in levels
    head = ['method', 'noisy share'] + [f'r_img {v:g}' for v in levels] + (['clean pairs vs floor'] if clean else [])
    lines = [md_row(head), md_rule(len(head))]
    for m, s in keys:
        vals = [cells.get((m, s, v)) for v in levels]
        row = [m, f'{s:g}'] + ['-' if v is None else f'{v:.2f}' for v in vals]
        if clean:
            v = cells.get((m, s, 0.0))
            if v is None:
                row.append('-')
            else:
                d = v - floor
                row.append(f'{d:+.2f} ({"beats the floor" if d > margin else "does NOT beat the floor"})')
        lines.append(md_row(row))
    if floor is not None:
        lines.append(md_row([f'{FLOOR} (floor)', '-'] + [f'{floor:.2f}' for _ in levels] + (['-'] if clean else [])))
    md += '\n'.join(lines) + '\n'
    if clean:
        md += f'\n"beats the floor": more than {margin:g} mIoU point(s) above the random-init encoder.\n'
    return md


def plot_noisy_pairs(records: Sequence[dict], path: str, title: str = '', protocol: str = 'frozen encoder') -> None:
    """mIoU vs r_img, one line per (method, noisy share); the random-init floor as a dashed line."""
    import textwrap

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    keys = list(dict.fromkeys((r['method'], r['noisy_share']) for r in records if r['method'] != FLOOR))
    methods = list(dict.fromkeys(m for m, _ in keys))
    shares = sorted({s for _, s in keys}, reverse=True)
    for m, s in keys:  # one colour per method, one line style per noisy share
        pts = sorted((r['r_img'], r['mIoU']) for r in records if (r['method'], r['noisy_share']) == (m, s))
        style = dict(color=f'C{methods.index(m)}', linestyle=('-', ':', '-.')[shares.index(s) % 3])
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker='o', label=f'{m} (noisy share {s:g})', **style)
    for r in records:
        if r['method'] == FLOOR:
            ax.axhline(r['mIoU'], color='grey', linestyle='--', label=f'random init ({r["mIoU"]:.1f})')
    ax.set_xlabel('r_img (share of re-filled cells in the noisy twin)')
    ax.set_ylabel(f'mIoU (%), {protocol} + FCN')
    ax.set_title(textwrap.fill(title or 'VTS: segmentation vs positive-pair noise', 80), fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    _save(fig, path, dpi=120)


# ----------------------------------------------------------------------------- pretraining losses
def pretrain_loss_markdown(losses: Dict[tuple, tuple], chance: float, batch: int) -> str:
    """The pretraining losses ``{(method, seed): (first, last)}`` against the chance level ln(2N-1) of the
    contrastive loss with ``batch`` = N images."""
    md = (
        f'\nPretraining loss (first -> last logged), against chance level ln(2N-1) = {chance:.2f} for '
        f'N = {batch} images (a run that stays at chance learned nothing):\n\n'
        '| method | seed | first | last | below chance by |\n|---|---|---|---|---|\n'
    )
    for (m, s), (a, b) in sorted(losses.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        md += f'| {m} | {s} | {a:.3f} | {b:.3f} | {chance - b:+.3f} |\n'
    return md
