"""Paper-style tables from finished mmseg runs: methods x datasets x {mIoU, OA, mAcc}.

A *run* is an mmengine work dir of a segmentation training or test. Its evaluation results are
read from what mmengine itself writes there:

* ``<work_dir>/<timestamp>/<timestamp>.json`` - one JSON object per ``tools/test.py`` run
  (``LoggerHook.after_test_epoch``), preferred when present (the newest one);
* ``<work_dir>/<timestamp>/vis_data/scalars.json`` - one JSON line per logged step; the last line
  holding ``mIoU`` is the final validation of a training run.

IoUMetric reports ``aAcc`` (= overall accuracy, OA), ``mIoU`` and ``mAcc`` in percent.

Each run gets a *method* and a *dataset* label: given by the caller, else read from the config
that mmengine dumped into the work dir (a ``grass_mm_meta = dict(method=..., dataset=...)`` key,
which ``tools/quickstart.py`` writes; else the pretraining run the backbone was initialised from,
or ``random-init``; and the training dataset's type).
"""

import csv
import glob
import json
import math
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

#: table column name -> IoUMetric key
METRICS = OrderedDict([('mIoU', 'mIoU'), ('OA', 'aAcc'), ('mAcc', 'mAcc')])


class ResultsNotFoundError(FileNotFoundError):
    """A work dir holds no evaluation result (the message names the folder and what is missing)."""


@dataclass
class RunResult:
    """Evaluation of one run: ``metrics`` maps the table's metric names to percentages."""

    work_dir: str
    method: str
    dataset: str
    metrics: Dict[str, float]
    source: str
    kind: str  # 'test' or 'val'
    extra: dict = field(default_factory=dict)


def _timestamp_dirs(work_dir: str) -> List[str]:
    # mmengine's log dirs are named by timestamp (YYYYmmdd_HHMMSS): lexical order = time order
    return sorted(d for d in glob.glob(osp.join(work_dir, '*')) if osp.isdir(d))


def _metrics_from(record: dict, source: str) -> Dict[str, float]:
    out = {}
    for name, key in METRICS.items():
        if key not in record:
            raise ResultsNotFoundError(f'{source}: evaluation result has no {key!r} (keys: {sorted(record)})')
        value = float(record[key])
        if not math.isfinite(value):
            raise ValueError(f'{source}: {key} is {value}')
        out[name] = value
    # per-class figures of ClassIoUMetric (IoU.<class>, share.<class>), kept as they are (NaN allowed)
    out.update({k: float(v) for k, v in record.items() if k.startswith(('IoU.', 'share.'))})
    return out


def read_metrics(work_dir: str):
    """Newest evaluation of ``work_dir``: ``(metrics, source file, 'test' | 'val')``.

    Raises:
        ResultsNotFoundError: naming the folder and the files looked for.
    """
    if not osp.isdir(work_dir):
        raise ResultsNotFoundError(f'{work_dir}: no such folder')
    tests, vals = [], []
    for d in _timestamp_dirs(work_dir):
        stamp = osp.basename(d)
        test_json = osp.join(d, f'{stamp}.json')
        if osp.isfile(test_json):
            with open(test_json) as f:
                try:
                    rec = json.load(f)
                except json.JSONDecodeError as err:
                    raise ValueError(f'{test_json}: not a JSON object ({err})') from None
            if isinstance(rec, dict) and METRICS['mIoU'] in rec:
                tests.append((rec, test_json))
        scalars = osp.join(d, 'vis_data', 'scalars.json')
        if osp.isfile(scalars):
            with open(scalars) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        rec = json.loads(line)
                        if METRICS['mIoU'] in rec:
                            vals.append((rec, scalars))
    if tests:
        rec, src = tests[-1]
        return _metrics_from(rec, src), src, 'test'
    if vals:
        rec, src = vals[-1]
        return _metrics_from(rec, src), src, 'val'
    raise ResultsNotFoundError(
        f'{work_dir}: no evaluation results - looked for <timestamp>/<timestamp>.json (tools/test.py) '
        f'and <timestamp>/vis_data/scalars.json lines with mIoU (validation during training); '
        f'did the run finish its evaluation?'
    )


