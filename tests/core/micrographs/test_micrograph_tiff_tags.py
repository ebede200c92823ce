"""The calibrated private TIFF tags that tifffile parses: FEI / Thermo Fisher (34680 FEI_SFEG,
34682 FEI_HELIOS: INI text, pixel size in metres) and Olympus SIS (33560: a binary structure
with the pixel size in metres and the magnification). They beat the description text, which
beats the resolution tag."""

import struct

import numpy as np
import pytest
import tifffile

from temnet_app.core.micrographs import read_info, read_micrograph

FEI_INI = ("[User]\r\nDate=01/02/2024\r\nUser=tester\r\n[System]\r\nType=DualBeam\r\n"
           "[Beam]\r\nHV=5000\r\nBeam=EBeam\r\nScan=EScan\r\n[EBeam]\r\nHFW=1e-07\r\n"
           "[Scan]\r\nInternalScan=true\r\nDwelltime=3e-006\r\nPixelWidth=1.25e-009\r\n"
           "PixelHeight=1.25e-009\r\nHorFieldsize=1e-007\r\n"
           "[EScan]\r\nPixelWidth=1.25e-009\r\nPixelHeight=1.25e-009\r\n"
           "[Image]\r\nResolutionX=80\r\nResolutionY=64\r\n")
TEXT = "Direct Mag: 30000x\nPixel size: 5 nm"


def _grey():
    return np.random.default_rng(0).integers(40, 200, (64, 80), dtype=np.uint8)


def _fei_tiff(path, code=34682, ini=FEI_INI, **kwargs):
    tifffile.imwrite(path, _grey(), extratags=[(code, "s", 0, ini, True)], **kwargs)
    return path


def _sis_tiff(path, pixel_m=4.2e-10, magnification=40000.0, **kwargs):
    """A TIFF with an Olympus SIS tag (33560), laid out as tifffile decodes it: a 60-byte
    header ("SIS0", date, name, number of entries), 8-byte entries (type, count, absolute
    offset) and, for type 1, a block with the length exponent, x and y calibration and the
    magnification. The entry's offset is patched once the file position is known."""
    head = struct.pack("<4s6xhhhhh6x32sH", b"SIS0", 5, 10, 3, 0, 124, b"test".ljust(32, b"\0"), 1)
    exponent = -9
    scale = pixel_m / 10.0 ** exponent
    block = struct.pack("<10xhdd8xd2x34s32s", exponent, scale, scale, magnification,
                        b"Megaview".ljust(34, b"\0"), b"TEM".ljust(32, b"\0"))
    value = head + struct.pack("<hhI", 1, 1, 0) + block
    tifffile.imwrite(path, _grey(), extratags=[(33560, 7, len(value), value, True)], **kwargs)
    raw = bytearray(path.read_bytes())
    at = raw.find(b"SIS0")
    raw[at + 64:at + 68] = struct.pack("<I", at + len(head) + 8)
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("code", [34680, 34682])
def test_fei_pixel_size_beats_the_description_text(code, tmp_path):
    path = _fei_tiff(tmp_path / "fei.tif", code=code, description=TEXT,
                     resolution=(1e6, 1e6), resolutionunit=3)
    with tifffile.TiffFile(path) as tif:                   # the tag is what tifffile parses
        assert tif.fei_metadata["Scan"]["PixelWidth"] == pytest.approx(1.25e-9)
    info = read_micrograph(path).info
    assert info.pixel_size_nm == pytest.approx(1.25)
    assert info.magnification == 30000                     # FEI states none; the text does
    assert read_info(path).pixel_size_nm == pytest.approx(1.25)


def test_fei_scan_section_named_by_the_beam_and_unusable_values(tmp_path):
    escan_only = FEI_INI.replace("[Scan]", "[Other]")
    path = _fei_tiff(tmp_path / "escan.tif", ini=escan_only)
    assert read_info(path).pixel_size_nm == pytest.approx(1.25)
    not_square = FEI_INI.replace("PixelHeight=1.25e-009", "PixelHeight=2.5e-009")
    path = _fei_tiff(tmp_path / "rect.tif", ini=not_square, description=TEXT)
    assert read_info(path).pixel_size_nm == pytest.approx(5.0)    # falls back to the text
    too_big = FEI_INI.replace("1.25e-009", "1.25e-006")             # 1,250 nm per pixel
    path = _fei_tiff(tmp_path / "sem.tif", ini=too_big)
    assert read_info(path).pixel_size_nm is None


def test_sis_pixel_size_and_magnification_beat_the_text(tmp_path):
    path = _sis_tiff(tmp_path / "sis.tif", description=TEXT)
    with tifffile.TiffFile(path) as tif:
        assert tif.sis_metadata["magnification"] == 40000
    info = read_micrograph(path).info
    assert info.pixel_size_nm == pytest.approx(0.42) and info.magnification == 40000
    header = read_info(path)
    assert (header.pixel_size_nm, header.magnification) == (info.pixel_size_nm, 40000)


def test_sis_implausible_values_leave_the_text(tmp_path):
    path = _sis_tiff(tmp_path / "odd.tif", pixel_m=1e-3, magnification=3.0, description=TEXT)
    info = read_info(path)
    assert info.pixel_size_nm == pytest.approx(5.0) and info.magnification == 30000


def test_resolution_tag_is_used_last(tmp_path):
    # 1e6 px per mm (ResolutionUnit 4) = 1 nm/px: used only when no text or tag states one
    path = tmp_path / "res.tif"
    tifffile.imwrite(path, _grey(), resolution=(1e6, 1e6), resolutionunit=4)
    assert read_info(path).pixel_size_nm == pytest.approx(1.0)
    tifffile.imwrite(path, _grey(), resolution=(1e6, 1e6), resolutionunit=4, description=TEXT)
    assert read_info(path).pixel_size_nm == pytest.approx(5.0)
