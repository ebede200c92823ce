"""The microscope info band of a simulated micrograph: a white strip at the bottom with black
text (file name, calibration, time, mode; scale bar, high tension, magnification, camera), laid
out like the band of the JEOL 1200EX / AMT camera micrographs of the TEMNet data."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BAND_FRACTION = 0.097  # band height over the whole image height in the reference micrograph


def band_height(height: int, fraction: float = BAND_FRACTION) -> int:
    return max(1, int(round(height * fraction)))


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def draw_info_band(image: np.ndarray, top: int, *, file_name: str, magnification: float,
                   nm_per_px: float, stamp: str = "00:00 01/01/00") -> None:
    """Paint the band over rows ``top:`` of ``image`` (uint8, modified in place)."""
    h, w = image.shape
    band_h = h - top
    if band_h <= 0:
        return
    band = Image.new("L", (w, band_h), 255)
    draw = ImageDraw.Draw(band)
    line_h = max(4, band_h // 5)
    font = _font(max(4, int(line_h * 0.8)))
    margin = max(2, w // 400)
    left = [file_name, f"Cal: {nm_per_px:.3f} nm/pix", stamp, "TEM Mode: Imaging"]
    right = ["", "HV=80.0kV", f"Direct Mag: {magnification:.0f}x", "AMT Camera System"]
    y0 = max(1, band_h // 12)
    for i, text in enumerate(left):
        draw.text((margin, y0 + i * line_h), text, fill=0, font=font)
    x_right = int(w * 0.835)
    for i, text in enumerate(right):
        if text:
            draw.text((x_right, y0 + i * line_h), text, fill=0, font=font)
    bar_nm = _nice_bar(nm_per_px, w)
    bar_px = int(round(bar_nm / nm_per_px))
    bar_y = y0 + line_h // 20
    bar_t = max(1, line_h // 10)
    draw.rectangle([x_right, bar_y, x_right + bar_px, bar_y + bar_t], fill=0)
    draw.text((x_right, bar_y + bar_t + 1), f"{bar_nm:.0f} nm", fill=0,
              font=_font(max(4, int(line_h * 0.55))))
    image[top:, :] = np.asarray(band, dtype=np.uint8)


def _nice_bar(nm_per_px: float, width: int) -> float:
    """A round scale-bar length (nm) about 4% of the image width."""
    target = 0.045 * width * nm_per_px
    for nm in (1000, 500, 200, 100, 50, 20, 10):
        if nm <= target:
            return float(nm)
    return 10.0
