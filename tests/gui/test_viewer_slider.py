"""The viewer and the live confidence slider: pixmap and manual boxes on selection, zoom and
navigation, and counts that follow the slider exactly as the database counts them."""

import numpy as np
import pytest
from gui_helpers import click_micrograph, ids_of, row_text
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from temnet_app.core.boxes import Detection
from temnet_app.core.project import Project


@pytest.fixture
def detected(demo_project):
    """Stored detections with spread-out scores for the first experiment (no TensorFlow)."""
    rng = np.random.default_rng(3)
    with Project.open(demo_project) as project:
        run = project.start_run("fake@1", {}, 0.05)
        for m in project.micrographs(project.experiments()[0].id):
            dets = []
            for i in range(60):
                x, y = rng.uniform(0, 3600), rng.uniform(0, 2000)
                dets.append(Detection(x, y, x + 250, y + 250, int(rng.integers(1, 4)),
                                      float(round(rng.uniform(0.05, 1.0), 3))))
            project.store_detections(run.id, m.id, dets)
        project.finish_run(run.id, "complete")
    return demo_project, run.id


def test_selecting_a_micrograph_shows_its_pixmap_and_manual_boxes(window, qtbot,
                                                                  demo_project):
    mid = ids_of(window)[0]
    click_micrograph(qtbot, window, mid)
    view = window.viewer.view
    with Project.open(demo_project) as project:
        manual = project.manual_boxes(mid)
        micrograph = project.micrograph(mid)
    assert view.has_image and not view.pixmap_item.pixmap().isNull()
    assert (view.pixmap_item.pixmap().width(), view.pixmap_item.pixmap().height()) == \
        (micrograph.width, micrograph.height)
    assert len(view.overlay.visible_manual()) == len(manual) > 50
    first = view.overlay.manual[0]
    assert (first.rect().x(), first.rect().y()) == (manual[0].x1, manual[0].y1)
    assert first.pen().isCosmetic() and first.pen().style() == Qt.PenStyle.DashLine
    assert "0.561 nm/px (file)" in window.viewer.title.text()
    window.actions["show_manual"].trigger()
    assert view.overlay.visible_manual() == []
    window.actions["show_manual"].trigger()
    assert len(view.overlay.visible_manual()) == len(manual)