def _dumped_config(work_dir: str):
    """The config mmengine dumped into ``work_dir`` (newest), or None."""
    from mmengine.config import Config

    cands = sorted(glob.glob(osp.join(work_dir, '*.py')), key=osp.getmtime)
    cands += sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'config.py')))
    for path in reversed(cands):
        try:
            return Config.fromfile(path)
        except Exception:  # not a config (or unreadable): try the next one
            continue
    return None


def infer_labels(work_dir: str) -> Dict[str, Optional[str]]:
    """``{'method': ..., 'dataset': ...}`` from the dumped config (None where unknown)."""
    cfg = _dumped_config(work_dir)
    if cfg is None:
        return dict(method=None, dataset=None)
    meta = cfg.get('grass_mm_meta', None) or {}
    method, dataset = meta.get('method'), meta.get('dataset')
    if method is None:
        init = (cfg.get('model', {}).get('backbone', {}) or {}).get('init_cfg') or {}
        ckpt = init.get('checkpoint') if isinstance(init, dict) else None
        if not ckpt:
            method = 'random-init'
        elif '://' in ckpt:
            method = ckpt.split('://')[0]
        else:  # .../<pretraining work dir>/epoch_N.pth -> its first name part
            method = osp.basename(osp.dirname(osp.abspath(ckpt))).split('_')[0] or ckpt
    if dataset is None:
        dtype = cfg.get('train_dataloader', {}).get('dataset', {}).get('type')
        if isinstance(dtype, str):
            dataset = dtype[: -len('Dataset')] if dtype.endswith('Dataset') else dtype
    return dict(method=method, dataset=dataset)


def parse_run_arg(arg: str):
    """``DIR``, ``METHOD=DIR`` or ``METHOD@DATASET=DIR`` -> (dir, method or None, dataset or None)."""
    if '=' in arg and not osp.isdir(arg):
        label, path = arg.split('=', 1)
        method, _, dataset = label.partition('@')
        return path, method or None, dataset or None
    return arg, None, None


def collect_results(run_args: Sequence[str]) -> List[RunResult]:
    """Read every run; all missing results are reported together, one line per folder."""
    results, problems = [], []
    for arg in run_args:
        path, method, dataset = parse_run_arg(arg)
        try:
            metrics, src, kind = read_metrics(path)
        except ResultsNotFoundError as err:
            problems.append(str(err))
            continue
        if method is None or dataset is None:
            inferred = infer_labels(path)
            method = method or inferred['method']
            dataset = dataset or inferred['dataset']
        if method is None or dataset is None:
            problems.append(
                f'{path}: cannot tell its method/dataset (no dumped config); give it as METHOD@DATASET={path}'
            )
            continue
        results.append(RunResult(path, method, dataset, metrics, src, kind))
    if problems:
        raise ResultsNotFoundError('\n'.join(problems))
    return results


def build_table(results: Sequence[RunResult]):
    """Average runs of the same (method, dataset).

    Returns:
        (methods, datasets, cells) where ``cells[(method, dataset)] = (metrics, n_runs)``;
        methods and datasets keep their first-seen order.
    """
    methods, datasets, groups = [], [], OrderedDict()
    for r in results:
        if r.method not in methods:
            methods.append(r.method)
        if r.dataset not in datasets:
            datasets.append(r.dataset)
        groups.setdefault((r.method, r.dataset), []).append(r.metrics)
    cells = {k: ({m: sum(g[m] for g in v) / len(v) for m in METRICS}, len(v)) for k, v in groups.items()}
    return methods, datasets, cells


def mean_gains(methods, datasets, cells, baselines: Sequence[str]):
    """``gains[(method, baseline)] = {metric: mean over shared datasets of (method - baseline)}``
    (None when they share no dataset). Baselines not among the methods are an error."""
    missing = [b for b in baselines if b not in methods]
    if missing:
        raise ValueError(f'baseline(s) {missing} are not among the methods {methods}')
    gains = {}
    for m in methods:
        for b in baselines:
            if m == b:
                continue
            shared = [d for d in datasets if (m, d) in cells and (b, d) in cells]
            gains[(m, b)] = (
                None
                if not shared
                else {k: sum(cells[(m, d)][0][k] - cells[(b, d)][0][k] for d in shared) / len(shared) for k in METRICS}
            )
    return gains


