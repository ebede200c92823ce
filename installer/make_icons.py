"""Render resources/temnet-studio.svg to the PNG sizes of a desktop icon theme and to a Windows
.ico (and keep a 256-px PNG for the bundle), into build/icons/.

Run: ``python installer/make_icons.py [OUT_DIR]`` (Qt's SVG renderer, offscreen; Pillow for
the .ico)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "resources" / "temnet-studio.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"cannot read {SOURCE}", file=sys.stderr)
        return 2
    written = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out / f"temnet-studio-{size}.png"
        image.save(str(path))
        written.append(path)
    largest = Image.open(out / "temnet-studio-256.png")
    largest.save(out / "temnet-studio.png")
    largest.save(out / "temnet-studio.ico", sizes=[(s, s) for s in SIZES])
    del app
    print(f"wrote {len(written) + 2} icon files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
