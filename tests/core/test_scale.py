"""Known answers for the scale resolution (temnet_app.core.scale)."""

import pytest

from temnet_app.core.errors import MicrographError
from temnet_app.core.scale import (REFERENCE_CAMERA, CameraCalibration, check_pixel_size,
                                   resolve_scale)


def test_default_is_30000x_at_the_reference_calibration():
    scale = resolve_scale()
    assert (scale.pixel_size_nm, scale.pixel_size_source) == (pytest.approx(0.561), "default")
    assert (scale.magnification, scale.magnification_source) == (30000.0, "default")
    assert scale.from_magnification


def test_a_file_pixel_size_beats_its_magnification():
    # a half-size export: "Direct Mag: 30000x" and "Cal: 1.122 nm/pix"
    scale = resolve_scale(file_pixel_size=1.122, file_magnification=30000)
    assert (scale.pixel_size_nm, scale.pixel_size_source) == (1.122, "file")
    assert not scale.from_magnification
    assert (scale.magnification, scale.magnification_source) == (30000.0, "file")
    assert scale.describe() == "1.122 nm/px (the file's calibration); 30,000x (from the file)"


@pytest.mark.parametrize("levels, size, source", [
    # override pixel size > override magnification > file pixel size > file magnification
    (dict(override_pixel_size=0.3, override_magnification=15000, file_pixel_size=0.4), 0.3,
     "override"),
    (dict(override_magnification=15000, file_pixel_size=0.4), 1.122, "override"),
    (dict(file_pixel_size=0.4, file_magnification=15000, experiment_pixel_size=0.9), 0.4, "file"),
    (dict(file_magnification=15000, experiment_pixel_size=0.9), 1.122, "file"),
    # experiment pixel size > experiment magnification > default
    (dict(experiment_pixel_size=0.9, experiment_magnification=15000), 0.9, "experiment"),
    (dict(experiment_magnification=60000), 0.2805, "experiment"),
    (dict(), 0.561, "default"),
])
def test_resolution_order(levels, size, source):
    scale = resolve_scale(**levels)
    assert scale.pixel_size_nm == pytest.approx(size)
    assert scale.pixel_size_source == source


def test_a_camera_calibration_converts_magnifications_only():
    camera = CameraCalibration(30000, 0.28)       # a finer camera than the reference one
    assert camera.pixel_size_at(15000) == pytest.approx(0.56)
    assert camera.magnification_at(0.14) == pytest.approx(60000)
    scale = resolve_scale(file_magnification=30000, camera=camera)
    assert scale.pixel_size_nm == pytest.approx(0.28) and scale.from_magnification
    assert "camera calibration 0.28 nm/px at 30,000x" in scale.describe_pixel_size()
    assert resolve_scale(camera=camera).pixel_size_nm == pytest.approx(0.28)   # the default
    # a stated pixel size needs no calibration
    assert resolve_scale(file_pixel_size=0.5, camera=camera).pixel_size_nm == 0.5
    # with only a pixel size the magnification label is derived through the camera
    scale = resolve_scale(file_pixel_size=0.56, camera=camera)
    assert (scale.magnification, scale.magnification_source) == (pytest.approx(15000), "derived")
    assert REFERENCE_CAMERA.is_reference and not camera.is_reference


def test_implausible_values_name_their_level():
    with pytest.raises(MicrographError, match="invalid override pixel size 0.0001"):
        resolve_scale(override_pixel_size=0.0001)
    with pytest.raises(MicrographError, match="invalid experiment magnification 5"):
        resolve_scale(experiment_magnification=5)
    with pytest.raises(ValueError, match="outside"):
        check_pixel_size(float("nan"))
    with pytest.raises(ValueError, match="outside"):
        CameraCalibration(30000, 100)
    assert check_pixel_size("0.28") == 0.28


@pytest.mark.parametrize("levels, message", [
    (dict(override_magnification=0.0), "invalid override magnification"),
    (dict(file_magnification=float("nan")), "invalid file magnification"),
    (dict(experiment_magnification=5e7), "invalid experiment magnification"),
    (dict(override_magnification="abc"), "invalid override magnification"),
    (dict(override_pixel_size=-0.5, file_pixel_size=0.5), "invalid override pixel size"),
])
def test_nonsense_is_an_error_not_skipped(levels, message):
    with pytest.raises(MicrographError, match=message):
        resolve_scale(**levels)
