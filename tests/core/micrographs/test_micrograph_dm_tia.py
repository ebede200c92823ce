"""DigitalMicrograph DM3 / DM4 and TIA SER (+ EMI) micrographs, read through rosettasciio from
files written here (:mod:`em_writers`): the pixels as stored, the pixel size from the axis
calibration, the nominal magnification from the microscope tags; stacks, spectra,
diffraction patterns and damaged files refused in one line."""

import sys

import numpy as np
import pytest
from em_writers import (SER_SPECTRUM, dm_image_group, dm_rgba_group, emi_object_xml,
                        microscope_tags, write_dm, write_emi, write_ser)

from temnet_app.core.errors import MicrographError
from temnet_app.core.micrographs import is_micrograph_file, read_info, read_micrograph
from temnet_app.core.micrographs.intensity import luminance

H, W = 64, 80


def _grey8(seed=0):
    return np.random.default_rng(seed).integers(20, 230, (H, W), dtype=np.uint8)


def _deep(dtype, seed=0):
    values = np.random.default_rng(seed).normal(1000, 200, (H, W))
    return np.clip(values, 0, 60000).astype(dtype)


def _refused(path, fragment, **kwargs):
    with pytest.raises(MicrographError) as error:
        read_micrograph(path, **kwargs)
    message = str(error.value)
    assert fragment in message and "\n" not in message and str(path) in message, message
    return message


def _same_order(pixels, data):
    """The 8-bit pixels rank like the source values (no flip, no transposition)."""
    order = np.argsort(data.ravel(), kind="stable")
    assert np.all(np.diff(pixels.ravel()[order].astype(int)) >= 0)


# --------------------------------------------------------------------------------- DM3 / DM4

@pytest.mark.parametrize("version", [3, 4])
def test_dm_8_bit_reads_exactly_with_scale_and_magnification(version, tmp_path):
    data = _grey8()
    path = write_dm(tmp_path / f"a.dm{version}", data, version=version, scale=0.5, units="nm",
                    image_tags=microscope_tags(indicated=25000, actual=33000))
    assert is_micrograph_file(path) and is_micrograph_file(tmp_path / f"B.DM{version}")
    loaded = read_micrograph(path)
    info = loaded.info
    assert info.format == f"dm{version}" and info.source_dtype == "uint8"
    assert loaded.pixels.shape == (H, W) and info.source_shape == (H, W)
    np.testing.assert_array_equal(loaded.pixels, data)      # 8-bit kept, thumbnail skipped
    assert info.stretch is None and info.band_rows == 0
    assert info.pixel_size_nm == pytest.approx(0.5)
    assert info.magnification == 25000                      # the indicated (nominal) value
    header = read_info(path)
    assert (header.format, header.width, header.height, header.source_dtype) == \
        (f"dm{version}", W, H, "uint8")
    assert (header.pixel_size_nm, header.magnification) == (info.pixel_size_nm, 25000)


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.float32, np.int32])
def test_dm_deeper_pixels_are_stretched_to_grey(version, dtype, tmp_path):
    data = _deep(dtype)
    path = write_dm(tmp_path / "deep.dm3", data, version=version, scale=4.2, units="Å")
    loaded = read_micrograph(path)
    assert loaded.info.source_dtype == np.dtype(dtype).name
    assert loaded.pixels.dtype == np.uint8 and loaded.pixels.shape == (H, W)
    assert loaded.info.stretch is not None
    _same_order(loaded.pixels, data)
    assert loaded.info.pixel_size_nm == pytest.approx(0.42)
    assert loaded.info.magnification is None                # no Microscope Info


@pytest.mark.parametrize("scale, units, nm", [
    (0.5, "nm", 0.5), (0.0005, "µm", 0.5), (0.0005, "um", 0.5), (5.0, "A", 0.5),
    (500.0, "pm", 0.5), (5e-10, "m", 0.5),
    (1.0, "", None), (1.0, "pixel", None),                  # not calibrated
    (50.0, "nm", None),                                     # no TEM magnification gives this
])
def test_dm_pixel_size_units(scale, units, nm, tmp_path):
    path = write_dm(tmp_path / "u.dm3", _grey8(), scale=scale, units=units)
    size = read_micrograph(path).info.pixel_size_nm
    assert size == (pytest.approx(nm) if nm is not None else None)
    assert read_info(path).pixel_size_nm == size


