"""Colours, sizes and small painted icons shared by the window's panels (one place, so the
overlay, the browser, the count table and the plots agree)."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from temnet_app.core.classes import DEFAULT_CLASS_COLOURS, ClassScheme

# The default class colours are for white paper (plots, PDF reports); on grey micrographs the
# window draws lighter versions of them (mature yellow, immature blue, eccentric green;
# DESIGN.md). Any other colour of a scheme is drawn as it is.
OVERLAY_COLOURS = {DEFAULT_CLASS_COLOURS["eccentric"]: "#39d353",
                   DEFAULT_CLASS_COLOURS["mature"]: "#ffd21f",
                   DEFAULT_CLASS_COLOURS["immature"]: "#3b8bff"}
UNKNOWN_CLASS_COLOUR = "#bdbdbd"     # a box whose class id the scheme does not know
MANUAL_STYLE = Qt.PenStyle.DashLine
BOX_PEN_WIDTH = 2.0          # screen pixels, at every zoom
MANUAL_PEN_WIDTH = 1.6


def overlay_hex(colour: str) -> str:
    """The window's version of a scheme colour (``#rrggbb``)."""
    return OVERLAY_COLOURS.get(colour.lower(), colour.lower())


def class_colour(scheme: Optional[ClassScheme], class_id: int) -> QColor:
    """The window colour of class ``class_id`` of ``scheme``: the scheme's colour, the three
    default ones lightened for grey micrographs; grey for an id the scheme does not have (or
    with no scheme)."""
    if scheme is None:
        return QColor(UNKNOWN_CLASS_COLOUR)
    try:
        return QColor(overlay_hex(scheme.colour(class_id)))
    except (ValueError, TypeError):
        return QColor(UNKNOWN_CLASS_COLOUR)


def class_title(name: str) -> str:
    """A class name as a title: the first letter capitalised, the rest as the lab wrote it
    ("mature" -> "Mature", "RiftValley" stays)."""
    return name[:1].upper() + name[1:]


def swatch(colour: QColor, size: int = 12, dashed: bool = False) -> QIcon:
    """A small square icon filled with ``colour`` (outlined and dashed for manual boxes)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if dashed:
        painter.setPen(QPen(colour, 2, Qt.PenStyle.DashLine))
        painter.drawRect(QRectF(1, 1, size - 2, size - 2))
    else:
        painter.setPen(QPen(colour.darker(160), 1))
        painter.setBrush(colour)
        painter.drawRoundedRect(QRectF(0.5, 0.5, size - 1, size - 1), 2, 2)
    painter.end()
    return QIcon(pixmap)


def status_icon(detected: bool, annotated: bool, problem: bool, reviewed: bool = False,
                size: int = 14) -> QIcon:
    """The browser's mark of a micrograph: a filled dot when detected, a dashed square when
    manually annotated (a green square with a tick once reviewed), a red warning triangle when
    its file is missing or unreadable."""
    pixmap = QPixmap(size * 2 + 2, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if problem:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#d93025"))
        path = QPainterPath()
        path.moveTo(QPointF(size / 2, 1))
        path.lineTo(QPointF(size - 1, size - 1))
        path.lineTo(QPointF(1, size - 1))
        path.closeSubpath()
        painter.drawPath(path)
        painter.setPen(QPen(QColor("white"), 2))
        painter.drawLine(QPointF(size / 2, 5), QPointF(size / 2, size - 6))
        painter.drawPoint(QPointF(size / 2, size - 3.5))
    elif detected:
        painter.setPen(QPen(QColor("#0b6e79"), 1))
        painter.setBrush(QColor("#19a7b5"))
        painter.drawEllipse(QRectF(3, 3, size - 6, size - 6))
    else:
        painter.setPen(QPen(QColor("#9aa0a6"), 1.2))
        painter.drawEllipse(QRectF(3.5, 3.5, size - 7, size - 7))
    if reviewed:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#1e8e3e"))
        painter.drawRoundedRect(QRectF(size + 3, 2, size - 4, size - 4), 2, 2)
        painter.setPen(QPen(QColor("white"), 1.8))
        painter.drawPolyline([QPointF(size + 5.5, size / 2), QPointF(size + size / 2, size - 5),
                              QPointF(2 * size - 3.5, 4.5)])
    elif annotated:
        painter.setPen(QPen(QColor("#5f6368"), 1.6, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(size + 4, 3, size - 6, size - 6))
    painter.end()
    return QIcon(pixmap)


def app_icon() -> QIcon:
    """The application icon: ``resources/temnet-studio.svg``; painted the same way when the
    resource (or Qt's SVG support) is missing."""
    from temnet_app.core.locations import resource

    svg = resource("temnet-studio.svg")
    if svg is not None:
        icon = QIcon(str(svg))
        if not icon.pixmap(64, 64).isNull():
            return icon
    return painted_icon()


def painted_icon() -> QIcon:
    """The icon drawn with QPainter (the SVG's shapes)."""
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = size / 64.0
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#123c44"))
        p.drawRoundedRect(QRectF(0, 0, size, size), 12 * s, 12 * s)
        p.setBrush(QColor("#c9d6d3"))
        p.drawEllipse(QRectF(9 * s, 9 * s, 46 * s, 46 * s))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor("#1d2426"), max(1.0, 3.2 * s)))
        p.drawEllipse(QRectF(10.5 * s, 10.5 * s, 43 * s, 43 * s))
        cone = QPainterPath()
        cone.moveTo(QPointF(22 * s, 41 * s))
        cone.lineTo(QPointF(40 * s, 19 * s))
        cone.lineTo(QPointF(46 * s, 27 * s))
        cone.closeSubpath()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#2a2f31"))
        p.drawPath(cone)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor("#ffd21f"), max(1.0, 3.0 * s)))
        p.drawRect(QRectF(5 * s, 5 * s, 54 * s, 54 * s))
        p.end()
        icon.addPixmap(pixmap)
    return icon
