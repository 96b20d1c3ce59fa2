"""DAR analysis functions: box area, and where the official box rule would pick another region."""

import torch

from grass_mm.analysis.dar import box_area_fraction, box_rule_disagreement
from grass_mm.selfsup.grass_functional import dar_boxes


def test_box_area_fraction():
    boxes = torch.tensor([[0, 0, 9, 9], [2, 3, 2, 3], [0, 0, 19, 9]])
    assert box_area_fraction(boxes, (10, 20)).tolist() == [0.5, 1 / 200, 1.0]


def test_box_rule_agrees_on_a_single_blob_and_differs_inside_a_ring():
    blob = torch.zeros(1, 12, 12)
    blob[0, 3:6, 3:6] = 1.0
    blob[0, 4, 4] = 2.0
    other, first = box_rule_disagreement(blob)
    assert not other[0] and not first[0]
    # a ring (labelled first in raster order) whose box encloses a separate peak in its hole
    ring = torch.zeros(1, 12, 12)
    ring[0, 1:10, 1:10] = 1.6
    ring[0, 2:9, 2:9] = 0.0
    ring[0, 5, 5] = 2.0
    other, first = box_rule_disagreement(ring)
    assert other[0] and first[0]
    # the component rule of dar_boxes keeps the peak alone; the box rule would take the ring's box
    assert dar_boxes(ring).tolist() == [[5, 5, 5, 5]]


def test_box_rule_sees_one_component_when_the_peak_touches_the_ring():
    lam = torch.zeros(1, 12, 12)
    lam[0, 1:10, 1:10] = 1.6
    lam[0, 2:9, 2:9] = 0.0
    lam[0, 2, 5] = 2.0  # the peak is 8-connected to the ring: one component, nothing to disagree about
    other, first = box_rule_disagreement(lam)
    assert not other[0] and not first[0]


def test_dar_norm_table_means_and_paired_difference():
    import numpy as np
    from scipy import stats

    from grass_mm.analysis.dar import dar_norm_markdown

    rows = []
    for t, (a, b) in enumerate([(0.70, 0.65), (0.80, 0.70), (0.75, 0.74)]):
        rows.append(
            dict(tag=f't{t}', lam_norm='original', dar=a, random=0.6, view=0.5, area=0.6, other_box=0.01, first_box=0.0)
        )
        rows.append(
            dict(tag=f't{t}', lam_norm='relu', dar=b, random=0.6, view=0.5, area=0.4, other_box=0.0, first_box=0.0)
        )
    md = dar_norm_markdown(rows)
    diffs = 100 * np.array([0.05, 0.10, 0.01])
    lo, hi = stats.t.interval(0.95, 2, loc=diffs.mean(), scale=stats.sem(diffs))
    paired = next(line for line in md.splitlines() if line.startswith('| original - relu'))
    assert paired.split(' | ')[1] == f'{diffs.mean():+.2f} ± {(hi - lo) / 2:.2f}'
    assert '| original | 75.00 ± ' in md and 'n = 3' in md
