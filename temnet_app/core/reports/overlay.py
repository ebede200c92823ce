"""PNG overlays: a micrograph with its boxes drawn in the class colours (detections solid,
manual boxes dashed) and a caption naming the file, the model, the threshold and the
magnification, written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from temnet_app.core.atomic import atomic_path
from temnet_app.core.boxes import Box, ClassScheme, Detection

CAPTION_PX = 44
DASH_PX = 14


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size default font
        return ImageFont.load_default()


def _dashed_rectangle(draw: ImageDraw.ImageDraw, xyxy, colour: str, width: int) -> None:
    x1, y1, x2, y2 = xyxy
    for a, b, horizontal, fixed in ((x1, x2, True, y1), (x1, x2, True, y2),
                                   (y1, y2, False, x1), (y1, y2, False, x2)):
        start = a
        while start < b:
            stop = min(b, start + DASH_PX)
            line = ((start, fixed), (stop, fixed)) if horizontal else \
                ((fixed, start), (fixed, stop))
            draw.line(line, fill=colour, width=width)
            start += 2 * DASH_PX


def render_overlay(pixels: np.ndarray, scheme: ClassScheme,
                   detections: Sequence[Detection] = (), manual: Sequence[Box] = (),
                   caption: str = "", labels: bool = True) -> Image.Image:
    """An RGB image of the 8-bit micrograph ``pixels`` with the boxes and a caption strip."""
    grey = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = grey.shape
    canvas = Image.new("RGB", (width, height + (CAPTION_PX if caption else 0)), "white")
    canvas.paste(Image.fromarray(grey, mode="L").convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(canvas)
    line = max(2, round(max(width, height) / 1000))
    font = _font(max(14, round(max(width, height) / 110)))
    for box in manual:
        _dashed_rectangle(draw, (box.x1, box.y1, box.x2, box.y2), scheme.colour(box.class_id),
                          max(1, line - 1))
    for d in detections:
        colour = scheme.colour(d.class_id)
        draw.rectangle((d.x1, d.y1, d.x2, d.y2), outline=colour, width=line)
        if labels:
            text = f"{d.score:.2f}"
            left, top, right, bottom = draw.textbbox((d.x1, d.y1), text, font=font)
            draw.rectangle((left, top - (bottom - top) - 4, right + 6, top), fill="black")
            draw.text((d.x1 + 3, top - (bottom - top) - 3), text, fill=colour, font=font)
    if caption:
        draw.text((10, height + 8), caption, fill="black", font=_font(22))
    return canvas


def write_overlay(path, pixels: np.ndarray, scheme: ClassScheme,
                  detections: Sequence[Detection] = (), manual: Sequence[Box] = (),
                  caption: str = "", max_side: Optional[int] = None) -> Path:
    """Render and save a PNG (scaled down to ``max_side`` pixels when given), atomically."""
    image = render_overlay(pixels, scheme, detections, manual, caption)
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    path = Path(path)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", optimize=False)
    return path
