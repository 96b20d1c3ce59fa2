"""grass_mm.analysis.sweep_report's pieces shared by the sweep and the noisy-pair study: CSV, tables, losses."""

import csv
import math

from grass_mm.analysis.sweep_report import (
    NOISY_PAIRS_CSV_FIELDS,
    md_row,
    md_rule,
    pretrain_loss_markdown,
    write_noisy_pairs_csv,
    write_sweep_csv,
)


def test_markdown_pieces():
    assert md_row(['a', 1, 2.5]) == '| a | 1 | 2.5 |' and md_rule(3) == '|---|---|---|'


def test_noisy_pairs_csv_rounds_and_leaves_missing_values_empty(tmp_path):
    recs = [
        dict(method='random-init', r_img=None, noisy_share=None, seed=0, pretrain_loss=math.nan, mIoU=60.123456,
             aAcc=80.0, mAcc=70.0, vs_floor='', beats_floor='', config='c0.py', work_dir='w0', extra='dropped'),
        dict(method='grass', r_img=0.5, noisy_share=1.0, seed=0, pretrain_loss=1.234567, mIoU=63.0, aAcc=81.0,
             mAcc=71.0, vs_floor=2.88, beats_floor='yes', config='c1.py', work_dir='w1'),
    ]  # fmt: skip
    path = tmp_path / 'noisy_pairs.csv'
    write_noisy_pairs_csv(recs, str(path))
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == NOISY_PAIRS_CSV_FIELDS
    assert (rows[0]['r_img'], rows[0]['pretrain_loss'], rows[0]['mIoU']) == ('', '', '60.12')
    assert (rows[1]['r_img'], rows[1]['pretrain_loss'], rows[1]['beats_floor']) == ('0.5', '1.2346', 'yes')
    sweep = tmp_path / 'results.csv'
    write_sweep_csv([dict(recs[1], protocol='full', fraction=0.5, OA=81.0)], str(sweep))
    assert sweep.read_text().splitlines()[1] == 'grass,full,0.5,0,63.0000,81.0000,71.0000,w1'


def test_pretraining_losses_against_chance():
    md = pretrain_loss_markdown({('SimCLR', 1): (2.1, 1.8), ('GraSS', 0): (2.0, 1.9)}, math.log(7), 4)
    assert 'chance level ln(2N-1) = 1.95 for N = 4 images' in md
    lines = md.strip().splitlines()
    assert lines[-2:] == ['| GraSS | 0 | 2.000 | 1.900 | +0.046 |', '| SimCLR | 1 | 2.100 | 1.800 | +0.146 |']
