"""Shared test fixtures.

Real remote-sensing data lives in ``../shared/data`` beside the repository (see its README).
Tests that need it use the ``shared_data`` fixture, which skips with a reason when it is absent.
"""
import os
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATA = os.environ.get('GRASS_SHARED_DATA', osp.join(osp.dirname(REPO_ROOT), 'shared', 'data'))


def _need(path):
    if not osp.isdir(path):
        pytest.skip(f'real data not available: {path} is absent (set GRASS_SHARED_DATA)')
    return path


@pytest.fixture(scope='session')
def shared_data():
    """Root of ``../shared/data``; skips the test when absent."""
    return _need(SHARED_DATA)


@pytest.fixture(scope='session')
def rs_tiles(shared_data):
    """``mmseg_rs_tiles`` root (Potsdam, Vaihingen, LoveDA crops in mmseg layout)."""
    return _need(osp.join(shared_data, 'mmseg_rs_tiles'))


@pytest.fixture(scope='session')
def dubai_root(shared_data):
    """``dubai_aerial`` root (Kaggle layout, colour masks)."""
    return _need(osp.join(shared_data, 'dubai_aerial'))


@pytest.fixture
def repo_root():
    return REPO_ROOT
