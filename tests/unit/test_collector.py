"""The bulk import's relaxed garbage collector: raised for the block, as it was afterwards."""

from __future__ import annotations

import gc

import pytest

from core.sessions.collector import BULK_THRESHOLDS, fewer_collections


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_thresholds_are_raised_inside_the_block_and_restored_after_it(thresholds):
    gc.set_threshold(700, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == BULK_THRESHOLDS
    assert gc.get_threshold() == (700, 10, 10)


def test_thresholds_are_restored_when_the_block_raises(thresholds):
    gc.set_threshold(700, 10, 10)
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("import failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_already_higher_is_kept(thresholds):
    gc.set_threshold(1_000_000, 10, 10)
    with fewer_collections():
        assert gc.get_threshold()[0] == 1_000_000


def test_a_collector_switched_off_by_threshold_stays_off(thresholds):
    gc.set_threshold(0)
    with fewer_collections():
        assert gc.get_threshold()[0] == 0
