"""MRC micrographs (written here with mrcfile): pixels like a float TIFF, the pixel size from
the voxel size (angstroms), stacks and damaged files refused in one line."""

import mrcfile
import numpy as np
import pytest

from temnet_app.core.errors import MicrographError
from temnet_app.core.micrographs import is_micrograph_file, read_info, read_micrograph


def _mrc(path, data, voxel_angstrom=None):
    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(data)
        if voxel_angstrom is not None:
            mrc.voxel_size = voxel_angstrom
    return path


def test_a_2d_mrc_reads_with_its_pixel_size(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.normal(0, 1, (300, 400)).astype(np.float32)
    path = _mrc(tmp_path / "a.mrc", data, voxel_angstrom=5.61)
    assert is_micrograph_file(path) and is_micrograph_file(tmp_path / "B.MRC")
    loaded = read_micrograph(path)
    info = loaded.info
    assert info.format == "mrc" and loaded.pixels.shape == (300, 400)
    assert loaded.pixels.dtype == np.uint8 and info.stretch is not None
    assert info.pixel_size_nm == pytest.approx(0.561)
    assert info.magnification is None           # MRC states no magnification
    # the same order of rows as the file (and as mrcfile / Fiji show it)
    order = np.argsort(data.ravel())
    assert np.all(np.diff(loaded.pixels.ravel()[order].astype(int)) >= 0)
    header = read_info(path)
    assert (header.width, header.height, header.pixel_size_nm) == (400, 300, info.pixel_size_nm)


def test_mrc_integer_modes_and_unknown_pixel_size(tmp_path):
    for dtype in (np.int8, np.int16, np.uint16, np.float16):
        data = (np.arange(64 * 80).reshape(64, 80) % 100).astype(dtype)
        info = read_micrograph(_mrc(tmp_path / f"{np.dtype(dtype).name}.mrc", data)).info
        assert info.source_dtype == np.dtype(dtype).name
        assert info.pixel_size_nm is None and info.magnification is None


@pytest.mark.parametrize("kind, fragment", [
    ("stack", "of 3 sections (64 x 64 x 3)"),
    ("truncated", "truncated or damaged"),
    ("complex", "complex-valued pixels"),
    ("tiny", "at least 16 x 16"),
    ("not_mrc", "not a TIFF, PNG, JPEG or MRC image"),
])
def test_bad_mrc_files_are_one_line(kind, fragment, tmp_path):
    path = tmp_path / "x.mrc"
    if kind == "stack":
        _mrc(path, np.zeros((3, 64, 64), np.float32))
    elif kind == "truncated":
        _mrc(path, np.zeros((200, 200), np.float32))
        path.write_bytes(path.read_bytes()[:5000])
    elif kind == "complex":
        _mrc(path, np.zeros((64, 64), np.complex64))
    elif kind == "tiny":
        _mrc(path, np.zeros((8, 8), np.float32))
    else:
        path.write_bytes(b"\x00" * 1200)
    with pytest.raises(MicrographError) as error:
        read_micrograph(path)
    assert fragment in str(error.value) and "\n" not in str(error.value)
