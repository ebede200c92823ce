"""The Qt binding keeps Python's reference counts: PySide6 6.12.0 under Python 3.11 dropped a
reference to None on every call of a void method, which aborted the window (none_dealloc)
after a few thousand box updates. pyproject.toml excludes it; this catches a regression."""

import sys

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene, QLabel


def test_void_calls_keep_the_reference_count_of_none(qapp):
    keep = [None] * 100_000   # noqa: F841 - a margin, so a leaking binding cannot abort here
    scene = QGraphicsScene()
    item = QGraphicsRectItem(QRectF(0, 0, 10, 10))
    scene.addItem(item)
    label = QLabel()
    for call in (lambda: item.setVisible(True), lambda: label.setText("x")):
        before = sys.getrefcount(None)
        for _ in range(2000):
            call()
        assert sys.getrefcount(None) - before > -50
