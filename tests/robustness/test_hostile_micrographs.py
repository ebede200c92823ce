"""Hostile micrographs through the real ``temnet predict`` (the shipped model, loaded once for
the module): every bad file is named with its reason, the command ends with one clear line,
exit status 2 (nothing usable) or 1 (some files skipped), never a traceback; and the memory
bound of whole-micrograph inference (low magnification, huge images)."""

from __future__ import annotations

import csv
import io
import struct
import zlib

import numpy as np
import pytest
import tifffile
from hostile import assert_clear_error, assert_no_traceback, run_in_process

import temnet_app.jobs as jobs


@pytest.fixture(scope="module")
def shipped_detectors():
    cache = {}
    yield cache
    cache.clear()


@pytest.fixture(autouse=True)
def one_model_load(monkeypatch, shipped_detectors):
    """The real shipped detector, built once per mode for the whole module."""
    real = jobs.load_detector

    def cached(model=None, mode=None, flips=None):
        key = (str(model), mode, flips)
        if key not in shipped_detectors:
            shipped_detectors[key] = real(model, mode, flips)
        return shipped_detectors[key]

    monkeypatch.setattr(jobs, "load_detector", cached)


def _png(width, height) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels (with one empty data chunk)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b""))
            + chunk(b"IEND", b""))


def _grey(h=300, w=400, seed=0):
    return np.random.default_rng(seed).integers(90, 170, (h, w), dtype=np.uint8)


def _write(kind, folder):
    """Write one hostile file; returns (path, fragment of the reason that must be shown)."""
    p = folder / {"png": "x.png", "jpeg": "x.jpg"}.get(kind.split("_")[0], "x.tif")
    if kind == "empty":
        p.write_bytes(b"")
        return p, "empty (0 bytes)"
    if kind == "text":
        p.write_text("this is not an image\n")
        return p, "holds text"
    if kind == "random_bytes":
        p.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)))
        return p, "not a TIFF, PNG, JPEG or MRC"
    if kind == "truncated_tiff":
        tifffile.imwrite(p, _grey())
        p.write_bytes(p.read_bytes()[:4000])
        return p, "truncated"
    if kind == "tiff_header_only":
        p.write_bytes(b"II*\x00" + b"\x08\x00\x00\x00")
        return p, "x.tif"
    if kind == "tiff_oversized_header":
        tifffile.imwrite(p, _grey(32, 32))
        with tifffile.TiffFile(p) as tif:      # where the size tags keep their values
            tags = tif.pages[0].tags
            spots = [(tags[n].valueoffset, tags[n].dtype) for n in ("ImageWidth", "ImageLength")]
        data = bytearray(p.read_bytes())
        for offset, dtype in spots:             # claim 50,000 x 50,000 pixels
            fmt = "<H" if int(dtype) == 3 else "<I"
            data[offset:offset + struct.calcsize(fmt)] = struct.pack(fmt, 50_000)
        p.write_bytes(bytes(data))
        return p, "too large"
    if kind == "tiff_tiny":
        tifffile.imwrite(p, np.zeros((4, 4), np.uint8))
        return p, "at least 16 x 16"
    if kind == "tiff_volume":
        tifffile.imwrite(p, np.zeros((5, 64, 64), np.uint8))
        return p, "x.tif"
    if kind == "tiff_complex":
        tifffile.imwrite(p, np.zeros((32, 32), np.complex64))
        return p, "x.tif"
    if kind == "png_truncated":
        from PIL import Image

        Image.fromarray(_grey()).save(p)
        p.write_bytes(p.read_bytes()[:300])
        return p, "x.png"
    if kind == "png_oversized_header":
        p.write_bytes(_png(60_000, 60_000))
        return p, "too large"
    if kind == "png_zero_size":
        p.write_bytes(_png(0, 0))
        return p, "x.png"
    if kind == "jpeg_truncated":
        from PIL import Image

        Image.fromarray(_grey()).save(p, quality=90)
        p.write_bytes(p.read_bytes()[:500])
        return p, "x.jpg"
    if kind == "tiff_all_nan":
        tifffile.imwrite(p, np.full((300, 400), np.nan, np.float32))
        return p, "no finite pixel values"
    if kind == "jpeg_garbage":
        p.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 200)
        return p, "x.jpg"
    raise AssertionError(kind)


