"""The self-test of an installed TEMNet Studio (``temnet self-test``, ``TEMNetStudio
--self-test``): the real window, offscreen, goes through the main path once: a new project
from two simulated micrographs, detection through the real QThread worker with the shipped
model, the threshold moved, CSV and PDF exported and checked. One line per step with its time;
exit status 0 only if every step worked."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, TextIO

STEP_TIMEOUT_MS = 600_000


class SelfTestFailed(RuntimeError):
    pass


def _wait(signal, start: Callable[[], object], timeout_ms: int = STEP_TIMEOUT_MS) -> None:
    """Call ``start`` and run the event loop until ``signal`` fires (or time runs out)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    fired = []
    signal.connect(lambda *args: (fired.append(args), loop.quit()))
    timer = QTimer(singleShot=True, interval=timeout_ms)
    timer.timeout.connect(loop.quit)
    if start() is False:
        raise SelfTestFailed("the step did not start")
    timer.start()
    if not fired:
        loop.exec()
    timer.stop()
    if not fired:
        raise SelfTestFailed(f"no result within {timeout_ms / 1000:.0f} s")


def run_self_test(out: TextIO = sys.stdout) -> int:
    """Run every step; print ``ok <step> (<seconds> s): <detail>`` or ``FAILED ...``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="temnet-self-test-") as tmp:
        work = Path(tmp)
        os.environ["TEMNET_DATA_DIR"] = str(work / "appdata")
        state: dict = {}
        steps = [("window", _open_window), ("micrographs", _make_project),
                 ("detection", _detect), ("threshold", _threshold), ("export", _export)]
        try:
            for name, step in steps:
                started = time.perf_counter()
                try:
                    detail = step(work, state)
                except Exception as error:  # noqa: BLE001 - reported as a failed step
                    print(f"FAILED {name} ({time.perf_counter() - started:.1f} s): {error}",
                          file=out, flush=True)
                    if not isinstance(error, SelfTestFailed):
                        traceback.print_exc(file=sys.stderr)
                    return 1
                print(f"ok {name} ({time.perf_counter() - started:.1f} s): {detail}",
                      file=out, flush=True)
        finally:
            window = state.get("window")
            if window is not None:
                window.session.close()
                window.close()
    print(f"self-test passed in {time.perf_counter() - began:.1f} s", file=out, flush=True)
    return 0


def _open_window(work: Path, state: dict) -> str:
    from PySide6.QtCore import QSettings

    from temnet_app.gui.app import create_application, display_problem
    from temnet_app.gui.main_window import MainWindow
    from temnet_app.gui.settings import AppSettings

    problem = display_problem()
    if problem:
        raise SelfTestFailed(problem)
    app = create_application()
    settings = AppSettings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    settings.set_model_dir(None)
    window = MainWindow(settings)
    window.show()
    app.processEvents()
    state.update(app=app, window=window)
    if not window.isVisible():
        raise SelfTestFailed("the main window did not show")
    return f"main window shown on the {app.platformName()} platform"


def _make_project(work: Path, state: dict) -> str:
    from temnet_app.jobs import write_self_test_micrographs

    window = state["window"]
    folder = work / "micrographs"
    write_self_test_micrographs(folder)
    path = work / "self-test.temnet"
    if not window.projects.create(path):
        raise SelfTestFailed(f"cannot create the project {path}")
    _wait(window.task_runner.stopped, lambda: window.projects.add_paths([folder], None))
    ids = sorted(window.session.by_id)
    if len(ids) != 2:
        raise SelfTestFailed(f"expected 2 micrographs in the project, found {len(ids)}")
    state["ids"] = ids
    return f"project with {len(ids)} simulated micrographs of 4000 x 2620 px"


def _detect(work: Path, state: dict) -> str:
    window = state["window"]
    started, first = time.perf_counter(), []
    window.session.detectionsStored.connect(
        lambda ids: first or first.append(time.perf_counter() - started))
    _wait(window.detection_runner.stopped,
          lambda: window.detection.detect(state["ids"], "the self-test"))
    summary = window.detection.last_summary
    if summary is None or summary.status != "complete" or len(summary.processed) != 2:
        raise SelfTestFailed(f"detection did not complete: {summary}")
    if summary.n_detections < 20:
        raise SelfTestFailed(f"only {summary.n_detections} detections on two micrographs")
    state["run"] = summary.run_id
    first_s = f"{first[0]:.1f} s" if first else "?"
    return (f"{summary.n_detections} detections by {summary.model_id} on "
            f"{window.status.device_label.text().split(': ')[-1]}; the first 4000 x 2620 "
            f"micrograph's boxes after {first_s} (TensorFlow and the model loaded first)")


def _threshold(work: Path, state: dict) -> str:
    window, app = state["window"], state["app"]
    project, run, mid = window.session.project, state["run"], state["ids"][0]
    shown = {}
    for value in (0.5, 0.9):
        window.threshold.set_value(value)
        app.processEvents()
        expected = sum(project.detection_counts(run, value)[mid].values())
        visible = len(window.viewer.view.overlay.visible_predicted()) \
            if window.session.current_id == mid else expected
        counted = int(window.session.counts(mid).sum())
        if counted != expected or visible != expected:
            raise SelfTestFailed(f"at {value}: {counted} counted, {visible} shown, "
                                 f"{expected} in the project")
        shown[value] = expected
    return f"{shown[0.5]} virions at 0.50, {shown[0.9]} at 0.90 on the first micrograph"


def _export(work: Path, state: dict) -> str:
    window = state["window"]
    folder = work / "export"
    _wait(window.task_runner.stopped, lambda: window.projects.export_to(folder, ["report"]))
    paths = window.projects.last_export
    pdf = next((p for p in paths.values() if p.suffix == ".pdf"), None)
    table = next((p for k, p in paths.items() if p.name.endswith("_detections.csv")), None)
    if pdf is None or table is None:
        raise SelfTestFailed(f"missing files in {folder}: {sorted(p.name for p in paths.values())}")
    data = pdf.read_bytes()
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    if not data.startswith(b"%PDF") or pages < 2:
        raise SelfTestFailed(f"{pdf.name} is not a report ({pages} pages)")
    with table.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = sum(sum(c.values()) for c in window.session.project.detection_counts(
        state["run"], 0.9).values())
    if len(rows) != expected:
        raise SelfTestFailed(f"{table.name} has {len(rows)} rows, the project {expected}")
    return f"{len(paths)} files: {len(rows)} detections in the CSV, a PDF of {pages} pages"
