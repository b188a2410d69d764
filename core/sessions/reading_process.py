"""Run an iterator in a child process, a batch ahead of its consumer.

A long PostgreSQL import reads, checks and formats its records here while the parent writes
the batch before: two interpreters, so the reading no longer waits on the writer's interpreter
lock. Measured at 200,000 sessions, reading alone took 6 s and writing alone 11 s, and with
both in one process (a reading thread) the import took 17 s: the two hardly overlapped.

The child is forked, so it continues the very iterator the parent made (an open file, a list,
a generator half-way through) and the parent must not touch it afterwards. What it yields and
the ``finish`` value it ends with are pickled to the parent; an exception in the child is raised
in the parent. Where fork is unavailable, the caller reads in a thread instead
(``core.sessions.prefetch``).
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_ITEM, _DONE, _FAILED = 0, 1, 2


def available() -> bool:
    # Only Linux: fork is the platform's default there, and unsafe on macOS.
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class ReadingFailed(RuntimeError):
    """The child process stopped without saying why (killed, out of memory)."""


class ChildReader(Generic[T]):
    """Starts reading at once; iterate to get the items. Afterwards ``finished`` holds what
    ``finish()`` returned in the child. ``close()`` stops the child (iterating to the end does too)."""

    def __init__(self, items: Iterable[T], finish: Callable[[], object]):
        context = multiprocessing.get_context("fork")
        self._receiving, sending = context.Pipe(duplex=False)
        self._child = context.Process(target=_produce, args=(items, finish, sending),
                                      name="import-reader", daemon=True)
        self._child.start()
        sending.close()
        self.finished: object = None

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                try:
                    kind, payload = self._receiving.recv()
                except EOFError:
                    self._child.join()
                    raise ReadingFailed(
                        f"the import's reading process stopped (exit code {self._child.exitcode})") from None
                if kind == _ITEM:
                    yield payload
                elif kind == _DONE:
                    self.finished = payload
                    return
                else:
                    raise payload
        finally:
            self.close()

    @property
    def running(self) -> bool:
        return self._child.is_alive()

    def close(self) -> None:
        self._receiving.close()  # a child still sending gets a broken pipe and ends
        if self._child.is_alive():
            self._child.kill()
        self._child.join()


def _produce(items: Iterable[object], finish: Callable[[], object], sending) -> None:
    # Everything inherited is left alone for good: the collector then never frees (and finalises)
    # an object of the parent's, such as a database connection it no longer refers to.
    gc.freeze()
    try:
        for item in items:
            sending.send((_ITEM, item))
        sending.send((_DONE, finish()))
    except BrokenPipeError:
        pass  # the parent stopped reading: it has failed or been interrupted
    except BaseException as error:  # handed to the parent, which raises it
        try:
            sending.send((_FAILED, error))
        except Exception:  # noqa: BLE001 - an error that cannot be pickled still reaches the parent
            sending.send((_FAILED, ReadingFailed(f"{type(error).__name__}: {error}")))
    finally:
        sending.close()
