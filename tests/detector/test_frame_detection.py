"""The detector leaves a uniform frame around the micrograph out: a simulated micrograph with
black lines added at its edges gives the same boxes, shifted by the frame, as without them."""

import logging

import numpy as np
import pytest

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def detector_and_micrograph():
    from temnet_app.core.locations import model_folder
    from temnet_app.detector import Detector
    from temnet_app.simulator import preset_params, simulate

    sim = simulate(preset_params("dataset", width=1400, height=900, seed=515_101))
    return Detector.load(model_folder("temnet-gn-synthetic")), sim.image


def _rows(detections, dx=0.0, dy=0.0):
    return sorted((round(d.x1 - dx, 2), round(d.y1 - dy, 2), round(d.x2 - dx, 2),
                   round(d.y2 - dy, 2), d.class_id, round(d.score, 4)) for d in detections)


@pytest.mark.parametrize("mode", ["whole", "tiled"])
def test_a_black_frame_changes_nothing_but_the_offset(detector_and_micrograph, mode, caplog):
    detector, image = detector_and_micrograph
    framed = np.zeros((image.shape[0] + 4 + 2, image.shape[1] + 3 + 5), np.uint8)
    framed[4:-2, 3:-5] = image
    plain = detector.detect(image, 30000.0, mode=mode)
    with caplog.at_level(logging.INFO, logger="temnet_app.detector.inference"):
        shifted = detector.detect(framed, 30000.0, mode=mode)
    assert "uniform frame of 4 / 2 / 3 / 5 px" in caplog.text
    assert len(plain) >= 5
    assert _rows(shifted, dx=3, dy=4) == _rows(plain)
    assert min(d.x1 for d in shifted) >= 3 and min(d.y1 for d in shifted) >= 4
    assert max(d.x2 for d in shifted) <= 3 + image.shape[1]