def test_dm_magnification_only_as_indicated_outside_diffraction(tmp_path):
    actual_only = write_dm(tmp_path / "actual.dm3", _grey8(), scale=0.5, units="nm",
                           image_tags=microscope_tags(actual=31000))
    assert read_info(actual_only).magnification is None
    diffraction_mode = write_dm(tmp_path / "mode.dm3", _grey8(), scale=0.5, units="nm",
                                image_tags=microscope_tags(indicated=800,
                                                           imaging_mode="DIFFRACTION"))
    assert read_info(diffraction_mode).magnification is None   # there it is a camera length
    implausible = write_dm(tmp_path / "low.dm3", _grey8(), image_tags=microscope_tags(50))
    assert read_info(implausible).magnification is None


def test_dm_diffraction_pattern_is_refused(tmp_path):
    path = write_dm(tmp_path / "dp.dm3", _grey8(), scale=0.02, units="1/nm")
    _refused(path, "diffraction pattern or an FFT (axes in 1/nm)")
    with pytest.raises(MicrographError, match="diffraction"):
        read_info(path)


@pytest.mark.parametrize("version", [3, 4])
def test_dm_stack_and_spectrum_are_refused(version, tmp_path):
    stack = write_dm(tmp_path / "stack.dm3", np.zeros((3, H, W), np.float32), version=version,
                     scale=0.5, units="nm")
    message = _refused(stack, "it is a 3-D stack of 3 images (80 x 64 x 3); open one 2-D "
                              "micrograph per file")
    with pytest.raises(MicrographError) as error:
        read_info(stack)
    assert str(error.value) == message
    spectrum = write_dm(tmp_path / "spectrum.dm3", np.zeros((1, 2048), np.float32),
                        version=version, scale=0.1, units="eV")
    _refused(spectrum, "1-D spectrum or profile of 2048 points")
    eels = write_dm(tmp_path / "eels.dm3", np.zeros((H, W), np.float32), version=version,
                    image_tags=[("Meta Data", [("Signal", "EELS"), ("Format", "Spectrum")])])
    _refused(eels, "it holds EELS spectra (80 x 64)")


def test_dm_with_two_images_is_refused(tmp_path):
    second = dm_image_group(_grey8(1), scale=0.5, units="nm")
    path = write_dm(tmp_path / "two.dm3", _grey8(), extra_images=[second])
    _refused(path, "it holds 2 images; open one 2-D micrograph per file")


def test_dm_colour_becomes_grey_and_an_unlisted_colour_preview_is_skipped(tmp_path):
    rgba = np.random.default_rng(5).integers(0, 256, (H, W, 4), dtype=np.uint8)
    colour = write_dm(tmp_path / "colour.dm3", dm_rgba_group(rgba), thumbnail=False)
    loaded = read_micrograph(colour, crop_band=False)
    assert (loaded.info.source_dtype, loaded.info.source_shape) == ("uint8", (H, W, 4))
    np.testing.assert_array_equal(loaded.pixels, luminance(rgba))
    assert read_info(colour).source_shape == (H, W, 4)   # rsciio reads RGBA only eagerly
    data = _grey8()
    preview = np.zeros((16, 20, 4), np.uint8)
    unlisted = write_dm(tmp_path / "unlisted.dm4", data, version=4, thumbnail=False,
                        first_images=[dm_rgba_group(preview, name="preview")])
    np.testing.assert_array_equal(read_micrograph(unlisted).pixels, data)


