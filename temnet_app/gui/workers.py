"""Long work off the GUI thread: a :class:`Worker` (a QObject moved to its own QThread) calls
one :mod:`temnet_app.jobs` function with ``progress`` and ``cancel`` and reports through
signals; it never touches a widget. A :class:`JobRunner` owns at most one worker at a time,
cancels it and waits for its thread, so no thread outlives the window.

Callers pass ``on_success`` / ``on_failure`` / ``on_cancel`` to :meth:`JobRunner.start`; the
runner (a GUI-thread object) receives the worker's signals in its own slots and calls them
there. (A lambda connected straight to a worker's signal would run in the worker's thread,
and a widget it touches would be touched from the wrong thread.)"""

from __future__ import annotations

import logging
import traceback
import weakref
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from temnet_app.core.errors import Cancelled, TemnetError
from temnet_app.core.progress import CancelToken

_log = logging.getLogger(__name__)


class Worker(QObject):
    """Runs ``fn(*args, progress=..., cancel=..., **kwargs)`` once, in the thread it lives in."""

    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(str, str)        # message for the user, details (traceback or "")
    cancelled = Signal()
    finished = Signal()

    def __init__(self, fn: Callable[..., Any], *args, **kwargs) -> None:
        super().__init__()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.cancel_token = CancelToken()

    def _progress(self, fraction: float, message: str) -> None:
        self.progressed.emit(float(fraction), str(message))

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(*self._args, progress=self._progress, cancel=self.cancel_token,
                              **self._kwargs)
        except Cancelled:
            self.cancelled.emit()
        except TemnetError as error:
            self.failed.emit(str(error), "")
        except Exception as error:  # noqa: BLE001 - reported to the user, never lost
            _log.exception("background job failed")
            self.failed.emit(f"{type(error).__name__}: {error}", traceback.format_exc())
        else:
            self.succeeded.emit(result)
        finally:
            self.finished.emit()


_threads: "weakref.WeakSet[QThread]" = weakref.WeakSet()


def unfinished_threads() -> list[QThread]:
    """Worker threads started by any runner that have not finished (tests check this)."""
    alive = []
    for thread in list(_threads):
        try:
            if thread.isRunning():
                alive.append(thread)
        except RuntimeError:  # the C++ object is already gone: finished and deleted
            pass
    return alive


class JobRunner(QObject):
    """Starts one :class:`Worker` at a time in a fresh QThread and cleans up after it."""

    started = Signal(str)
    progressed = Signal(float, str)
    stopped = Signal(str)            # the job's name, after its thread has finished

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._thread: Optional[QThread] = None
        self._worker: Optional[Worker] = None
        self._callbacks: dict = {}
        self.name = ""

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, name: str, fn: Callable[..., Any], *args,
              on_success: Optional[Callable[[Any], None]] = None,
              on_failure: Optional[Callable[[str, str], None]] = None,
              on_cancel: Optional[Callable[[], None]] = None,
              on_progress: Optional[Callable[[float, str], None]] = None, **kwargs) -> Worker:
        """Run ``fn(*args, progress=, cancel=, **kwargs)`` in a new thread; the ``on_*``
        callbacks are called in the GUI thread."""
        if self.running:
            raise RuntimeError(f"{self.name} is still running")
        thread = QThread()
        thread.setObjectName(f"temnet-{name}")
        _threads.add(thread)
        worker = Worker(fn, *args, **kwargs)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        self._callbacks = {"success": on_success, "failure": on_failure, "cancel": on_cancel,
                           "progress": on_progress}
        worker.progressed.connect(self._on_progress)
        worker.succeeded.connect(self._on_success)
        worker.failed.connect(self._on_failure)
        worker.cancelled.connect(self._on_cancel)
        # quit() is thread-safe: called directly from the worker thread, so a GUI thread
        # blocked in wait() still sees the thread end
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._cleanup)
        self._thread, self._worker, self.name = thread, worker, name
        thread.start()
        self.started.emit(name)
        return worker

    def cancel(self) -> None:
        """Ask the running job to stop at its next check (finished work is kept)."""
        if self._worker is not None:
            self._worker.cancel_token.cancel()

    def wait(self, timeout_ms: int = 120_000) -> bool:
        """Block until the job's thread has finished (True) or ``timeout_ms`` passed."""
        thread = self._thread
        if thread is None:
            return True
        done = thread.wait(timeout_ms)
        if done:
            self._cleanup()
        return done

    def cancel_and_wait(self, timeout_ms: int = 120_000) -> bool:
        self.cancel()
        return self.wait(timeout_ms)

    # ----------------------------------------------------------------- in the GUI thread
    @Slot(float, str)
    def _on_progress(self, fraction: float, message: str) -> None:
        self.progressed.emit(fraction, message)
        if self._callbacks.get("progress"):
            self._callbacks["progress"](fraction, message)

    @Slot(object)
    def _on_success(self, result) -> None:
        if self._callbacks.get("success"):
            self._callbacks["success"](result)

    @Slot(str, str)
    def _on_failure(self, message: str, details: str) -> None:
        if self._callbacks.get("failure"):
            self._callbacks["failure"](message, details)

    @Slot()
    def _on_cancel(self) -> None:
        if self._callbacks.get("cancel"):
            self._callbacks["cancel"]()

    @Slot()
    def _cleanup(self) -> None:
        thread, name = self._thread, self.name
        if thread is None:
            return
        self._thread, self._worker = None, None
        thread.deleteLater()
        self.stopped.emit(name)