def test_zoom_fit_and_page_navigation(window, qtbot):
    ids = ids_of(window)
    click_micrograph(qtbot, window, ids[0])
    view = window.viewer.view
    fitted = view.zoom()
    assert 0.05 < fitted < 1 and view.fitted
    centre = view.viewport().rect().center()
    event = QWheelEvent(QPointF(centre), QPointF(view.viewport().mapToGlobal(centre)),
                        QPoint(0, 0), QPoint(0, 240), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom() == pytest.approx(fitted * 1.25 ** 2) and not view.fitted
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(1.0)
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(fitted) and view.fitted
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert window.session.current_id == ids[1]
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    qtbot.keyClick(window, Qt.Key.Key_PageUp)          # stays on the first
    assert window.session.current_id == ids[0]
    assert window.browser.tree.currentIndex().data() == window.session.current().name


def test_levels_change_the_colour_table_only(window, qtbot):
    click_micrograph(qtbot, window, ids_of(window)[0])
    view = window.viewer.view
    before = view._image.colorTable()
    pixels_id = id(view.pixels)
    window.viewer.contrast.setValue(50)
    after = view._image.colorTable()
    assert after != before and id(view.pixels) == pixels_id
    qtbot.mouseClick(window.viewer.auto_button, Qt.MouseButton.LeftButton)
    assert view._image.colorTable() == before and window.viewer.contrast.value() == 0


def _drive_slider_to(qtbot, window, value):
    """Type the value into the slider's number box, as a user would."""
    box = window.threshold.number_box()
    box.selectAll()
    qtbot.keyClicks(box, f"{value:.2f}")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert window.session.threshold == pytest.approx(value)


def test_slider_updates_overlay_browser_and_table_to_the_database_counts(
        make_window, detected, qtbot):
    path, run_id = detected
    window = make_window(path)
    ids = ids_of(window)
    click_micrograph(qtbot, window, ids[0])
    # the title clips a long file name at the panel's edge; its tooltip keeps the model
    assert "model fake@1" in window.viewer.title.text()
    assert window.viewer.title.toolTip().endswith("\ndetections by model fake@1")
    overlay = window.viewer.view.overlay
    names = window.session.project.class_names
    seen_totals = set()
    for value in (0.1, 0.35, 0.5, 0.8, 0.95):
        _drive_slider_to(qtbot, window, value)
        with Project.open(path) as project:
            truth = project.detection_counts(run_id, value)
        assert len(overlay.visible_predicted()) == sum(truth[ids[0]].values())
        for mid in ids:
            assert [row_text(window, mid, c) for c in range(1, 4)] == \
                [str(truth[mid][n]) for n in names]
        table = window.counts.table
        assert table.item(3, 1).text() == str(sum(truth[ids[0]].values()))
        assert table.item(3, 2).text() == str(sum(sum(t.values()) for t in truth.values()))
        seen_totals.add(len(overlay.visible_predicted()))
    assert len(seen_totals) == 5          # every step changed what is shown
    # the keyboard moves the slider in steps of 0.01 (0.1 with Page Up / Down)
    window.threshold.handle().setFocus()
    qtbot.keyClick(window.threshold.handle(), Qt.Key.Key_Left)
    assert window.session.threshold == pytest.approx(0.94)
    qtbot.keyClick(window.threshold.handle(), Qt.Key.Key_PageDown)
    assert window.session.threshold == pytest.approx(0.84)
    assert len(overlay.visible_predicted()) == sum(
        1 for box in overlay.predicted if box.score >= 0.84)


def test_class_toggle_hides_that_class(make_window, detected, qtbot):
    path, _ = detected
    window = make_window(path)
    click_micrograph(qtbot, window, ids_of(window)[0])
    overlay = window.viewer.view.overlay
    before = overlay.visible_predicted()
    item = window.counts.table.item(1, 0)          # mature
    rect = window.counts.table.visualItemRect(item)
    check = QPoint(rect.left() + 10, rect.center().y())
    qtbot.mouseClick(window.counts.table.viewport(), Qt.MouseButton.LeftButton, pos=check)
    assert item.checkState() == Qt.CheckState.Unchecked
    after = overlay.visible_predicted()
    assert after and all(box.class_id != 2 for box in after)
    assert len(after) == sum(1 for box in before if box.class_id != 2)


def test_view_menu_class_switch_follows_the_table_and_back(make_window, detected, qtbot):
    path, _ = detected
    window = make_window(path)
    click_micrograph(qtbot, window, ids_of(window)[0])
    overlay = window.viewer.view.overlay
    action = window.class_toggles.actions[1]                      # eccentric
    action.trigger()
    assert not action.isChecked()
    assert window.counts.table.item(0, 0).checkState() == Qt.CheckState.Unchecked
    assert all(box.class_id != 1 for box in overlay.visible_predicted())
    window.counts.table.item(0, 0).setCheckState(Qt.CheckState.Checked)
    assert action.isChecked() and any(b.class_id == 1 for b in overlay.visible_predicted())


def test_hovering_a_box_names_its_class_and_score(make_window, detected, qtbot):
    path, _ = detected
    window = make_window(path)
    click_micrograph(qtbot, window, ids_of(window)[0])
    view = window.viewer.view
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)   # 1:1
    box = max(view.overlay.visible_predicted(), key=lambda b: b.score)
    window.session.set_threshold(box.score)            # only the best box stays visible
    assert view.overlay.visible_predicted() == [box]
    window.actions["show_manual"].trigger()
    view.centerOn(box)
    edge = view.mapFromScene(box.rect().topLeft()) + QPoint(0, 30)     # on the left edge
    move = QMouseEvent(QEvent.Type.MouseMove, QPointF(edge),
                       QPointF(view.viewport().mapToGlobal(edge)), Qt.MouseButton.NoButton,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(view.boxHovered, timeout=3000) as signal:
        QApplication.sendEvent(view.viewport(), move)     # QTest cannot move the offscreen mouse
    assert signal.args[0].startswith(box.class_name) and f"{box.score:.2f}" in signal.args[0]


def test_title_shortens_a_long_name_in_the_middle_and_keeps_the_details(window, qtbot):
    title = window.viewer.title
    name = "real_micrograph_1797001_preview_of_a_long_export_name.png"
    details = " · WT NL4-3 · 2.678 nm/px (exp.) · model temnet-gn-pellet@5"
    title.set_parts(name, details)
    title.resize(650, title.height())
    shown = title.text()
    assert shown.endswith(details) and "…" in shown
    head, tail = shown.removeprefix("<b>").split("</b>")[0].split("…")
    assert name.startswith(head) and name.endswith(tail) and len(head) > 3 and len(tail) > 3
    title.resize(1400, title.height())
    assert title.text() == f"<b>{name}</b>{details}" and title.full_name() == name
    # in the window: the selected micrograph's name and details, the name whole at this width
    click_micrograph(qtbot, window, ids_of(window)[1])
    assert window.viewer.title.text().startswith(f"<b>{window.session.current().name}</b> · ")
