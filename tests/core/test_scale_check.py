"""The scale check's decisions, on trial figures measured with the shipped model (see the
module docstring of temnet_app.core.scale_check)."""

import pytest

from temnet_app.core.boxes import Detection
from temnet_app.core.scale_check import (ScaleTrial, judge_scale, median_side, needs_probe,
                                         size_off, trial)

# (factor, confident detections, mean confident score), measured
REFERENCE_READ_AS_30000 = [(4.0, 1, 0.996), (2.0, 5, 0.744), (1.41, 4, 0.886), (1.0, 5, 0.743),
                           (0.71, 2, 0.513), (0.5, 6, 0.775), (0.35, 15, 0.735),
                           (0.25, 52, 0.786), (0.18, 57, 0.889), (0.125, 38, 0.751)]
REFERENCE_AT_6285 = [(4.0, 2, 0.597), (2.0, 8, 0.743), (1.41, 32, 0.772), (1.0, 60, 0.857),
                     (0.71, 52, 0.835), (0.5, 29, 0.76), (0.35, 27, 0.765), (0.25, 27, 0.722)]
SIMULATED_READ_AS_120000 = [(2.0, 7, 0.791), (1.41, 7, 0.856), (1.0, 4, 0.628),
                            (0.71, 5, 0.677), (0.5, 13, 0.729), (0.35, 56, 0.894),
                            (0.25, 56, 0.969), (0.18, 35, 0.895), (0.125, 26, 0.794)]


def _trials(rows):
    return [ScaleTrial(f, n, s) for f, n, s in rows]


def test_a_downsampled_export_read_at_its_nominal_magnification_gets_advice():
    advice = judge_scale(_trials(REFERENCE_READ_AS_30000), 0.561, 30000.0)
    assert advice is not None and advice.factor == 0.18
    assert advice.magnification == pytest.approx(5400.0)
    assert advice.pixel_size_nm == pytest.approx(0.561 / 0.18)
    text = advice.message("ref.png")
    assert text.startswith("ref.png: the scale looks wrong. At the stated 30,000x (0.561 nm/px)")
    assert "~5.6x smaller" in text and "about 5,400x (3.12 nm/px" in text
    # the 4x trial is the most confident but found one virion: it does not count


def test_the_right_scale_gets_no_advice():
    assert judge_scale(_trials(REFERENCE_AT_6285), 2.68, 6285.0) is None


def test_a_magnification_4x_too_high_is_found_exactly():
    advice = judge_scale(_trials(SIMULATED_READ_AS_120000), 0.14025, 120000.0)
    assert advice.factor == 0.25 and advice.magnification == pytest.approx(30000.0)


def test_margin_and_minimum_count():
    # another scale only slightly more confident: keep the stated one
    assert judge_scale(_trials([(1.0, 20, 0.80), (0.5, 20, 0.84)]), 1.0, 10000.0) is None
    advice = judge_scale(_trials([(1.0, 20, 0.80), (2.0, 20, 0.86)]), 1.0, 10000.0)
    assert advice.factor == 2.0 and "~2.0x larger" in advice.message("m")
    # the stated scale finds almost nothing: any usable scale wins
    assert judge_scale(_trials([(1.0, 2, 0.95), (0.5, 6, 0.7)]), 1.0, 10000.0).factor == 0.5
    # nothing usable anywhere (e.g. an empty or noise image): no advice
    assert judge_scale(_trials([(1.0, 0, 0.0), (0.5, 3, 0.9)]), 1.0, 10000.0) is None
    with pytest.raises(ValueError):
        judge_scale(_trials([(0.5, 10, 0.9)]), 1.0, 10000.0)


def _boxes(n, side, score):
    return [Detection(10 * i, 0, 10 * i + side, side, 1, score) for i in range(n)]


def test_when_to_probe():
    assert not needs_probe(_boxes(30, 260, 0.96), 0.561)     # 146 nm virions, sure: fine
    assert needs_probe(_boxes(9, 260, 0.96), 0.561)           # too few found
    assert needs_probe(_boxes(30, 260, 0.85), 0.561)          # unsure
    assert needs_probe(_boxes(30, 55, 0.96), 0.561)           # 31 nm "virions"
    assert needs_probe(_boxes(30, 260, 0.3), 0.561)           # none confident


def test_sizes_and_trials():
    assert median_side(_boxes(3, 40, 0.9)) == 40 and median_side([]) is None
    assert not size_off(None, 1.0)
    assert not size_off(260, 0.561) and size_off(55, 0.561) and size_off(500, 0.561)
    t = trial(0.5, [0.2, 0.6, 0.8, 0.49])
    assert (t.factor, t.found) == (0.5, 2) and t.mean_score == pytest.approx(0.7)
    assert trial(1.0, []).mean_score == 0.0
