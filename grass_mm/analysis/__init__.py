"""Reading finished runs: benchmark tables, sweep tables with intervals (no registered modules)."""

from .benchmark_table import (
    METRICS,
    ResultsNotFoundError,
    RunResult,
    benchmark_table,
    build_table,
    collect_results,
    infer_labels,
    mean_gains,
    read_metrics,
    write_report,
)
from .intervals import paired_differences, t_interval
from .sweep_report import paired_table, plot_sweep, read_sweep_csv, sweep_markdown, write_sweep_csv

__all__ = [
    'METRICS',
    'ResultsNotFoundError',
    'RunResult',
    'benchmark_table',
    'build_table',
    'collect_results',
    'infer_labels',
    'mean_gains',
    'read_metrics',
    'write_report',
    'paired_differences',
    't_interval',
    'paired_table',
    'plot_sweep',
    'read_sweep_csv',
    'sweep_markdown',
    'write_sweep_csv',
]
