"""The statistics dock against ``core`` on the same project and threshold; slider updates;
clicking an experiment's bars; export from the window (CSV, PDF with the agreement numbers,
VIA / COCO of the manual boxes, PNG overlays) and the equivalent command."""

import math

import numpy as np
import pytest
from gui_helpers import ids_of
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pypdf import PdfReader

from temnet_app.core.analysis import compute_statistics, format_p, load_statistics_input
from temnet_app.core.annotations import read_coco_json, read_via_csv
from temnet_app.core.analysis.statistics import format_number
from temnet_app.core.boxes import Detection
from temnet_app.core.project import Project


@pytest.fixture
def stats_project(demo_project):
    """The demo project (manual boxes everywhere) with detections near its manual boxes in
    two experiments: predicted and manual counts that differ a little."""
    rng = np.random.default_rng(5)
    with Project.open(demo_project) as project:
        run = project.start_run("fake@1", {}, 0.05)
        for experiment in project.experiments()[:2]:
            for m in project.micrographs(experiment.id):
                dets = []
                for box in project.manual_boxes(m.id):
                    jitter = rng.normal(0, 3, 4)
                    class_id = box.class_id if rng.random() > 0.15 else 1 + box.class_id % 3
                    dets.append(Detection(box.x1 + jitter[0], box.y1 + jitter[1],
                                          box.x2 + jitter[2], box.y2 + jitter[3], class_id,
                                          float(rng.uniform(0.2, 1.0))))
                project.store_detections(run.id, m.id, dets)
        project.finish_run(run.id, "complete")
    return demo_project


def dock_numbers(window):
    table = window.statistics.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    rows = {}
    for r in range(table.rowCount()):
        cells = {h: table.item(r, c).text() for c, h in enumerate(headers)}
        rows[cells["experiment"]] = cells
    return rows


def core_numbers(path, threshold):
    with Project.open(path) as project:
        stats = compute_statistics(load_statistics_input(project, "newest"), threshold)
    return {row.experiment: row for row in stats.per_experiment.itertuples()}


def test_dock_numbers_equal_core_and_follow_the_slider(make_window, stats_project, qtbot):
    window = make_window(stats_project)
    panel = window.statistics
    qtbot.waitUntil(lambda: panel.stats is not None, timeout=10_000)
    for threshold in (0.5, 0.8):
        window.session.set_threshold(threshold)
        qtbot.waitUntil(lambda: panel.stats.threshold == threshold, timeout=5000)
        shown, truth = dock_numbers(window), core_numbers(stats_project, threshold)
        for name in ("WT NL4-3", "PR D25A"):
            assert float(shown[name]["RMSE (pp)"]) == pytest.approx(truth[name].rmse_pp,
                                                                    abs=0.006)
            p = truth[name].chi2_p
            assert shown[name]["p"] == ("–" if math.isnan(p) else format_p(p))
            assert float(shown[name]["F1 %"]) == pytest.approx(truth[name].f1_pct, abs=0.06)
        assert shown["IN N184L"]["RMSE (pp)"] == "–"       # no detections there
    assert panel.last_refresh_ms > 0


def test_clicking_an_experiments_bars_selects_it(make_window, stats_project, qtbot):
    window = make_window(stats_project)
    panel = window.statistics
    qtbot.waitUntil(lambda: panel.stats is not None, timeout=10_000)
    panel.morphology_canvas.draw()
    ax = panel.morphology.axes[0]
    x, y = ax.transData.transform((1.0, 20.0))           # the second experiment's bars
    height = panel.morphology_canvas.height() * panel.morphology_canvas.devicePixelRatioF()
    point = QPoint(int(x / panel.morphology_canvas.devicePixelRatioF()),
                   int((height - y) / panel.morphology_canvas.devicePixelRatioF()))
    qtbot.mouseClick(panel.morphology_canvas, Qt.MouseButton.LeftButton, pos=point)
    index = window.browser.tree.currentIndex()
    assert index.data().startswith("PR D25A")


def test_export_everything_from_the_window(make_window, stats_project, qtbot, tmp_path):
    window = make_window(stats_project)
    ids = ids_of(window)[:2]
    out = tmp_path / "export"
    window.session.set_threshold(0.6)
    with qtbot.waitSignal(window.task_runner.stopped, timeout=120_000):
        window.projects.export_to(out, ["report", "annotations", "overlays"], ids)
    written = window.projects.last_export
    names = sorted(p.name for p in out.iterdir())
    assert sum(n.endswith("_overlay.png") for n in names) == 2
    pdf = next(p for p in written.values() if p.suffix == ".pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    truth = core_numbers(stats_project, 0.6)
    for name in ("WT NL4-3", "PR D25A"):
        assert format_number(truth[name].rmse_pp, 2) in text
    assert "0.60" in text
    via = read_via_csv(written["via"])
    coco = read_coco_json(written["coco"])
    with Project.open(stats_project) as project:
        first = project.micrograph(ids[0])
        key = f"WT NL4-3/{first.name}"
        assert via[key] == project.manual_boxes(first.id) == coco[key]
    window.actions["copy_command"].trigger()
    command = QApplication.clipboard().text()
    assert command.startswith("temnet report ") and "--threshold 0.60 --run newest" in command
    assert str(out) in command


def test_import_via_boxes_from_the_window(window, tmp_path):
    from temnet_app.core.annotations import write_via_csv
    from temnet_app.core.boxes import Box

    target = window.session.micrographs[window.session.experiments[2].id][0]
    labels = tmp_path / "labels.csv"
    write_via_csv(labels, {target.name: [Box(5, 5, 50, 60, 3)]})
    summary = window.projects.import_file(labels)
    assert summary.kind == "boxes" and summary.matched == [target.id]
    assert window.session.project.manual_boxes(target.id) == [Box(5, 5, 50, 60, 3)]