def default_baselines(methods: Sequence[str]) -> List[str]:
    """Every method that is not a GraSS variant (random init and the other pretrainings)."""
    return [m for m in methods if not m.lower().startswith('grass')]


def render_markdown(methods, datasets, cells, gains, baselines) -> str:
    head = ['method'] + [f'{d} {k}' for d in datasets for k in METRICS]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for m in methods:
        row = [m]
        for d in datasets:
            metrics, n = cells.get((m, d), (None, 0))
            for k in METRICS:
                row.append('-' if metrics is None else f'{metrics[k]:.2f}' + (f' (n={n})' if n > 1 else ''))
        lines.append('| ' + ' | '.join(row) + ' |')
    if gains:
        lines += ['', 'Mean gain over each baseline (percentage points, averaged over the datasets both have):', '']
        head = ['method'] + [f'vs {b} {k}' for b in baselines for k in METRICS]
        lines += ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
        for m in methods:
            row = [m]
            for b in baselines:
                g = gains.get((m, b))
                row += ['-' if g is None else f'{g[k]:+.2f}' for k in METRICS]
            lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + '\n'


def write_csv(path, methods, datasets, cells, gains, baselines) -> None:
    """One row per (method, dataset) with the metrics and run count, then one row per
    (method, baseline) gain, dataset column = ``mean gain vs <baseline>``."""
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['method', 'dataset'] + list(METRICS) + ['runs'])
        for m in methods:
            for d in datasets:
                if (m, d) in cells:
                    metrics, n = cells[(m, d)]
                    w.writerow([m, d] + [f'{metrics[k]:.4f}' for k in METRICS] + [n])
        for m in methods:
            for b in baselines:
                g = gains.get((m, b))
                if g is not None:
                    w.writerow([m, f'mean gain vs {b}'] + [f'{g[k]:.4f}' for k in METRICS] + [''])


def report_paths(out_prefix: str, overwrite: bool = False) -> List[str]:
    """``[PREFIX.md, PREFIX.csv]``, checked: an existing file is refused unless ``overwrite``.

    Raises:
        FileExistsError: naming the first file that exists (nothing was written).
    """
    from ..runtime.outputs import check_output_files

    paths = [out_prefix + '.md', out_prefix + '.csv']
    check_output_files(paths, overwrite)
    return paths


def write_report(
    results: Sequence[RunResult],
    out_prefix: Optional[str] = None,
    baselines: Optional[Sequence[str]] = None,
    overwrite: bool = False,
):
    """Table of read runs; with ``out_prefix`` also write ``.md`` and ``.csv`` (each written to a
    temporary sibling and renamed; existing files are refused unless ``overwrite``).

    Returns:
        tuple: the Markdown text and ``(methods, datasets, cells)`` of :func:`build_table`.
    """
    from ..runtime.outputs import atomic_output

    md_path, csv_path = report_paths(out_prefix, overwrite) if out_prefix else (None, None)
    methods, datasets, cells = build_table(results)
    baselines = default_baselines(methods) if baselines is None else list(baselines)
    gains = mean_gains(methods, datasets, cells, baselines)
    md = render_markdown(methods, datasets, cells, gains, baselines)
    if out_prefix:
        with atomic_output(md_path) as tmp_md, atomic_output(csv_path) as tmp_csv:
            with open(tmp_md, 'w') as f:
                f.write(md)
            write_csv(tmp_csv, methods, datasets, cells, gains, baselines)
    return md, (methods, datasets, cells)


def benchmark_table(
    run_args: Sequence[str],
    out_prefix: Optional[str] = None,
    baselines: Optional[Sequence[str]] = None,
    overwrite: bool = False,
) -> str:
    """Read runs, return the Markdown table; with ``out_prefix`` also write ``.md`` and ``.csv``
    (an existing one only with ``overwrite``, checked before any run is read)."""
    if out_prefix:
        report_paths(out_prefix, overwrite)
    return write_report(collect_results(run_args), out_prefix, baselines, overwrite)[0]
