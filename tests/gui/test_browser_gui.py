"""The project browser: drops of folders and files (real QDropEvents), skipped files, a
corrupt micrograph, renaming, magnification, import and export from the window."""

import warnings

import numpy as np
import tifffile
from gui_helpers import click_micrograph, ids_of, micrograph_index
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from temnet_app.core.project import Project


def drop(widget, paths, pos):
    """Drag local ``paths`` onto ``widget`` and drop them at ``pos``, as the desktop does:
    drag-enter, drag-move, drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    for event_type in (QDragEnterEvent, QDragMoveEvent):
        with warnings.catch_warnings():   # PySide6 flags these QPoint constructors
            warnings.simplefilter("ignore", DeprecationWarning)
            event = event_type(pos, *args)
        QApplication.sendEvent(widget, event)
        assert event.isAccepted()
    event = QDropEvent(QPointF(pos), *args)
    QApplication.sendEvent(widget, event)
    return event


def make_folder(tmp_path, name, n, junk=True):
    folder = tmp_path / name
    folder.mkdir()
    rng = np.random.default_rng(len(name))
    for i in range(n):
        tifffile.imwrite(folder / f"img_{i}.tif", rng.integers(40, 200, (300, 400), np.uint8))
    if junk:
        (folder / "notes.txt").write_text("not an image")
    return folder


def visible_dialogs(kind):
    return [w for w in QApplication.topLevelWidgets() if w.isVisible() and
            w.objectName() == kind]


def test_dropping_a_folder_adds_an_experiment_named_after_it(window, qtbot, tmp_path):
    folder = make_folder(tmp_path, "IN D116N 2024-05", 4)
    tree = window.browser.tree
    before = len(window.session.experiments)
    with qtbot.waitSignal(window.task_runner.stopped, timeout=60_000):
        event = drop(tree.viewport(), [folder], tree.viewport().rect().bottomLeft())
    assert event.isAccepted()
    qtbot.waitUntil(lambda: len(window.session.experiments) == before + 1, timeout=5000)
    new = window.session.experiments[-1]
    assert new.name == "IN D116N 2024-05"
    names = [m.name for m in window.session.micrographs[new.id]]
    assert names == [f"img_{i}.tif" for i in range(4)]
    notice = window.projects.last_notice
    assert notice is not None and notice.isVisible() and not notice.isModal()
    assert "notes.txt: not a micrograph image file" in notice.list.toPlainText()
    top = window.browser.model.index(len(window.session.experiments) - 1, 0)
    assert top.data() == "IN D116N 2024-05  (4)"


def test_dropping_files_on_an_experiment_adds_them_there(window, qtbot, tmp_path):
    folder = make_folder(tmp_path, "loose", 2, junk=False)
    tree = window.browser.tree
    target = window.browser.model.index(1, 0)                     # the second experiment
    experiment_id = window.session.experiments[1].id
    pos = tree.visualRect(target).center()
    with qtbot.waitSignal(window.task_runner.stopped, timeout=60_000):
        drop(tree.viewport(), sorted(folder.iterdir()), pos)
    qtbot.waitUntil(lambda: len(window.session.micrographs[experiment_id]) == 5, timeout=5000)
    assert [m.name for m in window.session.micrographs[experiment_id]][-2:] == \
        ["img_0.tif", "img_1.tif"]


def test_corrupt_micrograph_gives_a_dialog_and_a_mark(window, qtbot, demo_project):
    mid = ids_of(window)[1]
    with Project.open(demo_project) as project:
        path = project.image_path(mid)
    size = path.stat().st_size
    path.write_bytes(b"II*\x00" + b"\x00" * (size - 4))          # same size, broken content
    click_micrograph(qtbot, window, mid)
    qtbot.waitUntil(lambda: bool(visible_dialogs("errorDialog")), timeout=5000)
    box = visible_dialogs("errorDialog")[0]
    assert path.name in box.text() and box.detailedText()
    box.close()
    assert mid in window.session.problems and not window.viewer.view.has_image
    assert "cannot be shown" in window.viewer.view.message
    assert window.viewer.title.text() == f"<b>{path.name}</b> — cannot be shown"
    index = micrograph_index(window, mid)
    assert "cannot be read" in index.data(Qt.ItemDataRole.ToolTipRole)
    # a missing file is marked the same way, and the window goes on working
    other = ids_of(window)[2]
    with Project.open(demo_project) as project:
        project.image_path(other).unlink()
    click_micrograph(qtbot, window, other)
    qtbot.waitUntil(lambda: other in window.session.problems, timeout=5000)
    assert "not found" in window.session.problems[other]
    click_micrograph(qtbot, window, ids_of(window)[0])
    assert window.viewer.view.has_image


def test_rename_experiment_in_place(window, qtbot):
    tree = window.browser.tree
    index = window.browser.model.index(0, 0)
    tree.setCurrentIndex(index)
    qtbot.keyClick(window, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    editor.selectAll()
    qtbot.keyClicks(editor, "Wild type")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.experiments[0].name == "Wild type", timeout=5000)
    assert window.browser.model.index(0, 0).data().startswith("Wild type")


def test_remove_experiment_after_confirmation(window, qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.browser.tree.setCurrentIndex(window.browser.model.index(2, 0))
    gone = window.session.experiments[2].id
    window.actions["remove"].trigger()
    qtbot.waitUntil(lambda: len(window.session.experiments) == 2, timeout=5000)
    assert gone not in window.session.micrographs


def test_import_counts_and_export_report(window, qtbot, tmp_path):
    names = [m.name for m in window.session.micrographs[window.session.experiments[0].id]]
    counts = tmp_path / "counts.csv"
    counts.write_text("filename,eccentric,mature,immature\n"
                      f"{names[0]},1,2,3\nunknown.tif,0,0,0\n")
    summary = window.projects.import_file(counts)
    assert summary.kind == "counts" and len(summary.matched) == 1
    assert summary.unmatched == ["unknown.tif"]
    assert "unknown.tif: matches no micrograph" in window.projects.last_notice.list.toPlainText()
    assert window.session.project.manual_counts(summary.matched[0]) == \
        {"eccentric": 1, "mature": 2, "immature": 3}
    out = tmp_path / "report"
    with qtbot.waitSignal(window.task_runner.stopped, timeout=120_000):
        window.projects.export_to(out)
    written = sorted(p.name for p in out.iterdir())
    assert any(n.endswith("_report.pdf") for n in written) and len(written) == 4


def test_save_a_copy(window, tmp_path):
    copy = window.projects.save_copy_to(tmp_path / "backup")
    assert copy == tmp_path / "backup.temnet"
    with Project.open(copy) as project:
        assert len(project.micrographs()) == 9
    assert window.session.project.path != copy
