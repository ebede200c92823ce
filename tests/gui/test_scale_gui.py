"""The scale in the window: each micrograph's nm/px and its source in the browser and the
viewer's title, the scale dialog driven by keys (micrograph override, experiment setting,
camera calibration), and the scale bar following the pixel size."""

import pytest
from gui_helpers import click_micrograph, ids_of, row_text
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from temnet_app.gui.dialogs.scale_dialog import ScaleDialog

SCALE_COL = 5      # Name, 3 classes, Total, nm/px


def answer_scale_dialog(qtbot, pixel_size: str, magnification: str, seen: list):
    """Once the modal scale dialog is up, type into its two fields and press Enter."""

    def type_in():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ScaleDialog):
            QTimer.singleShot(20, type_in)
            return
        seen.append(dialog.windowTitle())
        for box, text in ((dialog.pixel_size, pixel_size), (dialog.magnification, magnification)):
            box.setFocus()
            box.lineEdit().selectAll()
            qtbot.keyClicks(box.lineEdit(), text)
        qtbot.keyClick(dialog.magnification.lineEdit(), Qt.Key.Key_Return)

    QTimer.singleShot(0, type_in)


def test_each_micrograph_shows_its_pixel_size_and_source(window, qtbot):
    mid = ids_of(window)[0]
    click_micrograph(qtbot, window, mid)
    # the demo's simulated TIFFs state their calibration: 0.561 nm/px from the file
    assert row_text(window, mid, SCALE_COL) == "0.561"
    assert "0.561 nm/px (file)" in window.viewer.title.text()
    assert "pixel size 0.561 nm/px (the file's calibration)" in window.viewer.title.toolTip()
    assert "magnification 30,000x (from the file)" in window.viewer.title.toolTip()
    experiment_row = window.browser.model.index(0, SCALE_COL)
    assert experiment_row.data() == "30kx"           # the demo experiments' setting
    header = window.browser.model.headerData(SCALE_COL, Qt.Orientation.Horizontal)
    assert header == "nm/px"


def test_set_scale_of_a_micrograph_with_the_keyboard(window, qtbot):
    mid = ids_of(window)[0]
    click_micrograph(qtbot, window, mid)
    seen = []
    # a magnification alone: converted at the reference calibration (0.6732 nm/px at 25,000x)
    answer_scale_dialog(qtbot, "0", "25000", seen)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: row_text(window, mid, SCALE_COL) == "0.673 (set)", timeout=5000)
    assert seen == ["Micrograph scale"]
    assert window.session.project.pixel_size(mid) == pytest.approx(0.6732)
    assert "0.673 nm/px (set)" in window.viewer.title.text()
    assert "25,000x (set for this micrograph)" in window.viewer.title.toolTip()
    assert window.viewer.view.pixel_size_nm == pytest.approx(0.6732)   # the scale bar's unit
    # a pixel size decides over the magnification
    answer_scale_dialog(qtbot, "0.28", "25000", seen)
    window.actions["magnification"].trigger()
    qtbot.waitUntil(lambda: row_text(window, mid, SCALE_COL) == "0.280 (set)", timeout=5000)
    assert window.session.project.scale(mid).describe() == \
        "0.280 nm/px (set for this micrograph); 25,000x (set for this micrograph)"
    # both cleared: back to the file's calibration
    answer_scale_dialog(qtbot, "0", "0", seen)
    window.actions["magnification"].trigger()
    qtbot.waitUntil(lambda: row_text(window, mid, SCALE_COL) == "0.561", timeout=5000)


def test_camera_calibration_converts_magnifications(window, qtbot, tmp_path):
    project = window.session.project
    mid = ids_of(window)[0]
    click_micrograph(qtbot, window, mid)
    project.set_magnification_override(mid, 30000)          # a magnification decides now
    seen = []
    answer_scale_dialog(qtbot, "0.28", "30000", seen)
    window.actions["camera"].trigger()
    qtbot.waitUntil(lambda: row_text(window, mid, SCALE_COL) == "0.280 (set)", timeout=5000)
    assert seen == ["Camera calibration"]
    assert project.camera_calibration().describe() == "0.28 nm/px at 30,000x"
    other = ids_of(window)[1]                                # still its file's calibration
    assert row_text(window, other, SCALE_COL) == "0.561"


def test_the_dialog_refuses_out_of_range_and_incomplete_values(qtbot):
    dialog = ScaleDialog("Camera calibration", "intro", None, None, required=True)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.pixel_size.lineEdit().selectAll()
    qtbot.keyClicks(dialog.pixel_size.lineEdit(), "0.28")
    with pytest.raises(ValueError, match="both the pixel size and the magnification"):
        dialog.values()
    qtbot.keyClick(dialog.pixel_size.lineEdit(), Qt.Key.Key_Return)       # accept refused
    qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible()
                                for w in QApplication.topLevelWidgets()), timeout=5000)
    assert dialog.isVisible()
    free = ScaleDialog("Micrograph scale", "intro", None, None)
    qtbot.addWidget(free)
    free.magnification.lineEdit().selectAll()
    qtbot.keyClicks(free.magnification.lineEdit(), "500")          # below 1,000x
    with pytest.raises(ValueError, match="outside"):
        free.values()
    assert ScaleDialog("t", "i", 0.5, 20000).values() == (0.5, 20000.0)
