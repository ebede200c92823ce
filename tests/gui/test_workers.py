"""JobRunner: callbacks run in the GUI thread (never in the worker's), failures and cancels
reach the caller, and waiting for a job does not dead-lock."""

import threading

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from temnet_app.core.errors import Cancelled, ProjectError
from temnet_app.gui.workers import JobRunner, unfinished_threads


def job(value, progress, cancel, fail=None, wait=None):
    progress(0.5, "half way")
    if wait is not None:
        while not cancel.cancelled:
            wait.wait(0.01)
        raise Cancelled("stopped")
    if fail is not None:
        raise fail
    return value, threading.get_ident()


def test_callbacks_run_in_the_gui_thread(qtbot):
    runner = JobRunner()
    seen = {}

    def success(result):
        seen["result"] = result
        seen["gui"] = QThread.currentThread() == QApplication.instance().thread()

    progress = []
    with qtbot.waitSignal(runner.stopped, timeout=10_000):
        runner.start("job", job, 42, on_success=success,
                     on_progress=lambda f, m: progress.append(
                         (f, m, QThread.currentThread() == QApplication.instance().thread())))
    value, worker_ident = seen["result"]
    assert value == 42 and worker_ident != threading.get_ident() and seen["gui"]
    assert progress == [(0.5, "half way", True)] and not unfinished_threads()


def test_failure_and_unexpected_errors_reach_the_caller(qtbot):
    runner = JobRunner()
    failures = []
    for error in (ProjectError("the file is busy"), ValueError("a bug")):
        with qtbot.waitSignal(runner.stopped, timeout=10_000):
            runner.start("job", job, 1, fail=error,
                         on_failure=lambda message, details: failures.append((message,
                                                                              details)))
    assert failures[0] == ("the file is busy", "")
    assert failures[1][0] == "ValueError: a bug" and "Traceback" in failures[1][1]


def test_cancel_and_wait(qtbot):
    runner = JobRunner()
    cancelled = []
    runner.start("job", job, 1, wait=threading.Event(), on_cancel=lambda: cancelled.append(1))
    assert runner.running
    assert runner.cancel_and_wait(10_000) and not runner.running
    qtbot.waitUntil(lambda: cancelled == [1], timeout=5000)
    assert not unfinished_threads()
