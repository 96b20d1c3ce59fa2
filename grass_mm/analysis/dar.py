"""What the Discrimination Attention Regions cover: area, and how often the official region rule would differ.

Pure functions on CPU tensors / numpy arrays, for the analysis tools (``tools/analysis/dar_purity.py``).

The region rules. :func:`grass_mm.selfsup.grass_functional.dar_boxes` keeps the thresholded connected component
that *holds* the LAM maximum. The official GraSS code takes a region whose *bounding box* holds the largest value.
The two differ only when the box of another component encloses the maximum's pixel. :func:`box_rule_disagreement`
counts those maps, and the maps where the first such region in labelling (raster) order is another component
(what a loop over ``skimage.measure.regionprops`` that stops at the first match would return).
"""

from typing import Tuple

import numpy as np
import torch
from scipy import ndimage


def box_area_fraction(boxes: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Share of the view each inclusive (x0, y0, x1, y1) box covers.

    Args:
        boxes (Tensor): (N, 4) int boxes.
        size (tuple[int, int]): (H, W) of the views.

    Returns:
        Tensor: (N,) float64 in (0, 1].
    """
    w = (boxes[:, 2] - boxes[:, 0] + 1).double()
    h = (boxes[:, 3] - boxes[:, 1] + 1).double()
    return w * h / (size[0] * size[1])


def box_rule_disagreement(lam: torch.Tensor, threshold: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """Per map: could the box rule pick another region, and does its first match in raster order differ?

    The mask is the one of ``dar_boxes``: ``LAM > min + threshold * (max - min)``, 8-connected components
    labelled in raster order (``scipy.ndimage.label``, as ``skimage.measure.label``).

    Args:
        lam (Tensor): (N, H, W) Loss Attention Maps (CPU).
        threshold (float): TA.

    Returns:
        tuple[ndarray, ndarray]: (N,) bool ``other_box_holds_max`` (another component's box encloses the
        maximum's pixel) and (N,) bool ``first_match_differs`` (the first component in labelling order whose
        box encloses it is not the component that holds it). A constant map counts as no disagreement.
    """
    maps = lam.detach().double().cpu().numpy()
    other = np.zeros(len(maps), bool)
    first = np.zeros(len(maps), bool)
    structure = np.ones((3, 3), bool)
    for i, m in enumerate(maps):  # analysis only: one scipy call per map
        lo, hi = m.min(), m.max()
        if hi <= lo:
            continue
        labels, _ = ndimage.label(m > lo + threshold * (hi - lo), structure=structure)
        y, x = np.unravel_index(int(np.argmax(m)), m.shape)
        own = labels[y, x]
        holders = [
            k + 1
            for k, sl in enumerate(ndimage.find_objects(labels))
            if sl is not None and sl[0].start <= y < sl[0].stop and sl[1].start <= x < sl[1].stop
        ]
        other[i] = any(k != own for k in holders)
        first[i] = bool(holders) and holders[0] != own
    return other, first


def dar_norm_markdown(rows, confidence: float = 0.95) -> str:
    """README's table of DAR purity and area per LAM normalisation, over the rows' tags (folds).

    Args:
        rows (list[dict]): ``tools/analysis/dar_purity.py --csv`` rows: ``tag, lam_norm, dar, random, view, area,
            other_box, first_box`` (fractions).

    Returns:
        str: Markdown; values in %, mean ± t-interval over the tags, and the paired difference between the first
        two normalisations (in row order) on the same views.
    """
    from .intervals import format_interval, t_interval

    norms = list(dict.fromkeys(r['lam_norm'] for r in rows))
    by = {(r['tag'], r['lam_norm']): r for r in rows}
    tags = list(dict.fromkeys(r['tag'] for r in rows))
    cols = (
        ('dar', 'DAR purity'),
        ('random', 'random box purity'),
        ('gain', 'DAR - random box'),
        ('area', 'DAR area (% of view)'),
        ('other_box', "another region's box holds the max"),
        ('first_box', 'official box rule differs'),
    )

    def value(r, k):
        return 100 * (float(r['dar']) - float(r['random']) if k == 'gain' else float(r[k]))

    lines = [
        f'| LAM normalisation (n = {len(tags)}) | ' + ' | '.join(c for _, c in cols) + ' |',
        '|---|' + '---|' * len(cols),
    ]
    for norm in norms:
        cells = []
        for k, _ in cols:
            mean, half, _ = t_interval([value(by[(t, norm)], k) for t in tags if (t, norm) in by], confidence)
            cells.append(format_interval(mean, half, signed=k == 'gain'))
        lines.append(f'| {norm} | ' + ' | '.join(cells) + ' |')
    if len(norms) >= 2:
        a, b = norms[:2]
        cells = []
        for k, _ in cols:
            diffs = [value(by[(t, a)], k) - value(by[(t, b)], k) for t in tags if (t, a) in by and (t, b) in by]
            mean, half, _ = t_interval(diffs, confidence)
            cells.append(format_interval(mean, half, signed=True))
        lines.append(f'| {a} - {b} (paired) | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'
