"""Confidence intervals over seeds and paired differences between methods (pure functions).

A sweep gives one score per (method, protocol, label fraction, seed). Seeds of one setting share
the label subset and the training seed across methods, so a method's gain over another is
measured *per seed* (paired) and summarised with a Student-t interval.
"""

import math
from typing import Dict, Hashable, Iterable, List, Optional, Sequence, Tuple

from scipy import stats


def t_interval(values: Sequence[float], confidence: float = 0.95) -> Tuple[float, float, int]:
    """``(mean, half_width, n)`` of the two-sided Student-t interval of the mean.

    ``half_width = t_{(1+confidence)/2, n-1} * s / sqrt(n)`` with the sample standard deviation
    ``s``; NaN for a single value (no spread is known).
    """
    vals = [float(v) for v in values]
    n = len(vals)
    if n == 0:
        raise ValueError('t_interval needs at least one value')
    if not 0 < confidence < 1:
        raise ValueError(f'confidence must lie in (0, 1), got {confidence}')
    mean = sum(vals) / n
    if n == 1:
        return mean, math.nan, 1
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1))
    return mean, float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n), n


def paired_differences(scores: Dict[Hashable, float], other: Dict[Hashable, float]) -> List[float]:
    """``scores[k] - other[k]`` for the keys (seeds) both have, in sorted key order."""
    return [scores[k] - other[k] for k in sorted(set(scores) & set(other))]


def format_interval(mean: float, half: float, signed: bool = False) -> str:
    """``'12.34 ± 0.56'`` (``'+0.12 ± 0.56'`` when signed; no interval for one value)."""
    m = f'{mean:+.2f}' if signed else f'{mean:.2f}'
    return m if math.isnan(half) else f'{m} ± {half:.2f}'


def beyond_interval(mean: float, half: float) -> Optional[bool]:
    """True when the interval excludes 0 (None without an interval)."""
    if math.isnan(half):
        return None
    return abs(mean) > half


def summarise(groups: Iterable[Tuple[Hashable, Sequence[float]]], confidence: float = 0.95):
    """``{key: (mean, half_width, n)}`` for each ``(key, values)``."""
    return {k: t_interval(v, confidence) for k, v in groups}
