"""Magnification and pixel size as micrograph files state them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from PIL import Image, PngImagePlugin

from temnet_app.core.micrographs import read_info, read_micrograph
from temnet_app.core.micrographs.source import (combine_scale, parse_scale_text,
                                                pixel_size_from_resolution)

SIMULATOR_DESCRIPTION = "TEMNet Studio simulated micrograph\nDirect Mag: 30000x\nCal: 0.561 nm/pix"
JEOL_BAND_TEXT = ("1797001.tif\nCal: 0.561 nm/pix\n11:04 10/21/20\nTEM Mode: Imaging\n100 nm\n"
                  "HV=80.0kV\nDirect Mag: 30000x\nAMT Camera System")


def _grey(shape=(32, 40)) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)


# ------------------------------------------------------------------ text parsing

@pytest.mark.parametrize("text, mag, nm", [
    ("Direct Mag: 30000x", 30000.0, None),
    ("Mag: 25000x", 25000.0, None),
    ("Magnification: 20000", 20000.0, None),
    ("magnification = 30,000 x", 30000.0, None),
    ("Mag: 30kx", 30000.0, None),
    ("Cal: 0.561 nm/pix", None, 0.561),
    ("Pixel size: 5.61 A", None, 0.561),
    ("pixel size = 0.000561 um", None, 0.561),
    ("pixel_size_nm: 0.561", None, 0.561),
    ('{"magnification": 25000}', 25000.0, None),
    ('{"pixel_size_nm": 0.561, "other": 1}', None, 0.561),
    ('{"Magnification": "20000x", "pixel_size_nm": "0.8415"}', 20000.0, 0.8415),
    (SIMULATOR_DESCRIPTION, 30000.0, 0.561),
    (JEOL_BAND_TEXT, 30000.0, 0.561),
    ("Cal: 0.561", None, None),                 # no unit: not trusted
    ("Mag: 5x", None, None),                    # not a TEM magnification
    ("Cal: 500 nm/pix", None, None),            # would be a 34x magnification
    ('{"shape": [40, 50]}', None, None),        # tifffile's own shape description
    ("HV=80.0kV\nTEM Mode: Imaging", None, None),
    ("", None, None),
])
def test_parse_scale_text(text, mag, nm):
    got_mag, got_nm = parse_scale_text(text)
    assert got_mag == (pytest.approx(mag) if mag is not None else None)
    assert got_nm == (pytest.approx(nm) if nm is not None else None)


def test_combine_reports_only_what_the_file_states():
    # nothing is derived here: a magnification needs the camera's calibration to become a
    # pixel size, and that is the project's business (core.scale)
    assert combine_scale(["Mag: 25000x"]) == (25000.0, None)
    assert combine_scale(["Cal: 1.122 nm/pix"]) == (None, 1.122)
    assert combine_scale([], resolution_nm=0.7) == (None, 0.7)
    # both stated and inconsistent (a half-size export): both are kept as stated
    assert combine_scale(["Direct Mag: 30000x Cal: 1.122 nm/pix"]) == (30000.0, 1.122)
    assert combine_scale(["no scale here"]) == (None, None)
    # a stated pixel size wins over the resolution tag; the first text stating a value wins
    assert combine_scale(["Cal: 0.561 nm/pix"], resolution_nm=0.7)[1] == 0.561
    assert combine_scale(["Mag: 20000x", "Mag: 25000x"])[0] == 20000.0


@pytest.mark.parametrize("per_unit, unit, nm", [
    (1e7 / 0.561, 3, 0.561),            # pixels per centimetre
    (2.54e7 / 1.122, 2, 1.122),         # pixels per inch
    (1e6 / 0.561, 4, 0.561),            # pixels per millimetre
    (72.0, 2, None),                    # the usual meaningless 72 dpi
    (1.0, 1, None),                     # tifffile's default: 1 per no unit
    (1e7 / 0.561, 1, None),             # no unit
    (300.0, 3, None),                   # 33 um pixels: no TEM magnification
    (float("nan"), 3, None),
])
def test_pixel_size_from_resolution(per_unit, unit, nm):
    got = pixel_size_from_resolution(per_unit, unit)
    assert got == (pytest.approx(nm, rel=1e-6) if nm is not None else None)


# ------------------------------------------------------------------ files

def test_simulator_tiff_round_trips(tmp_path):
    path = tmp_path / "sim.tif"
    tifffile.imwrite(path, _grey(), description=SIMULATOR_DESCRIPTION,
                     resolution=(1e7 / 0.561, 1e7 / 0.561), resolutionunit="CENTIMETER")
    for info in (read_micrograph(path).info, read_info(path)):
        assert info.magnification == pytest.approx(30000.0)
        assert info.pixel_size_nm == pytest.approx(0.561)


def test_tiff_resolution_only(tmp_path):
    path = tmp_path / "res.tif"
    tifffile.imwrite(path, _grey(), resolution=(2.54e7 / 0.6732, 2.54e7 / 0.6732),
                     resolutionunit="INCH")
    info = read_micrograph(path).info
    assert info.pixel_size_nm == pytest.approx(0.6732, rel=1e-6)
    assert info.magnification is None           # not stated, not derived


@pytest.mark.parametrize("kwargs", [
    {},                                                                # tifffile's 1 / NONE
    {"resolution": (72, 72), "resolutionunit": "INCH"},
    {"resolution": (1, 1), "resolutionunit": "CENTIMETER"},
])
def test_tiff_without_scale(tmp_path, kwargs):
    tifffile.imwrite(tmp_path / "plain.tif", _grey(), **kwargs)
    info = read_micrograph(tmp_path / "plain.tif").info
    assert info.magnification is None and info.pixel_size_nm is None


def test_tiff_json_description(tmp_path):
    text = json.dumps({"magnification": 20000, "pixel_size_nm": 0.8415})
    tifffile.imwrite(tmp_path / "j.tif", _grey(), description=text, metadata=None)
    info = read_micrograph(tmp_path / "j.tif").info
    assert (info.magnification, info.pixel_size_nm) == (20000.0, 0.8415)


def test_tiff_magnification_text_with_resolution_pixel_size(tmp_path):
    tifffile.imwrite(tmp_path / "m.tif", _grey(), description="Mag: 25000x",
                     resolution=(1e7 / 0.7, 1e7 / 0.7), resolutionunit="CENTIMETER")
    info = read_micrograph(tmp_path / "m.tif").info
    assert info.magnification == 25000.0                       # stated
    assert info.pixel_size_nm == pytest.approx(0.7, rel=1e-6)  # from the resolution tag


@pytest.mark.parametrize("chunks, mag, nm", [
    ({"magnification": "25000", "pixel_size_nm": "0.6732"}, 25000.0, 0.6732),
    ({"Description": "Direct Mag: 20000x"}, 20000.0, None),
    ({"Comment": "Cal: 0.561 nm/pix"}, None, 0.561),
    ({"Software": "something"}, None, None),
])
@pytest.mark.parametrize("kind", ["tEXt", "zTXt", "iTXt"])
def test_png_text_chunks(tmp_path, chunks, mag, nm, kind):
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        if kind == "iTXt":
            info.add_itxt(key, value)
        else:
            info.add_text(key, value, zip=(kind == "zTXt"))
    Image.fromarray(_grey()).save(tmp_path / "t.png", pnginfo=info)
    for got in (read_micrograph(tmp_path / "t.png").info, read_info(tmp_path / "t.png")):
        assert got.magnification == (pytest.approx(mag) if mag else None)
        assert got.pixel_size_nm == (pytest.approx(nm, rel=1e-6) if nm else None)


def test_png_default_dpi_is_ignored(tmp_path):
    Image.fromarray(_grey()).save(tmp_path / "d.png", dpi=(72, 72))
    assert read_micrograph(tmp_path / "d.png").info.pixel_size_nm is None


def test_jpeg_comment(tmp_path):
    Image.fromarray(_grey()).save(tmp_path / "c.jpg", comment=b"Direct Mag: 20000x")
    assert read_micrograph(tmp_path / "c.jpg").info.magnification == 20000.0
