"""The scale check inside a detection run: which micrographs are probed, and what the summary
says (a scripted detector stands in for the network)."""

import pytest
from test_jobs import _make_images

from temnet_app.core.boxes import Detection
from temnet_app.core.project import Project
from temnet_app.core.scale_check import ScaleTrial
from temnet_app.jobs.detection import run_detection


class ScriptedDetector:
    """Sure detections of 146 nm virions on bright images, a few unsure ones on dark images;
    its probe says the dark images are most confident at half their magnification."""

    model_id, device, score_floor = "scripted@1", "CPU", 0.05

    def __init__(self):
        from temnet_app.core.boxes import DEFAULT_SCHEME

        self.scheme = DEFAULT_SCHEME
        self.probed = []

    def settings(self):
        return {"kind": "scripted"}

    def detect(self, image, magnification=None, progress=None, cancel=None, *,
               pixel_size_nm=None):
        side = 146.0 / pixel_size_nm
        if image.mean() > 100:
            return [Detection(0, 0, side, side, 1, 0.97) for _ in range(12)]
        return [Detection(0, 0, side, side, 1, 0.7) for _ in range(3)]

    def probe_scales(self, image, pixel_size_nm, cancel=None):
        self.probed.append((float(image.mean()), pixel_size_nm))
        return [ScaleTrial(1.0, 3, 0.7), ScaleTrial(0.5, 40, 0.93), ScaleTrial(2.0, 1, 0.9)]


@pytest.fixture
def project(tmp_path):
    _make_images(tmp_path / "WT", greys=(150, 40, 50, 160, 45), size=(64, 80))
    with Project.create(tmp_path / "p.temnet") as proj:
        proj.add_folder(tmp_path / "WT", magnification=30000.0)
        yield proj


def test_one_probe_per_scale_and_advice_in_the_summary(project):
    ms = project.micrographs()
    project.set_magnification_override(ms[4].id, 25000.0)
    detector = ScriptedDetector()
    seen = []
    summary = run_detection(project, ms, detector, progress=lambda f, m: seen.append(m))
    # bright (sure) micrographs are not probed; of the dark ones, m2 at 30,000x (m3 has the
    # same scale: not probed again) and m5 at its own 25,000x
    assert detector.probed == [(40.0, pytest.approx(0.561)), (45.0, pytest.approx(0.6732))]
    assert [(name, a.factor, round(a.magnification)) for name, a in summary.scale_advice] == [
        ("m2.tif", 0.5, 15000), ("m5.tif", 0.5, 12500)]
    lines = summary.scale_messages()
    assert lines[0].startswith("m2.tif: the scale looks wrong. At the stated 30,000x")
    assert "about 15,000x (1.12 nm/px: 40 virion(s), mean 0.93)" in lines[0]
    assert any("m2.tif (2/5): its scale looks wrong: about 15,000x fits" in m for m in seen)
    # the check does not hold back the detections
    assert summary.status == "complete" and len(summary.processed) == 5


def test_no_probe_without_the_capability_or_when_all_is_well(project):
    ms = project.micrographs()

    class NoProbe(ScriptedDetector):
        probe_scales = None

    summary = run_detection(project, ms, NoProbe())
    assert summary.scale_advice == () and summary.scale_messages() == []
    bright = [m for m in ms if m.name in ("m1.tif", "m4.tif")]
    detector = ScriptedDetector()
    assert run_detection(project, bright, detector).scale_advice == ()
    assert detector.probed == []
