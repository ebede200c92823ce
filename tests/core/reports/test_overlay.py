"""PNG overlays: boxes in the class colours (detections solid, manual dashed), the caption
strip, scaling, atomic writing."""

import numpy as np
from PIL import Image, ImageColor

from temnet_app.core.boxes import DEFAULT_SCHEME, Box, Detection
from temnet_app.core.reports import render_overlay, write_overlay
from temnet_app.core.reports.overlay import CAPTION_PX, DASH_PX


def test_boxes_are_drawn_in_their_class_colours():
    pixels = np.full((300, 400), 128, np.uint8)
    image = render_overlay(pixels, DEFAULT_SCHEME,
                           detections=[Detection(50, 60, 150, 160, 2, 0.9)],
                           manual=[Box(200, 60, 300, 160, 3)], caption="x", labels=False)
    assert image.size == (400, 300 + CAPTION_PX)
    rgb = np.asarray(image)
    mature = ImageColor.getrgb(DEFAULT_SCHEME.colour(2))
    immature = ImageColor.getrgb(DEFAULT_SCHEME.colour(3))
    assert tuple(rgb[110, 50]) == mature and tuple(rgb[60, 100]) == mature   # solid edges
    assert tuple(rgb[110, 100]) == (128, 128, 128)                          # inside untouched
    top_edge = [tuple(rgb[60, x]) for x in range(200, 300)]
    on = [c == immature for c in top_edge]
    assert any(on) and not all(on)                                          # dashed
    assert on[:DASH_PX] == [True] * DASH_PX and not any(on[DASH_PX + 1:2 * DASH_PX])
    assert (rgb[300:, :, :] >= 0).all() and tuple(rgb[-1, -1]) == (255, 255, 255)


def test_write_overlay_scales_down_and_replaces_atomically(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 255, (1000, 3000), dtype=np.uint8)
    target = tmp_path / "o.png"
    target.write_bytes(b"old")
    path = write_overlay(target, pixels, DEFAULT_SCHEME, [Detection(10, 10, 300, 300, 1, 0.5)],
                         caption="WT / a.tif", max_side=1200)
    with Image.open(path) as image:
        assert image.format == "PNG" and max(image.size) == 1200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.png"]
