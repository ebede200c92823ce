"""Latency and memory figures of the desktop window (printed, not asserted).

1. launch: a fresh process starts, opens the demo project and shows the window (wall time from
   spawning the process to the first shown frame; median of --launches), whether TensorFlow was
   imported by then, and the process's peak RSS after showing a micrograph;
2. show: time to show a 4000x2620 micrograph with 150 stored boxes (read from disk, pixmap,
   items, one paint; median over --repeats, image cache cleared);
3. slider: one confidence-slider step to a repainted overlay and updated counts (browser,
   table, status) on a project of 100 micrographs x 300 stored detections (median and max of
   --steps steps);
4. stall: the longest gap of a 10 ms QTimer heartbeat while the shipped model detects the
   demo project's first experiment in the worker thread, split into the model load (TensorFlow
   import) and the detection itself;
5. edit: one box edit in annotation mode, from the mouse release to the edit committed to the
   project file (drawing new boxes, and moving one of 150 boxes), median of --edits;
6. statistics: the statistics dock's refresh after the threshold moved (re-count, tables, both
   figures drawn) on the 100 x 300 project, and the longest slider step while it is shown.

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/gui_latency.py [--skip-detection]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

LAUNCH = textwrap.dedent("""
    import resource, sys, time
    from pathlib import Path
    from PySide6.QtCore import QSettings
    from temnet_app.gui.app import create_application, setup_logging
    setup_logging()
    app = create_application()
    from temnet_app.gui.main_window import MainWindow
    from temnet_app.gui.settings import AppSettings
    window = MainWindow(AppSettings(QSettings(sys.argv[2], QSettings.Format.IniFormat)))
    window.show()
    window.open_initial(Path(sys.argv[1]))
    app.processEvents()
    window.repaint()
    print("shown", time.time(), "tensorflow" in sys.modules, flush=True)
    first = window.session.micrographs[window.session.experiments[0].id][0].id
    window.session.set_current(first)
    app.processEvents()
    window.repaint()
    print("rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flush=True)
    window.close()
""")


def launch(demo: Path, work: Path, n: int) -> None:
    times, rss, tf = [], [], []
    # an installed program has its modules compiled (.pyc): one uncounted launch writes them
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["TEMNET_DATA_DIR"] = str(work / "appdata")
    subprocess.run([sys.executable, "-c", LAUNCH, str(demo), str(work / "warm.ini")],
                   capture_output=True, env=env, timeout=300)
    for i in range(n):
        start = time.time()
        out = subprocess.run([sys.executable, "-c", LAUNCH, str(demo), str(work / f"s{i}.ini")],
                             capture_output=True, text=True, env=env, timeout=300)
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        fields = dict(line.split(" ", 1) for line in out.stdout.splitlines())
        shown, loaded = fields["shown"].split()
        times.append(float(shown) - start)
        tf.append(loaded == "True")
        rss.append(float(fields["rss_mb"]))
    print(f"launch to window shown (demo project): median {statistics.median(times):.2f} s "
          f"over {n} launches (min {min(times):.2f}, max {max(times):.2f}); "
          f"TensorFlow imported at start: {any(tf)}")
    print(f"peak RSS of the window with the demo project open and a micrograph shown: "
          f"median {statistics.median(rss):.0f} MB")


def make_window(project: Path, work: Path):
    from PySide6.QtCore import QSettings

    from temnet_app.gui.app import create_application
    from temnet_app.gui.main_window import MainWindow
    from temnet_app.gui.settings import AppSettings

    app = create_application()
    window = MainWindow(AppSettings(QSettings(str(work / "bench.ini"),
                                              QSettings.Format.IniFormat)))
    window.settings.set_model_dir(None)
    window.show()
    window.open_initial(project)
    app.processEvents()
    return app, window


def big_project(work: Path, n_micrographs: int, n_boxes: int) -> Path:
    """A project of ``n_micrographs`` (the first a 4000x2620 TIFF, the rest small) with
    ``n_boxes`` stored detections each, spread-out scores."""
    import tifffile

    from temnet_app.core.boxes import Detection
    from temnet_app.core.project import Project

    folder = work / "big"
    folder.mkdir()
    rng = np.random.default_rng(0)
    tifffile.imwrite(folder / "m000.tif", rng.integers(60, 200, (2620, 4000), dtype=np.uint8))
    for i in range(1, n_micrographs):
        tifffile.imwrite(folder / f"m{i:03d}.tif", rng.integers(0, 255, (64, 64), dtype=np.uint8))
    path = work / "big.temnet"
    with Project.create(path) as project:
        project.add_folder(folder)
        run = project.start_run("bench@1", {}, 0.05)
        for m in project.micrographs():
            xy = rng.uniform(0, [3700, 2300], size=(n_boxes, 2))
            dets = [Detection(x, y, x + 260, y + 260, int(c), float(s)) for (x, y), c, s in
                    zip(xy, rng.integers(1, 4, n_boxes), rng.uniform(0.05, 1.0, n_boxes))]
            project.store_detections(run.id, m.id, dets)
        project.finish_run(run.id, "complete")
    return path


def show_and_slider(work: Path, repeats: int, steps: int) -> None:
    path = big_project(work, 100, 300)
    app, window = make_window(path, work)
    ids = sorted(window.session.by_id)
    first, other = ids[0], ids[1]
    # the 150-box figure: a micrograph whose run holds 300 boxes shows about half at 0.5
    window.session.set_threshold(0.525)
    app.processEvents()
    times = []
    for _ in range(repeats):
        window.session.set_current(other)
        app.processEvents()
        window.viewer._cache.clear()
        start = time.perf_counter()
        window.session.set_current(first)
        app.processEvents()
        window.viewer.view.viewport().repaint()
        times.append(time.perf_counter() - start)
    shown = len(window.viewer.view.overlay.visible_predicted())
    print(f"show a 4000x2620 micrograph with {shown} visible boxes "
          f"({len(window.viewer.view.overlay.predicted)} items): median "
          f"{statistics.median(times) * 1000:.0f} ms over {repeats} (max {max(times) * 1000:.0f})")
    window.browser.tree.expandAll()
    app.processEvents()
    values = np.linspace(0.2, 0.9, steps)
    step_times, forced = [], []
    for i, value in enumerate(values):
        start = time.perf_counter()
        window.threshold.set_value(float(value))
        app.processEvents()                   # counts, items, and Qt's own repaint
        step_times.append(time.perf_counter() - start)
        if i % 2:                             # and once more, every panel painted in full
            window.viewer.view.viewport().repaint()
            window.browser.tree.viewport().repaint()
            window.counts.table.viewport().repaint()
            forced.append(time.perf_counter() - start)
    print(f"slider step -> updated counts and repainted overlay, browser and table (100 "
          f"micrographs x 300 detections): median {statistics.median(step_times) * 1000:.1f} "
          f"ms, max {max(step_times) * 1000:.1f} ms over {steps} steps; with every panel "
          f"repainted in full once more: median {statistics.median(forced) * 1000:.1f} ms, "
          f"max {max(forced) * 1000:.1f} ms")
    window.close()


def _mouse(view, kind, point):
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    release = kind == QEvent.Type.MouseButtonRelease
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else \
        Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, QPointF(point), QPointF(view.viewport().mapToGlobal(point)),
                        button, Qt.MouseButton.NoButton if release else Qt.MouseButton.LeftButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def edit_and_statistics(work: Path, edits: int, steps: int) -> None:
    from PySide6.QtCore import QEvent, QPointF

    path = work / "big.temnet"
    app, window = make_window(path, work)
    ids = sorted(window.session.by_id)
    window.session.set_current(ids[0])
    window.session.set_threshold(0.525)
    app.processEvents()
    view = window.viewer.view
    window.viewer.editor.set_active(True)
    view.actual_size()
    view.centerOn(QPointF(2000, 1300))
    app.processEvents()
    draw_times = []
    for i in range(edits):
        start, end = view.mapFromScene(QPointF(1500 + 30 * i, 900)), \
            view.mapFromScene(QPointF(1700 + 30 * i, 1100))
        _mouse(view, QEvent.Type.MouseButtonPress, start)
        _mouse(view, QEvent.Type.MouseMove, end)
        t = time.perf_counter()
        _mouse(view, QEvent.Type.MouseButtonRelease, end)        # pushes and commits the edit
        draw_times.append(time.perf_counter() - t)
        app.processEvents()
    window.session.project.clear_manual_boxes(ids[0])
    app.processEvents()
    window.annotation.accept_detections([ids[0]])
    app.processEvents()
    n_boxes = len(view.overlay.manual)
    move_times = []
    for i in range(edits):
        item = view.overlay.manual[(7 * i) % n_boxes]
        view.centerOn(item)
        app.processEvents()
        centre = view.mapFromScene(item.rect().center())
        _mouse(view, QEvent.Type.MouseButtonPress, centre)
        _mouse(view, QEvent.Type.MouseMove, centre + (view.mapFromScene(QPointF(20, 10)) -
                                                       view.mapFromScene(QPointF(0, 0))))
        t = time.perf_counter()
        _mouse(view, QEvent.Type.MouseButtonRelease, centre)
        move_times.append(time.perf_counter() - t)
        app.processEvents()
    print(f"box edit, mouse release -> committed to the project file: drawing a box "
          f"median {statistics.median(draw_times) * 1000:.1f} ms (max "
          f"{max(draw_times) * 1000:.1f}); moving one of {n_boxes} boxes median "
          f"{statistics.median(move_times) * 1000:.1f} ms (max {max(move_times) * 1000:.1f}) "
          f"over {edits} edits each")
    window.viewer.editor.set_active(False)
    panel = window.statistics
    window.statistics_dock.show()
    app.processEvents()
    panel.reload()
    figures = {}
    for tab in (0, 1):                 # the agreement table or the score histogram on show
        panel.tabs.setCurrentIndex(tab)
        app.processEvents()
        refresh = []
        for value in np.linspace(0.3, 0.8, 8):
            window.session.threshold = float(value)
            t = time.perf_counter()
            panel.recount()
            panel.morphology_canvas.repaint()
            panel.tabs.currentWidget().repaint()
            refresh.append(time.perf_counter() - t)
        figures[panel.tabs.tabText(tab)] = refresh
    print("statistics dock refresh after a threshold change (100 micrographs x 300 "
          "detections; re-count, table, figures drawn and painted): " + "; ".join(
              f"with the {name} tab: median {statistics.median(t) * 1000:.0f} ms, max "
              f"{max(t) * 1000:.0f} ms" for name, t in figures.items()))
    step_times = []
    for value in np.linspace(0.2, 0.9, steps):
        t = time.perf_counter()
        window.threshold.set_value(float(value))
        app.processEvents()
        step_times.append(time.perf_counter() - t)
    print(f"slider step with the statistics dock shown (its refresh waits for the drag to "
          f"pause): median {statistics.median(step_times) * 1000:.1f} ms, max "
          f"{max(step_times) * 1000:.1f} ms over {steps} steps")
    window.close()


def stall(demo: Path, work: Path) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    app, window = make_window(demo, work)
    beats: list[tuple[float, float]] = []
    last = [time.perf_counter()]
    loaded_at = []

    def beat():
        now = time.perf_counter()
        beats.append((now, now - last[0]))
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)
    window.detection.deviceKnown.connect(lambda _: loaded_at.append(time.perf_counter()))
    ids = [m.id for m in window.session.micrographs[window.session.experiments[0].id]]
    start = time.perf_counter()
    timer.start()
    window.detection.detect(ids, "benchmark")
    loop = QEventLoop()
    window.detection_runner.stopped.connect(loop.quit)
    loop.exec()
    timer.stop()
    total = time.perf_counter() - start
    split = loaded_at[0] if loaded_at else start
    load = [gap for t, gap in beats if t <= split + 0.05]
    run = [gap for t, gap in beats if t > split + 0.05]
    summary = window.detection.last_summary
    print(f"detection of {len(ids)} demo micrographs in the worker: {total:.1f} s wall "
          f"({summary.seconds:.1f} s detecting, {split - start:.1f} s loading TensorFlow and "
          f"the model)")
    print(f"event-loop stall (10 ms heartbeat): while loading TensorFlow + model: longest "
          f"{max(load, default=0) * 1000:.0f} ms; while detecting: longest "
          f"{max(run, default=0) * 1000:.0f} ms, median {statistics.median(run) * 1000:.0f} "
          f"ms over {len(run)} beats")
    window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--skip-detection", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["TEMNET_DATA_DIR"] = str(work / "appdata")
        from temnet_app.jobs import build_demo_project

        demo = build_demo_project(work / "demo" / "demo.temnet")
        print(f"machine: {os.cpu_count()} CPU cores, Qt platform "
              f"{os.environ['QT_QPA_PLATFORM']}")
        launch(demo, work, args.launches)
        show_and_slider(work, args.repeats, args.steps)
        edit_and_statistics(work, args.edits, args.steps)
        if not args.skip_detection:
            stall(demo, work)
        shutil.rmtree(work / "appdata", ignore_errors=True)


if __name__ == "__main__":
    main()