BAD_FILES = ["empty", "text", "random_bytes", "truncated_tiff", "tiff_header_only",
             "tiff_oversized_header", "tiff_tiny", "tiff_volume", "tiff_complex",
             "tiff_all_nan", "png_truncated", "png_oversized_header", "png_zero_size",
             "jpeg_truncated", "jpeg_garbage"]


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_micrograph_is_named_with_its_reason(kind, tmp_path, capsys):
    bad, reason = _write(kind, tmp_path)
    out = run_in_process(capsys, "predict", bad, "--out", tmp_path / "out")
    assert_clear_error(out, "predict", "none of the 1 file(s) could be analysed")
    skipped = [ln for ln in out.err.splitlines() if ln.startswith(f"skipped {bad.name}: ")]
    assert len(skipped) == 1 and reason in skipped[0], out.err
    assert not (tmp_path / "out" / "detections.csv").exists()


def test_bad_files_beside_good_ones_are_skipped_and_the_rest_written(tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    tifffile.imwrite(folder / "good.tif", _grey())
    (folder / "empty.tif").write_bytes(b"")
    (folder / "text.png").write_text("not a png")
    out = run_in_process(capsys, "predict", folder, "--out", tmp_path / "out")
    assert_no_traceback(out)
    assert out.code == 1 and "1 file(s)" in out.out
    assert {ln.split(":")[0] for ln in out.err.splitlines() if ln.startswith("skipped")} == \
        {"skipped empty.tif", "skipped text.png"}
    info = (tmp_path / "out" / "predict_info.json").read_text()
    assert "good.tif" in info and "empty.tif" in info


@pytest.mark.parametrize("values", ["nan_float", "inf_float", "uint16", "int32",
                                    "rgb", "rgba_png", "minisblack_float64", "mrc_float"])
def test_odd_but_valid_pixels_are_analysed(values, tmp_path, capsys):
    rng = np.random.default_rng(2)
    path = tmp_path / "odd.tif"
    if values == "nan_float":
        data = rng.normal(100, 10, (300, 400)).astype(np.float32)
        data[::7, ::5] = np.nan
    elif values == "inf_float":
        data = rng.normal(0, 1, (300, 400)).astype(np.float32)
        data[0, :10] = np.inf
        data[1, :10] = -np.inf
    elif values == "uint16":
        data = rng.integers(0, 65535, (300, 400)).astype(np.uint16)
    elif values == "int32":
        data = rng.integers(-2**31, 2**31 - 1, (300, 400)).astype(np.int32)
    elif values == "rgb":
        data = rng.integers(0, 255, (300, 400, 3)).astype(np.uint8)
    elif values == "minisblack_float64":
        data = rng.normal(0, 1e300, (300, 400))
    elif values == "mrc_float":
        import mrcfile

        path, data = tmp_path / "odd.mrc", None
        with mrcfile.new(path) as mrc:
            mrc.set_data(rng.normal(0, 1, (300, 400)).astype(np.float32))
            mrc.voxel_size = 5.61
    else:
        from PIL import Image

        path = tmp_path / "odd.png"
        Image.fromarray(rng.integers(0, 255, (300, 400, 4)).astype(np.uint8), "RGBA").save(path)
        data = None
    if data is not None:
        tifffile.imwrite(path, data)
    out = run_in_process(capsys, "predict", path, "--out", tmp_path / "out")
    assert_no_traceback(out)
    assert out.code == 0, out.err
    assert (tmp_path / "out" / "counts.csv").is_file()


def test_formula_like_file_names_are_escaped_in_every_csv(tmp_path, capsys):
    from temnet_app.simulator import preset_params, simulate

    name = '=HYPERLINK("http x").tif'
    # virions, so that detections.csv has rows whatever the shipped model makes of noise
    sim = simulate(preset_params("dataset", width=900, height=700, seed=41))
    assert len(sim.boxes) > 0
    tifffile.imwrite(tmp_path / name, sim.image)
    out = run_in_process(capsys, "predict", tmp_path / name, "--out", tmp_path / "out",
                         "--threshold", "0")
    assert out.code == 0, out.err
    for table in ("detections.csv", "counts.csv"):
        rows = list(csv.reader(io.StringIO((tmp_path / "out" / table).read_text())))
        cells = [row[0] for row in rows[1:]]
        assert cells and all(c == "'" + name for c in cells), (table, cells)
    from temnet_app.core.annotations import read_counts_csv

    assert list(read_counts_csv(tmp_path / "out" / "counts.csv")) == [name]   # read back


def test_low_magnification_label_runs_tiled_with_bounded_memory(tmp_path, capsys):
    """A 400 x 300 image labelled 1,000x: whole mode would need ~27 M network pixels
    (the original defect: segfault); it falls back to tiled windows and finishes."""
    path = tmp_path / "lowmag.tif"
    tifffile.imwrite(path, _grey(), description="Direct Mag: 1000x")
    detector = jobs.load_detector(None, None)
    mode, note = detector.plan(400, 300, 1000.0)
    assert mode == "tiled" and "tiled windows" in note
    assert detector.plan(4000, 2620, 30000.0) == ("whole", "")
    out = run_in_process(capsys, "predict", path, "--out", tmp_path / "out")
    assert out.code == 0 and "Traceback" not in out.err


def test_a_micrograph_needing_too_many_windows_is_refused_before_decoding(tmp_path, capsys):
    path = tmp_path / "wide.tif"
    tifffile.imwrite(path, np.full((3000, 3000), 128, np.uint8), compression="zlib")
    out = run_in_process(capsys, "predict", path, "--magnification", "1000", "--out",
                         tmp_path / "out")
    assert_clear_error(out, "predict", "could be analysed")
    assert "detection windows" in out.err and "check its magnification" in out.err


def test_symlinks_and_sub_folders_in_a_folder_are_reported(tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    tifffile.imwrite(folder / "a.tif", _grey())
    (folder / "sub").mkdir()
    (folder / "dangling.tif").symlink_to(tmp_path / "nowhere.tif")
    (folder / "loop.tif").symlink_to(folder / "loop.tif")
    out = run_in_process(capsys, "predict", folder, "--out", tmp_path / "out")
    assert out.code == 0, out.err
    ignored = {ln.split(": ", 1)[1] for ln in out.err.splitlines() if ln.startswith("ignored")}
    assert ignored == {"a symbolic link loop",
                       f"a dangling symbolic link (to {tmp_path / 'nowhere.tif'})",
                       "a sub-folder (folders are not searched recursively)"}
    direct = run_in_process(capsys, "predict", folder / "loop.tif", "--out", tmp_path / "o2")
    assert_clear_error(direct, "predict", "loop.tif is a symbolic link loop")


def test_a_project_run_skips_a_micrograph_it_cannot_analyse_and_goes_on(tmp_path, capsys):
    """`temnet detect`: a micrograph whose scale asks for too many windows is skipped with
    its reason; the others are stored and the run completes (it used to kill the run)."""
    from temnet_app.core.project import Project

    folder = tmp_path / "WT"
    folder.mkdir()
    tifffile.imwrite(folder / "a_good.tif", _grey())
    tifffile.imwrite(folder / "b_wrong_scale.tif", np.full((3000, 3000), 128, np.uint8),
                     compression="zlib")
    with Project.create(tmp_path / "p.temnet") as project:
        project.add_folder(folder)
        wrong = project.micrographs()[1]
        project.set_magnification_override(wrong.id, 1000.0)
    out = run_in_process(capsys, "detect", tmp_path / "p.temnet")
    assert_no_traceback(out)
    assert out.code == 1
    assert "skipped b_wrong_scale.tif: a 3000x3000 px micrograph at 16.8 nm/px" in out.err
    assert "run #1 complete: 1 micrograph(s) processed" in out.out
    with Project.open(tmp_path / "p.temnet") as project:
        assert project.run(1).status == "complete"


def test_merging_a_few_hundred_thousand_boxes_needs_no_square_matrix():
    """Tiled runs over large images merge ~10^5 boxes; an N x N IoU matrix (80 GB here) was
    the 19 GB peak of the low-magnification case. 600 clusters of 100 boxes -> 600 kept."""
    from temnet_app.core.box_math import nms

    rng = np.random.default_rng(0)
    centres = np.stack(np.meshgrid(np.arange(30) * 200.0, np.arange(20) * 200.0), -1)
    centres = centres.reshape(-1, 1, 2) + rng.uniform(-3, 3, (600, 100, 2))
    boxes = np.concatenate([centres - 40, centres + 40], axis=-1).reshape(-1, 4)
    scores = rng.uniform(0, 1, len(boxes))
    keep = nms(boxes, scores, 0.3)
    assert len(keep) == 600
    best = scores.reshape(600, 100).argmax(axis=1) + np.arange(600) * 100
    assert set(keep.tolist()) == set(best.tolist())
