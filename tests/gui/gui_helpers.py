"""Helpers for driving the real window: clicks on tree rows, waiting for jobs."""

from PySide6.QtCore import Qt

from temnet_app.gui.browser.tree_model import MICROGRAPH_ROLE


def micrograph_index(window, micrograph_id):
    index = window.browser._find(micrograph_id)
    assert index.isValid(), f"micrograph {micrograph_id} not in the browser"
    return index


def click_row(qtbot, window, index, modifier=Qt.KeyboardModifier.NoModifier):
    """A real left click on a tree row (its parent is expanded first)."""
    tree = window.browser.tree
    tree.expand(index.parent())
    tree.scrollTo(index)
    rect = tree.visualRect(index)
    assert rect.isValid()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def click_micrograph(qtbot, window, micrograph_id):
    click_row(qtbot, window, micrograph_index(window, micrograph_id))
    qtbot.waitUntil(lambda: window.session.current_id == micrograph_id, timeout=5000)


def row_text(window, micrograph_id, column):
    index = micrograph_index(window, micrograph_id)
    return index.sibling(index.row(), column).data()


def run_job(qtbot, runner, start, timeout=180_000):
    """Call ``start()`` (which starts a job on ``runner``) and wait until its thread ended."""
    with qtbot.waitSignal(runner.stopped, timeout=timeout):
        assert start()
    assert not runner.running


def ids_of(window, experiment_index=0):
    experiment = window.session.experiments[experiment_index]
    return [m.id for m in window.session.micrographs[experiment.id]]


def first_micrograph(window):
    return ids_of(window)[0]


__all__ = ["MICROGRAPH_ROLE", "click_micrograph", "click_row", "first_micrograph", "ids_of",
           "micrograph_index", "row_text", "run_job"]
