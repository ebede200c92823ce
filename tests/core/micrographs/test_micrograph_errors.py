"""Every unusable micrograph file raises MicrographError: one line that names the file."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import tifffile
from micrograph_corpus import tiff_header_only
from PIL import Image

from temnet_app.core.errors import MicrographError
from temnet_app.core.micrographs import read_info, read_micrograph


def _grey(shape=(48, 64)) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)


def _png_bytes(data: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(data).save(buffer, format="PNG")
    return buffer.getvalue()


def _fails(path, match: str, reader=read_micrograph, **kwargs) -> str:
    with pytest.raises(MicrographError) as caught:
        reader(path, **kwargs)
    message = str(caught.value)
    assert str(path) in message, message
    assert "\n" not in message, message
    assert match.lower() in message.lower(), message
    return message


@pytest.mark.parametrize("reader", [read_micrograph, read_info])
def test_missing_file(tmp_path, reader):
    _fails(tmp_path / "nowhere.tif", "not found", reader)


def test_directory(tmp_path):
    (tmp_path / "folder.tif").mkdir()
    _fails(tmp_path / "folder.tif", "folder")


@pytest.mark.parametrize("suffix", [".tif", ".png", ".jpg"])
def test_empty_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    _fails(path, "empty (0 bytes)")


@pytest.mark.parametrize("name", ["image.bmp", "image.gif", "image"])
def test_unknown_suffix_lists_supported(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(_png_bytes(_grey()))
    message = _fails(path, "unsupported file type")
    assert ".tif" in message and ".png" in message and ".jpg" in message


@pytest.mark.parametrize("suffix", [".tif", ".png", ".jpeg"])
def test_text_file_with_image_suffix(tmp_path, suffix):
    path = tmp_path / f"notes{suffix}"
    path.write_text("x,y,width,height\n1,2,3,4\n")
    _fails(path, "holds text")


@pytest.mark.parametrize("magic", [b"II*\x00", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0"])
def test_garbage_after_magic_bytes(tmp_path, magic):
    path = tmp_path / "junk.tif"
    path.write_bytes(magic + np.random.default_rng(1).bytes(300))
    _fails(path, "cannot open micrograph")


def test_truncated_uncompressed_tiff(tmp_path):
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, _grey((200, 200)))
    path.write_bytes(path.read_bytes()[:20000])
    _fails(path, "truncated")


def test_truncated_compressed_tiff(tmp_path):
    path = tmp_path / "cutz.tif"
    tifffile.imwrite(path, _grey((200, 200)), compression="zlib")
    path.write_bytes(path.read_bytes()[:-3000])
    _fails(path, "cannot open micrograph")


def test_tiff_cut_inside_the_header(tmp_path):
    path = tmp_path / "head.tif"
    tifffile.imwrite(path, _grey())
    path.write_bytes(path.read_bytes()[:12])
    _fails(path, "cannot open micrograph", read_info)


def test_truncated_png(tmp_path):
    path = tmp_path / "cut.png"
    path.write_bytes(_png_bytes(_grey((200, 200)))[:3000])
    _fails(path, "cannot be decoded")


def test_truncated_jpeg(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(_grey((200, 200))).save(buffer, format="JPEG", quality=95)
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[:4000])
    _fails(path, "cannot be decoded")


@pytest.mark.parametrize("writer", ["shaped", "imagej", "pages"])
def test_3d_volume_is_refused(tmp_path, writer):
    path = tmp_path / "stack.tif"
    volume = np.zeros((6, 20, 20), dtype=np.uint8)
    if writer == "shaped":
        tifffile.imwrite(path, volume, photometric="minisblack")
    elif writer == "imagej":                       # even a 2-slice Z stack is a volume
        tifffile.imwrite(path, volume[:2], imagej=True, metadata={"axes": "ZYX"})
    else:
        with tifffile.TiffWriter(path) as out:
            for plane in volume:
                out.write(plane, metadata=None)
    message = _fails(path, "not a single 2-D micrograph", read_info)
    assert "stack" in message


@pytest.mark.parametrize("shape", [(10, 10), (15, 400), (400, 8)])
@pytest.mark.parametrize("suffix", [".tif", ".png"])
def test_too_small(tmp_path, shape, suffix):
    path = tmp_path / f"small{suffix}"
    if suffix == ".tif":
        tifffile.imwrite(path, _grey(shape))
    else:
        path.write_bytes(_png_bytes(_grey(shape)))
    _fails(path, "at least 16 x 16")


def test_zero_size_tiff(tmp_path):
    path = tmp_path / "zero.tif"
    path.write_bytes(tiff_header_only(0, 40))
    _fails(path, "cannot open micrograph")


def test_huge_tiff_is_refused_from_the_header(tmp_path):
    path = tmp_path / "huge.tif"
    path.write_bytes(tiff_header_only(50_000, 50_000))      # would be 2.5 GB of pixels
    _fails(path, "too large", read_info)
    _fails(path, "too large")


def test_huge_png_is_refused_from_the_header(tmp_path):
    data = bytearray(_png_bytes(_grey((20, 20))))
    data[16:24] = struct.pack(">II", 50_000, 50_000)          # IHDR width, height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path = tmp_path / "huge.png"
    path.write_bytes(bytes(data))
    _fails(path, "too large")


def test_max_pixels_limit_is_honoured(tmp_path):
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, _grey((100, 100)))
    _fails(path, "limit of 5,000 pixels", max_pixels=5000)
    assert read_micrograph(path, max_pixels=10_000).pixels.shape == (100, 100)


@pytest.mark.parametrize("dtype, match", [(np.complex64, "complex"), (bool, "1-bit")])
def test_unusable_pixel_types(tmp_path, dtype, match):
    path = tmp_path / "odd.tif"
    tifffile.imwrite(path, np.ones((20, 20), dtype=dtype))
    _fails(path, match)


def test_one_bit_png(tmp_path):
    path = tmp_path / "bw.png"
    Image.fromarray(_grey() > 128).save(path)
    assert Image.open(path).mode == "1"
    _fails(path, "1-bit")


def test_all_nan_float(tmp_path):
    path = tmp_path / "nan.tif"
    tifffile.imwrite(path, np.full((20, 20), np.nan, dtype=np.float32))
    _fails(path, "no finite pixel values")