def test_dm_size_limits_come_from_the_header(tmp_path):
    path = write_dm(tmp_path / "big.dm4", _grey8(), version=4)
    _refused(path, "too large", max_pixels=1000)
    with pytest.raises(MicrographError, match="too large"):
        read_info(path, max_pixels=1000)
    tiny = write_dm(tmp_path / "tiny.dm3", np.zeros((8, 8), np.uint8))
    _refused(tiny, "at least 16 x 16")


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_dm_is_one_line(version, keep, tmp_path):
    path = write_dm(tmp_path / "cut.dm3", _deep(np.uint16), version=version, scale=0.5,
                    units="nm", image_tags=microscope_tags(25000))
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep)])
    _refused(path, "not a readable DigitalMicrograph file; it may be truncated or damaged")
    with pytest.raises(MicrographError, match="truncated or damaged"):
        read_info(path)


def test_garbage_named_dm3_is_one_line(tmp_path):
    text = tmp_path / "text.dm3"
    text.write_text("this is not a DigitalMicrograph file\n" * 10)
    _refused(text, "not a TIFF, PNG, JPEG or MRC image, nor a DigitalMicrograph (DM3, DM4) or "
                   "TIA (SER) file (it holds text) despite the '.dm3' suffix")
    noise = tmp_path / "noise.dm4"
    noise.write_bytes(np.random.default_rng(3).integers(0, 256, 4000, np.uint8).tobytes())
    _refused(noise, "its content is not a known image format")
    header_then_noise = tmp_path / "hdr.dm3"
    header_then_noise.write_bytes(bytes.fromhex("00000003 00001000 00000001 0001 00000002")
                                  + noise.read_bytes())
    _refused(header_then_noise, "not a readable DigitalMicrograph file")


def test_content_decides_dm_even_with_another_suffix(tmp_path):
    data = _grey8()
    path = write_dm(tmp_path / "really_dm.tif", data, scale=0.5, units="nm")
    loaded = read_micrograph(path)
    assert loaded.info.format == "dm3"
    np.testing.assert_array_equal(loaded.pixels, data)


@pytest.mark.parametrize("module, name", [("rsciio.digitalmicrograph", "a.dm3"),
                                          ("rsciio.tia", "a_1.ser")])
def test_a_missing_rosettasciio_is_named_not_blamed_on_the_file(module, name, tmp_path,
                                                                monkeypatch):
    path = tmp_path / name
    if name.endswith(".dm3"):
        write_dm(path, _grey8())
    else:
        write_ser(path, _grey8())
    monkeypatch.setitem(sys.modules, module, None)                  # the import fails
    message = _refused(path, "files need the optional reader rosettasciio (GPL-3.0), which "
                             "this installation does not include: save the image as TIFF or "
                             "MRC, or install it with pip install 'temnet-app[formats]'")
    assert "damaged" not in message


# ---------------------------------------------------------------------------- TIA SER / EMI

@pytest.mark.parametrize("version", [0x0210, 0x0220])
def test_ser_with_its_emi_reads_pixels_scale_and_magnification(version, tmp_path):
    data = _grey8()
    ser = write_ser(tmp_path / "acq_1.ser", data, pixel_m=0.56e-9, version=version)
    write_emi(tmp_path / "acq.emi", [emi_object_xml(magnification=19500)])
    assert is_micrograph_file(ser) and is_micrograph_file(tmp_path / "X_2.SER")
    assert not is_micrograph_file(tmp_path / "acq.emi")     # its .ser is the micrograph
    loaded = read_micrograph(ser)
    info = loaded.info
    assert (info.format, info.source_dtype, info.source_shape) == ("ser", "uint8", (H, W))
    np.testing.assert_array_equal(loaded.pixels, data)      # TIA's bottom-up rows put back
    assert info.pixel_size_nm == pytest.approx(0.56) and info.magnification == 19500
    header = read_info(ser)
    assert (header.width, header.height, header.pixel_size_nm, header.magnification) == \
        (W, H, info.pixel_size_nm, 19500)
    via_emi = read_micrograph(tmp_path / "acq.emi")         # the .emi opens its .ser
    np.testing.assert_array_equal(via_emi.pixels, data)
    assert (via_emi.info.format, via_emi.info.magnification) == ("ser", 19500)
    assert read_info(tmp_path / "acq.emi").pixel_size_nm == pytest.approx(0.56)


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.float32, np.uint32])
def test_ser_deeper_pixels_without_emi(dtype, tmp_path):
    data = _deep(dtype)
    ser = write_ser(tmp_path / "alone_1.ser", data, pixel_m=2.1e-9)
    loaded = read_micrograph(ser)
    assert loaded.info.source_dtype == np.dtype(dtype).name and loaded.info.stretch is not None
    _same_order(loaded.pixels, data)
    assert loaded.info.pixel_size_nm == pytest.approx(2.1)
    assert loaded.info.magnification is None                # no .emi beside it


