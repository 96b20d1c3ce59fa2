"""Reading finished runs: benchmark tables (no registered modules)."""
from .benchmark_table import (METRICS, ResultsNotFoundError, RunResult, benchmark_table, build_table,
                              collect_results, infer_labels, mean_gains, read_metrics, write_report)

__all__ = ['METRICS', 'ResultsNotFoundError', 'RunResult', 'benchmark_table', 'build_table',
           'collect_results', 'infer_labels', 'mean_gains', 'read_metrics', 'write_report']
