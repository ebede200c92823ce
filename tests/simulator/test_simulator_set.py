"""simulate_set: TIFF files with magnification metadata plus one VIA CSV that reads back."""

import numpy as np
import pytest
import tifffile

from temnet_app.core.annotations import read_via_csv
from temnet_app.core.errors import Cancelled, TemnetError
from temnet_app.core.micrographs import read_micrograph
from temnet_app.core.progress import CancelToken
from temnet_app.simulator.simulate import (derived_seed, preset_params, simulate, simulate_set,
                                           tiff_description)

SMALL = dict(width=700, height=520)


def test_set_writes_tiffs_and_one_via_csv_that_read_back_exactly(tmp_path):
    messages = []
    paths = simulate_set(tmp_path / "set", 3, "IN-D116N", 30000.0, 42, info_band=True,
                         density=40.0, progress=lambda f, m: messages.append((f, m)), **SMALL)
    names = [p.name for p in paths]
    assert names == [f"sim_IN-D116N_42_{i:03d}.tif" for i in range(3)]
    labels = read_via_csv(tmp_path / "set" / "annotations.csv")
    assert set(labels) == set(names)
    assert messages[-1][0] == 1.0 and [m[0] for m in messages] == sorted(m[0] for m in messages)
    for i, path in enumerate(paths):
        expected = simulate(preset_params("IN-D116N", seed=derived_seed(42, i), info_band=True,
                                          density=40.0, file_name=path.name, **SMALL))
        assert labels[path.name] == expected.boxes
        loaded = read_micrograph(path)
        assert loaded.info.magnification == pytest.approx(30000.0)
        assert loaded.info.pixel_size_nm == pytest.approx(0.561)
        assert abs(loaded.info.band_rows - (520 - expected.band_top)) <= 2
        rows = loaded.pixels.shape[0]
        np.testing.assert_array_equal(loaded.pixels, expected.image[:rows])
        assert all(b.y2 <= rows for b in labels[path.name])
    assert sum(len(v) for v in labels.values()) >= 3


def test_tiff_metadata_states_magnification_and_pixel_size(tmp_path):
    (path,) = simulate_set(tmp_path, 1, "WT", 20000.0, 1, **SMALL)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        assert page.dtype == np.uint8 and page.shape == (520, 700)
        assert page.description == tiff_description(20000.0)
        assert "Direct Mag: 20000x" in page.description
        assert "Cal: 0.8415 nm/pix" in page.description
        assert page.tags["ResolutionUnit"].value == 3  # centimetre
        x_res = page.tags["XResolution"].value
        assert x_res[0] / x_res[1] == pytest.approx(1e7 / 0.8415, rel=1e-6)
    info = read_micrograph(path).info
    assert info.magnification == pytest.approx(20000.0)
    assert info.pixel_size_nm == pytest.approx(0.8415, rel=1e-3)


def test_sets_are_reproducible_and_grow_without_changing_earlier_images(tmp_path):
    a = simulate_set(tmp_path / "a", 1, "PR-D25A", 30000.0, 5, **SMALL)
    b = simulate_set(tmp_path / "b", 2, "PR-D25A", 30000.0, 5, **SMALL)
    assert a[0].read_bytes() == b[0].read_bytes()
    assert b[0].read_bytes() != b[1].read_bytes()


def test_bad_set_arguments_and_cancel(tmp_path):
    with pytest.raises(TemnetError, match="unknown simulator preset"):
        simulate_set(tmp_path, 1, "XX", 30000.0, 0)
    with pytest.raises(TemnetError, match="at least 1"):
        simulate_set(tmp_path, 0, "WT", 30000.0, 0)
    with pytest.raises(TemnetError, match="magnification"):
        simulate_set(tmp_path, 1, "WT", 5.0, 0)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        simulate_set(tmp_path / "c", 2, "WT", 30000.0, 0, cancel=token, **SMALL)
    assert not (tmp_path / "c" / "annotations.csv").exists()
