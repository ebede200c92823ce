"""Overlapping a batch: read the next micrographs while the current one is in the network, and
commit results in the background, with memory bounded by small queues.

Two helpers, each owning one thread that ends when its ``with`` block does:
:class:`Prefetcher` runs ``load(item)`` up to ``depth`` items ahead; :class:`BackgroundWriter`
runs ``write(value)`` in order with at most ``depth`` values waiting. Errors come back to the
caller's thread. :func:`reader_for` / :func:`writer_for` give either, or (depth 0) the serial
equivalent in the calling thread, behind the same interface.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterable, Iterator, Optional


class _End:
    """The last queue entry; ``error`` set when the producer died of a non-Exception."""

    def __init__(self, error: Optional[BaseException] = None):
        self.error = error


class Prefetcher:
    """Iterate ``(item, value, error)`` in order, ``value = load(item)`` computed in a
    background thread up to ``depth`` items ahead (``error``: the Exception ``load`` raised,
    then ``value`` is None)."""

    def __init__(self, items: Iterable[Any], load: Callable[[Any], Any], depth: int = 2):
        self._items = list(items)
        self._load = load
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(depth)))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="temnet-prefetch", daemon=True)

    def __enter__(self) -> "Prefetcher":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _put(self, entry) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        for item in self._items:
            if self._stop.is_set():
                return
            try:
                entry = (item, self._load(item), None)
            except Exception as error:  # noqa: BLE001 - handed to the caller with its item
                entry = (item, None, error)
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
                self._put(_End(error))
                return
            if not self._put(entry):
                return
        self._put(_End())

    def __iter__(self) -> Iterator[tuple[Any, Any, Optional[Exception]]]:
        while True:
            entry = self._queue.get()
            if isinstance(entry, _End):
                if entry.error is not None:
                    raise entry.error
                return
            yield entry

    def close(self) -> None:
        """Stop reading ahead and wait for the thread (what was read ahead is dropped)."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(0.05)


class BackgroundWriter:
    """``put(value)`` hands ``value`` to ``write`` in a background thread, in order; it blocks
    while ``depth`` values wait. Leaving the ``with`` block writes everything put (also on an
    exception, so a cancel keeps what was finished). The first error of ``write`` is raised by
    the next ``put`` / :meth:`check` / the block's end; nothing after it is written."""

    def __init__(self, write: Callable[[Any], None], depth: int = 2):
        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(depth)))
        self._error: Optional[BaseException] = None
        self._failed = False          # stays set: nothing is written after a failure
        self._thread = threading.Thread(target=self._run, name="temnet-commit", daemon=True)

    def __enter__(self) -> "BackgroundWriter":
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._queue.put(_End())
        self._thread.join()
        if exc_type is None:
            self.check()

    def _run(self) -> None:
        while True:
            value = self._queue.get()
            if isinstance(value, _End):
                return
            if self._failed:
                continue
            try:
                self._write(value)
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
                self._error, self._failed = error, True

    def check(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def put(self, value: Any) -> None:
        self.check()
        self._queue.put(value)


class _Inline:
    """The serial path with the pipeline's interface: load and write in the calling thread."""

    def __init__(self, items=None, load=None, write=None):
        self._items, self._load, self._write = items or [], load, write

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def __iter__(self):
        for item in self._items:
            try:
                yield item, self._load(item), None
            except Exception as error:  # noqa: BLE001 - same contract as the Prefetcher
                yield item, None, error

    def put(self, value) -> None:
        self._write(value)


def reader_for(items, load, depth: int):
    """A :class:`Prefetcher` reading ``depth`` ahead, or (depth 0) the same in this thread."""
    return Prefetcher(items, load, depth) if depth else _Inline(items, load)


def writer_for(write, depth: int):
    """A :class:`BackgroundWriter`, or (depth 0) one that writes at once in this thread."""
    return BackgroundWriter(write, depth) if depth else _Inline(write=write)
