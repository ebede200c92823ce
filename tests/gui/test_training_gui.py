"""Training from the window (a real ``temnet train`` child process, tiny runs) and the models
of the project: a fine-tune finishes, registers its model and detection runs with it; a
cancelled run leaves no process and an intact project, and resumes; the comparison table's
numbers equal ``temnet evaluate`` on the same micrographs."""

import os
import re
import subprocess
import sys

import pytest
from gui_helpers import ids_of, run_job
from PySide6.QtCore import QProcess, Qt

from temnet_app.core.annotations import write_via_csv
from temnet_app.core.locations import model_folder
from temnet_app.core.project import Project
from temnet_app.jobs import describe_model, read_training_state

pytestmark = pytest.mark.slow


def tiny(dialog, epochs=1, steps=2, name="tiny"):
    """Set the dialog up for a run of a few steps on the WT experiment."""
    for i in range(dialog.experiments.count()):
        item = dialog.experiments.item(i)
        item.setCheckState(Qt.CheckState.Checked if i == 0 else Qt.CheckState.Unchecked)
    dialog.epochs.setValue(epochs)
    dialog.steps.setValue(steps)
    dialog.validation.setValue(0.34)
    dialog.name.setText(name)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def test_fine_tune_registers_a_model_that_detects(window, qtbot, demo_project):
    dialog = window.model_control.show_training()
    tiny(dialog)
    assert "--experiment 'WT NL4-3'" in dialog.command.text()
    assert "--init" in dialog.command.text() and "about" in dialog.summary.text()
    with qtbot.waitSignal(dialog.process.finished, timeout=600_000) as finished:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert finished.args[0] is True, finished.args[1]
    out = demo_project.parent / "models" / "tiny"
    state = read_training_state(out)
    assert state.finished and state.epoch == 1 and state.val_map    # the curve has a point
    map_ax = dialog.figure.axes[1]
    (curve,) = map_ax.lines
    assert curve.get_ydata()[0] == pytest.approx(state.val_map[0][1] * 100)
    assert map_ax.get_ylim()[1] > 100 >= max(map_ax.get_yticks())   # 100% is not cut off
    assert dialog.use_button.isEnabled()
    with Project.open(demo_project) as project:
        assert project.setting("models") == [str(out.resolve())]
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert window.settings.model_dir() == out
    model_id = describe_model(out).model_id
    assert window.status.model_button.text() == f"Model: {model_id}"
    mid = ids_of(window, 2)[0]
    run_job(qtbot, window.detection_runner, lambda: window.detection.detect([mid], "test"))
    with Project.open(demo_project) as project:
        assert project.latest_run().model_id == model_id
    assert window.session.model_of(mid) == model_id
    assert f"detected by {model_id}" in window.browser._find(mid).data(
        Qt.ItemDataRole.ToolTipRole)
    assert window.annotation.last_command.startswith("temnet detect")
    dialog.close()


def test_cancel_leaves_no_process_and_resume_finishes(window, qtbot, demo_project):
    dialog = window.model_control.show_training()
    tiny(dialog, epochs=2, steps=2, name="resumable")
    out = demo_project.parent / "models" / "resumable"
    assert dialog.start()
    pid = dialog.process.process.processId()
    qtbot.waitUntil(lambda: (read_training_state(out) or None) is not None
                    and read_training_state(out).epoch >= 1, timeout=600_000)
    dialog.cancel()
    assert not dialog.process.running and not pid_alive(pid)
    assert dialog.process.process.state() == QProcess.ProcessState.NotRunning
    assert "cancelled" in dialog.status.text()
    with Project.open(demo_project) as project:                  # the project is intact
        assert len(project.micrographs()) == 9 and project.setting("models") is None
    assert dialog.resume_button.isEnabled()
    with qtbot.waitSignal(dialog.process.finished, timeout=600_000) as finished:
        qtbot.mouseClick(dialog.resume_button, Qt.MouseButton.LeftButton)
    assert finished.args[0] is True, finished.args[1]
    state = read_training_state(out)
    assert state.finished and state.epoch == 2
    assert window.annotation.last_command.endswith("--resume")
    dialog.close()


def test_comparison_numbers_equal_temnet_evaluate(window, qtbot, demo_project, tmp_path):
    experiment = window.session.experiments[2]
    micrographs = window.session.micrographs[experiment.id][:2]
    for m in micrographs:
        window.session.project.set_reviewed(m.id)
    qtbot.waitUntil(lambda: len(window.session.reviewed) == 2, timeout=5000)
    dialog = window.model_control.show_models()
    listed = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    # the three shipped models, the default first and in use
    assert [t.split()[0] for t in listed] == ["temnet-gn-pellet@5", "temnet-gn-synthetic@1",
                                              "temnet-gn-fast@1"]
    assert "used for detection" in listed[0] and "used for detection" not in listed[2]
    assert dialog.comparison_micrographs() == [m.id for m in micrographs]
    with qtbot.waitSignal(window.task_runner.stopped, timeout=300_000):
        assert dialog.compare()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=5000)
    rows = {dialog.table.item(r, 0).text(): r for r in range(3)}
    shown = [dialog.table.item(rows["temnet-gn-pellet@5"], c).text() for c in range(1, 5)]
    labels = tmp_path / "labels.csv"
    with Project.open(demo_project) as project:
        write_via_csv(labels, {m.name: project.manual_boxes(m.id) for m in micrographs})
        folder = project.image_path(micrographs[0]).parent
    result = subprocess.run([sys.executable, "-m", "temnet_app", "evaluate", "--images",
                             str(folder), "--labels", str(labels)],
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 0, result.stderr[-2000:]
    overall = next(line for line in result.stdout.splitlines() if line.startswith("overall"))
    assert re.split(r"\s+", overall)[1:5] == shown
    # double-clicking the fast model's row makes it the one detection uses
    row = rows["temnet-gn-fast@1"]
    cell = dialog.table.visualItemRect(dialog.table.item(row, 0)).center()
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.mouseDClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    assert window.settings.model_dir() == model_folder("temnet-gn-fast")
    assert window.status.model_button.text() == "Model: temnet-gn-fast@1"
    assert "used for detection" in dialog.list.item(2).text()
    dialog.close()
