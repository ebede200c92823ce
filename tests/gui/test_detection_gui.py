"""Detection from the window with the shipped model, through the real worker thread: results
appear in the browser and the viewer as each micrograph is committed; cancel keeps finished
micrographs; closing the window during a run asks, cancels and waits."""

import pytest
from gui_helpers import click_micrograph, ids_of, row_text, run_job
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from temnet_app.core.project import Project


def test_detect_one_micrograph_with_the_shipped_model(window, qtbot, demo_project):
    mid = ids_of(window)[0]
    click_micrograph(qtbot, window, mid)
    assert window.viewer.view.has_image and not window.viewer.view.overlay.predicted
    with qtbot.waitSignal(window.detection_runner.stopped, timeout=180_000):
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # selection
    summary = window.detection.last_summary
    assert summary.status == "complete" and summary.processed == (mid,)
    assert window.device_label.text() in ("Compute: CPU",) or "GPU" in window.device_label.text()
    threshold = window.session.threshold
    with Project.open(demo_project) as project:
        stored = project.detection_counts(summary.run_id, threshold)[mid]
        expected_boxes = len(project.detections(summary.run_id, mid, threshold))
    assert sum(stored.values()) == expected_boxes > 30   # a demo micrograph holds ~90 virions
    assert len(window.viewer.view.overlay.visible_predicted()) == expected_boxes
    names = window.session.project.class_names
    assert [row_text(window, mid, col) for col in range(1, 5)] == \
        [str(stored[n]) for n in names] + [str(expected_boxes)]
    assert window.counts_label.text().startswith(f"{window.session.current().name}: "
                                                 f"{expected_boxes} virions")


def test_cancel_midway_keeps_finished_micrographs(window, qtbot, demo_project):
    ids = ids_of(window, 1)
    stored = []

    def cancel_after_first(micrograph_ids):
        stored.extend(micrograph_ids)
        window.actions["cancel"].trigger()

    window.session.detectionsStored.connect(cancel_after_first)
    run_job(qtbot, window.detection_runner, lambda: window.detection.detect(ids, "test"))
    summary = window.detection.last_summary
    assert summary.status == "cancelled"
    assert 1 <= len(summary.processed) < len(ids) and stored[0] == ids[0]
    with Project.open(demo_project) as project:
        run = project.run(summary.run_id)
        assert run.status == "cancelled"
        assert project.detected_micrograph_ids(run.id) == set(summary.processed)
    assert window.session.index.detected(ids[0]) and not window.session.index.detected(ids[-1])
    assert row_text(window, ids[-1], 1) == "–"


def test_closing_the_window_during_a_run_cancels_and_waits(window, qtbot, demo_project,
                                                           monkeypatch):
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kw: asked.append(args[2]) or
                        QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.detection_runner.started, timeout=10_000):
        window.actions["detect_project"].trigger()
    qtbot.waitUntil(lambda: window.progress_bar.isVisible(), timeout=5000)
    # close once the model is loaded and the run is recorded (a cancel during the model
    # load stops before any run exists)
    qtbot.waitUntil(lambda: bool(window.session.project.runs()), timeout=120_000)
    assert window.cancel_button.isVisible()
    window.close()
    assert asked and "running" in asked[0]
    assert not window.detection_runner.running and not window.isVisible()
    assert not window.session.is_open
    with Project.open(demo_project) as project:
        statuses = [r.status for r in project.runs()]
    assert statuses == ["cancelled"]


def test_refusing_to_close_keeps_the_run_going(window, qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kw: QMessageBox.StandardButton.No)
    run_ids = ids_of(window)[:1]
    with qtbot.waitSignal(window.detection_runner.stopped, timeout=180_000):
        window.detection.detect(run_ids, "test")
        window.close()
        assert window.isVisible() and window.detection_runner.running
    assert window.detection.last_summary.status == "complete"