def test_ser_of_a_multi_detector_emi_keeps_its_scale_but_not_the_magnification(tmp_path):
    # rsciio's .emi reader would read every _N.ser of the acquisition; it is only used when
    # the .ser opened is the only one, so here the magnification stays unknown
    for index in (1, 2):
        write_ser(tmp_path / f"stem_{index}.ser", _grey8(index), pixel_m=1e-9)
    write_emi(tmp_path / "stem.emi", [emi_object_xml(30000), emi_object_xml(30000)])
    info = read_info(tmp_path / "stem_2.ser")
    assert info.pixel_size_nm == pytest.approx(1.0) and info.magnification is None
    _refused(tmp_path / "stem.emi", "it belongs to 2 data files (stem_1.ser, stem_2.ser); open "
                                    "the .ser file of the image you want")


def test_emi_without_its_ser_is_one_line(tmp_path):
    emi = write_emi(tmp_path / "lonely.emi", [emi_object_xml(30000)])
    _refused(emi, "its data file lonely_1.ser is not beside it")
    junk = tmp_path / "junk.emi"
    junk.write_text("not TIA at all")
    _refused(junk, "its data file junk_1.ser is not beside it")


def test_ser_taken_in_diffraction_is_refused(tmp_path):
    ser = write_ser(tmp_path / "dp_1.ser", _grey8(), pixel_m=2e7)      # 1/m in diffraction
    write_emi(tmp_path / "dp.emi", [emi_object_xml(mode="TEM Diffraction")])
    _refused(ser, "diffraction pattern or an FFT (axes in 1 / nm)")


@pytest.mark.parametrize("kind, fragment", [
    ("series", "it is a series of 3 images (80 x 64 x 3): a stack, a line scan or a map; open "
               "one 2-D micrograph per file"),
    ("spectrum", "it holds a spectrum (1-D data), not an image"),
    ("complex", "complex-valued pixels (complex64)"),
    ("truncated", "the SER file is truncated (image data end beyond the end of the file)"),
    ("cut_header", "the SER file is truncated (incomplete header)"),
    ("tiny", "at least 16 x 16"),
    ("text", "not a TIFF, PNG, JPEG or MRC image, nor a DigitalMicrograph (DM3, DM4) or TIA (SER) "
             "file (it holds text) despite the '.ser' suffix"),
])
def test_bad_ser_files_are_one_line(kind, fragment, tmp_path):
    path = tmp_path / "bad_1.ser"
    if kind == "series":
        write_ser(path, [_grey8(i) for i in range(3)], pixel_m=1e-9)
    elif kind == "spectrum":
        write_ser(path, np.zeros(1024, np.float32), kind=SER_SPECTRUM)
    elif kind == "complex":
        write_ser(path, np.zeros((H, W), np.complex64))
    elif kind in ("truncated", "cut_header"):
        write_ser(path, _deep(np.uint16), pixel_m=1e-9)
        raw = path.read_bytes()
        path.write_bytes(raw[:len(raw) // 2] if kind == "truncated" else raw[:20])
    elif kind == "tiny":
        write_ser(path, np.zeros((8, 8), np.uint8))
    else:
        path.write_text("just some notes\n")
    _refused(path, fragment)
    with pytest.raises(MicrographError):
        read_info(path)
