"""Every evidence table in README.md is regenerated, exactly, from the per-run CSV committed beside it."""

import csv
import os.path as osp

import pytest

from grass_mm.analysis.dar import dar_norm_markdown
from grass_mm.analysis.folds import cv_markdown, read_cv_csv, readme_markdown
from grass_mm.analysis.sweep_report import compact_markdown

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RESULTS = osp.join(REPO, 'docs', 'results')
MAIN_JOB_METHODS = ('random-init', 'SimCLR', 'GraSS')


def readme_block(name):
    text = open(osp.join(REPO, 'README.md')).read()
    begin, end = f'<!-- table:{name} -->\n', f'<!-- /table:{name} -->'
    assert begin in text and end in text, f'README.md has no table block {name!r}'
    return text.split(begin, 1)[1].split(end, 1)[0]


def test_cv_table_and_report_come_from_the_committed_csv():
    records = read_cv_csv(osp.join(RESULTS, 'cv_dubai', 'results.csv'))
    folds = {r['fold'] for r in records}
    assert len(folds) == 6, 'the README table needs all six folds'
    assert readme_block('cv_dubai') == readme_markdown(records)
    assert open(osp.join(RESULTS, 'cv_dubai', 'report.md')).read() == cv_markdown(records)


def test_dar_table_comes_from_the_committed_csv():
    with open(osp.join(RESULTS, 'dar_norms', 'results.csv'), newline='') as f:
        rows = list(csv.DictReader(f))
    assert {r['lam_norm'] for r in rows} == {'original', 'relu'}
    assert readme_block('dar_norms') == dar_norm_markdown(rows)


def main_job_records(records):
    """The main job's default run is fold tile_6 of the cross-validation (the same configs) for its three arms."""
    return [r for r in records if r['fold'] == 'tile_6' and r['method'] in MAIN_JOB_METHODS and r['fraction'] == 1.0]


def test_main_job_table_comes_from_the_committed_csv():
    records = main_job_records(read_cv_csv(osp.join(RESULTS, 'cv_dubai', 'results.csv')))
    assert {(r['method'], r['protocol']) for r in records} == {
        (m, p) for m in MAIN_JOB_METHODS for p in ('linear', 'frozen', 'full')
    }
    assert readme_block('main_job') == compact_markdown(records)


@pytest.mark.parametrize('name', ['cv_dubai', 'dar_norms'])
def test_each_results_folder_says_how_to_rebuild(name):
    readme = open(osp.join(RESULTS, name, 'README.md')).read()
    assert 'python tools/' in readme
