"""Regenerate the README's screenshots of the window (offscreen, real widgets, real detection).

Builds the demo project in a temporary folder, runs the shipped model on its first experiment
through the window's own worker, and saves:
docs/window_overview.png (browser, viewer with overlays, counts, statistics),
docs/window_zoom.png (1:1 with confidence labels), docs/window_annotate.png (annotation mode
mid-edit: detections accepted as manual boxes, one box selected with its handles),
docs/window_scale.png (the scale dialog of a micrograph over the window),
docs/window_classes.png (a fourth class, "budding", added to the demo's three: its count
column, row, button and boxes, with Project > Classes… open) and docs/window_start.png (the
start page).

With ``--training`` it also fine-tunes a small model from the training dialog (a few
minutes) and saves docs/window_training.png (the dialog with its curves) and
docs/window_models.png (the models of the project compared on reviewed micrographs).

Run: ``QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py [--training]``
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["TEMNET_DATA_DIR"] = str(work / "appdata")
        from PySide6.QtCore import QEventLoop, QSettings

        from temnet_app.gui.app import create_application
        from temnet_app.gui.main_window import MainWindow
        from temnet_app.gui.settings import AppSettings
        from temnet_app.jobs import build_demo_project

        demo = build_demo_project(work / "demo" / "demo.temnet")
        app = create_application()
        settings = AppSettings(QSettings(str(work / "s.ini"), QSettings.Format.IniFormat))
        settings.set_model_dir(None)
        settings.add_recent(demo)
        window = MainWindow(settings)
        window.resize(1600, 980)
        window.show()
        app.processEvents()
        window.grab().save(str(DOCS / "window_start.png"))
        window.open_initial(demo)
        first = window.session.experiments[0]
        ids = [m.id for m in window.session.micrographs[first.id]]
        window.browser.select_micrograph(ids[0])
        loop = QEventLoop()
        window.detection_runner.stopped.connect(loop.quit)
        window.detection.detect(ids, f"experiment {first.name}")
        loop.exec()
        app.processEvents()
        window.grab().save(str(DOCS / "window_overview.png"))
        window.actions["show_labels"].setChecked(True)
        window.viewer.view.actual_size()
        window.viewer.view.centerOn(2000, 1200)
        app.processEvents()
        window.grab().save(str(DOCS / "window_zoom.png"))
        window.actions["show_labels"].setChecked(False)
        window.session.set_current(ids[1])
        app.processEvents()
        window.session.project.clear_manual_boxes(ids[1])
        app.processEvents()                 # the window hears of it before accepting
        window.annotation.accept_detections([ids[1]])
        app.processEvents()
        window.actions["annotate"].setChecked(True)
        view = window.viewer.view
        view.set_zoom(0.6)
        box = max(view.overlay.manual, key=lambda item: item.rect().width())
        view.centerOn(box)
        window.viewer.editor.select([view.overlay.manual.index(box)])
        app.processEvents()
        window.grab().save(str(DOCS / "window_annotate.png"))
        window.actions["annotate"].setChecked(False)
        scale_shot(app, window, ids[0])
        if "--training" in sys.argv:
            training_shots(app, window, ids)
        classes_shot(app, window, ids[1])         # last: the project then has four classes
        window.close()
    print("wrote", ", ".join(p.name for p in sorted(DOCS.glob("window_*.png"))))


def scale_shot(app, window, micrograph_id: int) -> None:
    """The window with a micrograph's scale dialog open (shown, not exec'd, to grab it)."""
    from PySide6.QtGui import QPainter

    from temnet_app.gui.dialogs.scale_dialog import ScaleDialog

    project = window.session.project
    window.session.set_current(micrograph_id)
    micrograph = project.micrograph(micrograph_id)
    dialog = ScaleDialog("Micrograph scale",
                         f"Scale of {micrograph.name}. The pixel size decides; a magnification "
                         f"is converted with the camera calibration. Leave both unset to use "
                         f"the file's calibration, then its magnification, then the "
                         f"experiment's.", None, None, project.scale(micrograph).describe(),
                         parent=window)
    dialog.show()
    app.processEvents()
    shot = window.grab()
    painter = QPainter(shot)
    where = window.rect().center() - dialog.rect().center()
    painter.drawPixmap(where, dialog.grab())
    painter.end()
    shot.save(str(DOCS / "window_scale.png"))
    dialog.close()


def classes_shot(app, window, micrograph_id: int) -> None:
    """The demo's classes plus "budding" (a lab's fourth class): two manual boxes relabelled
    budding in annotation mode, and the Classes dialog (shown, not exec'd) beside them."""
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QPainter

    from temnet_app.core.classes import ClassScheme
    from temnet_app.gui.dialogs.classes_dialog import ClassesDialog

    project = window.session.project
    project.set_classes(ClassScheme(project.class_names + ("budding",), project.scheme.colours))
    window.session.set_current(micrograph_id)
    app.processEvents()                       # the window hears of the new class
    window.actions["annotate"].setChecked(True)
    view, editor = window.viewer.view, window.viewer.editor
    view.set_zoom(0.6)
    items = view.overlay.manual
    anchor = max(items, key=lambda item: item.rect().width()).rect().center()
    near = sorted(range(len(items)), key=lambda i: (items[i].rect().center() - anchor)
                  .manhattanLength())[:2]
    editor.select(near)
    editor.set_class(4)                       # relabels the selection; new boxes are budding
    app.processEvents()
    items = view.overlay.manual               # rebuilt, in the same order
    # the two boxes left of the viewer's centre, the dialog on its right half
    both = items[near[0]].rect().united(items[near[1]].rect()) if len(near) == 2 else \
        items[near[0]].rect()
    view.set_zoom(min(0.6, view.viewport().width() * 0.5 / (both.width() + 200)))
    view.centerOn(both.center() + QPointF(view.viewport().width() * 0.2 / view.zoom(), 0))
    dialog = ClassesDialog(project, window)
    dialog.show()
    app.processEvents()
    shot = window.grab()
    painter = QPainter(shot)
    viewer = window.viewer.mapTo(window, QPoint(0, 0))
    where = QPoint(viewer.x() + window.viewer.width() - dialog.width() - 40, viewer.y() + 90)
    painter.drawPixmap(where, dialog.grab())
    painter.end()
    shot.save(str(DOCS / "window_classes.png"))
    dialog.close()
    window.actions["annotate"].setChecked(False)


def training_shots(app, window, wt_ids) -> None:
    """Correct 6 micrographs (the demo's exact labels), fine-tune 4 short epochs from the
    dialog, and compare the two models on the 3 reviewed micrographs left out."""
    from PySide6.QtCore import QEventLoop, Qt

    from temnet_app.jobs import read_training_state

    session = window.session
    project = session.project
    experiments = [session.micrographs[e.id] for e in session.experiments]
    for ms in experiments:
        for m in ms:
            project.set_reviewed(m.id)
    app.processEvents()
    dialog = window.model_control.show_training()
    dialog.reviewed_only.setChecked(True)
    for i in range(dialog.experiments.count()):
        dialog.experiments.item(i).setCheckState(Qt.CheckState.Checked)
    dialog.epochs.setValue(4)
    dialog.steps.setValue(6)
    dialog.name.setText("demo-lab-1")
    dialog.resize(1180, 560)
    # the third micrograph of each experiment stays out of training: not reviewed until later
    for ms in experiments:
        project.set_reviewed(ms[2].id, False)
    app.processEvents()
    dialog._update_plan()
    loop = QEventLoop()
    dialog.process.finished.connect(lambda ok, message: loop.quit())
    dialog.start()
    shot = {"done": False}

    def halfway(state):
        if state.epoch >= 3 and not shot["done"]:
            shot["done"] = True
            dialog.grab().save(str(DOCS / "window_training.png"))

    dialog.process.stateChanged.connect(halfway)
    loop.exec()
    dialog._curves(read_training_state(dialog.process.plan.out))
    app.processEvents()
    dialog.grab().save(str(DOCS / "window_training.png"))
    dialog.close()
    for ms in experiments:
        project.set_reviewed(ms[2].id, True)
    app.processEvents()
    models = window.model_control.show_models()
    models.resize(980, 560)
    stopped = QEventLoop()
    window.task_runner.stopped.connect(lambda name: stopped.quit())
    models.compare()
    stopped.exec()
    app.processEvents()
    models.grab().save(str(DOCS / "window_models.png"))
    models.close()


if __name__ == "__main__":
    main()