@pytest.mark.parametrize("confirmed", [False])
def test_first_run_shows_the_model_card_before_running(make_window, demo_project, qtbot,
                                                       monkeypatch, confirmed):
    from temnet_app.gui.dialogs.model_dialog import ModelDialog

    seen = []

    def fake_exec(dialog):
        seen.append(dialog.card.toPlainText())
        return ModelDialog.DialogCode.Rejected

    monkeypatch.setattr(ModelDialog, "exec", fake_exec)
    window = make_window(demo_project, model_confirmed=confirmed)
    assert not window.detection.detect(ids_of(window)[:1], "test")   # the user said Cancel
    assert not window.detection_runner.running
    assert "temnet-gn-pellet" in seen[0] and "mAP@0.5" in seen[0]
    assert "SIMULATED" in seen[0]


def test_the_copied_detect_command_gives_the_same_detections(window, qtbot, demo_project):
    import os
    import shlex
    import subprocess
    import sys

    mid = ids_of(window, 1)[1]
    run_job(qtbot, window.detection_runner, lambda: window.detection.detect([mid], "test"))
    window.actions["copy_command"].trigger()
    command = QApplication.clipboard().text()
    assert command == window.annotation.last_command
    args = shlex.split(command)
    assert args[:3] == ["temnet", "detect", str(demo_project.resolve())]
    assert args[3:] == ["--micrograph", f"PR D25A/{window.session.by_id[mid].name}"]
    result = subprocess.run([sys.executable, "-m", "temnet_app", *args[1:]],
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 0, result.stderr[-2000:]
    with Project.open(demo_project) as project:
        first, second = project.runs()
        assert first.model_id == second.model_id
        assert project.detections(first.id, mid) == project.detections(second.id, mid)
        assert len(project.detections(first.id, mid)) > 30


def test_a_micrograph_filed_at_the_wrong_magnification_gets_a_scale_notice(make_window, qtbot,
                                                                           demo_project):
    """The demo micrographs are 30,000x; one filed as 120,000x (virions 4x smaller than the
    detector expects) is detected, then a non-modal notice names it and the scale that fits."""
    with Project.open(demo_project) as project:
        mid = project.micrographs()[0].id
        project.set_magnification_override(mid, 120000.0)
    window = make_window(demo_project)
    click_micrograph(qtbot, window, mid)
    with qtbot.waitSignal(window.detection_runner.stopped, timeout=180_000):
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.detection.last_summary.status == "complete"
    notice = window.detection.last_scale_notice
    assert notice is not None and notice.isVisible() and not notice.isModal()
    assert notice.windowTitle() == "Check the scale"
    text = notice.list.toPlainText()
    assert "the scale looks wrong. At the stated 120,000x" in text
    assert "most confident at about 30,000x (0.561 nm/px" in text


def test_averaging_over_mirrored_copies_is_chosen_in_the_run_menu(window, qtbot, demo_project):
    from PySide6.QtWidgets import QMenu

    action = window.actions["flips"]
    assert action.isChecked() is window.detection.model_flips()   # the card decides at first
    card_setting = action.isChecked()
    run_menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Run")
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(run_menu.isVisible, timeout=5000)
    qtbot.mouseClick(run_menu, Qt.MouseButton.LeftButton,
                     pos=run_menu.actionGeometry(action).center())
    assert action.isChecked() is (not card_setting) and not run_menu.isVisible()
    assert window.detection.uses_flips() is (not card_setting)
    said = "one pass" if card_setting else "three mirrored copies"
    assert said in window.statusBar().currentMessage()

    mid = ids_of(window, 1)[0]
    click_micrograph(qtbot, window, mid)
    with qtbot.waitSignal(window.detection_runner.stopped, timeout=180_000):
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    summary = window.detection.last_summary
    assert summary.status == "complete"
    window.actions["copy_command"].trigger()
    expected_flag = "--no-flips" if card_setting else "--flips"
    assert QApplication.clipboard().text().split()[3] == expected_flag
    with Project.open(demo_project) as project:
        settings = project.run(summary.run_id).settings
    assert settings["config"]["flip_average"] is (not card_setting)
