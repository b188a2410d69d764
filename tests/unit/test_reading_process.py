"""The import's reading process: items and the final state come back, failures are raised, nothing is left running."""

from __future__ import annotations

import os
import signal

import pytest

from core.sessions import reading_process
from core.sessions.reading_process import ChildReader, ReadingFailed

pytestmark = pytest.mark.skipif(not reading_process.available(), reason="the reading process needs fork (Linux)")


def test_the_items_arrive_in_order_and_the_final_state_of_the_child_comes_back():
    seen: list[int] = []

    def numbers():
        for n in range(5):
            seen.append(n)  # in the child's memory, not the parent's
            yield {"n": n, "pid": os.getpid()}

    reader = ChildReader(numbers(), lambda: ("done", list(seen)))
    items = list(reader)
    assert [item["n"] for item in items] == [0, 1, 2, 3, 4]
    assert {item["pid"] for item in items} != {os.getpid()}  # read in another process
    assert reader.finished == ("done", [0, 1, 2, 3, 4]) and seen == []


def test_an_error_in_the_child_is_raised_in_the_parent_after_the_items_before_it():
    def failing():
        yield 1
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    received = []
    with pytest.raises(UnicodeDecodeError, match="invalid start byte"):
        for item in ChildReader(failing(), lambda: None):
            received.append(item)
    assert received == [1]


def test_an_error_that_cannot_be_pickled_still_reaches_the_parent_by_name_and_message():
    class Local(Exception):  # a class defined in a function cannot be pickled
        pass

    def failing():
        raise Local("the disk went away")
        yield  # pragma: no cover

    with pytest.raises(ReadingFailed, match="Local: the disk went away"):
        list(ChildReader(failing(), lambda: None))


def test_a_child_that_dies_is_reported_with_its_exit_code_instead_of_waiting_for_ever():
    def dying():
        yield 1
        os.kill(os.getpid(), signal.SIGKILL)
        yield 2  # pragma: no cover

    with pytest.raises(ReadingFailed, match="stopped \\(exit code -9\\)"):
        list(ChildReader(dying(), lambda: None))


def test_a_consumer_that_stops_early_leaves_no_process_running():
    def endless():
        n = 0
        while True:
            n += 1
            yield n

    reader = ChildReader(endless(), lambda: None)
    for item in reader:
        if item == 3:
            break
    reader.close()
    assert not reader.running and reader.finished is None
