"""core.reports (export, pdf): CSV exports (formula-injection escape, pandas round trip) and
the PDF report checked through its extracted text and a rendered page."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import tifffile
from pypdf import PdfReader

from temnet_app import __version__
from temnet_app.core.analysis import (MicrographInput, StatisticsInput, compute_statistics,
                                      project_statistics)
from temnet_app.core.boxes import DEFAULT_SCHEME, Box, Detection
from temnet_app.core.csv_files import escape_cell, escape_text_cells
from temnet_app.core.project import Project
from temnet_app.core.reports.export import (counts_table, detections_table, summary_table,
                                            write_csv, write_csv_reports, write_report)
from temnet_app.core.reports.pdf import write_pdf_report

EVIL = "=cmd|' /C calc'!A0.tif"  # the classic payload; "/" cannot be in a POSIX file name,
EVIL_FILE = "=cmd|' -C calc'!A0.tif"  # so the project's image file uses this one


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Experiment "+Ctrl" (2 micrographs, one named like a formula) with manual boxes and
    experiment "KO" (3 micrographs, no manual data); run 1 with detections for all five."""
    root = tmp_path_factory.mktemp("report")
    rng = np.random.default_rng(3)
    files = {"+Ctrl": [EVIL_FILE, "b.tif"], "KO": ["k1.tif", "k2.tif", "k3.tif"]}
    for exp, names in files.items():
        (root / exp).mkdir()
        for n in names:
            tifffile.imwrite(root / exp / n, rng.integers(40, 220, (120, 160), dtype=np.uint8))
    proj = Project.create(root / "lab study.temnet")
    run = proj.start_run("temnet-gn-test", {"nms_iou": 0.3, "window_px": 1024}, 0.05)
    for exp in files:
        added = proj.add_folder(root / exp, name=exp, magnification=30000).added
        for i, m in enumerate(added):
            dets = [Detection(-1.5, 2.0, 30.25, 40.0, 2, 0.91),
                    Detection(50, 50, 90, 95, 1 + i % 3, 0.75),
                    Detection(100, 10, 140, 50, 3, 0.4)]
            proj.store_detections(run.id, m.id, dets)
            if exp == "+Ctrl":
                proj.set_manual_boxes(m.id, [Box(0, 2, 30, 40, 2), Box(50, 50, 90, 95, 3)])
    proj.finish_run(run.id, "complete")
    yield proj
    proj.close()


@pytest.fixture(scope="module")
def stats(project):
    return project_statistics(project, threshold=0.5)


def test_escape_cell():
    for text in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", EVIL):
        assert escape_cell(text) == "'" + text
    for value in ("mature", "a=b", "", -1.5, 3, None):
        assert escape_cell(value) == value


def test_escape_text_cells_keeps_numeric_columns_numeric():
    table = pd.DataFrame({"name": ["-5", "ok", "=x"], "x1": [-1.5, 2.0, -3.0], "n": [1, -2, 3]})
    out = escape_text_cells(table)
    assert out["name"].tolist() == ["'-5", "ok", "'=x"]
    assert out["x1"].tolist() == [-1.5, 2.0, -3.0] and out["n"].dtype == np.int64
    assert table["name"].tolist() == ["-5", "ok", "=x"]  # the input is not modified


def test_detections_csv_is_escaped_and_round_trips(tmp_path, stats):
    table = detections_table(stats)
    # 5 micrographs x 2 detections with score >= 0.5
    assert len(table) == 10 and set(table["score"]) == {0.91, 0.75}
    assert set(table["model_id"]) == {"temnet-gn-test"} and set(table["threshold"]) == {0.5}
    assert set(table["magnification"]) == {30000.0}
    path = write_csv(table, tmp_path / "d.csv")
    text = path.read_text(encoding="utf-8")
    assert "'=cmd|' -C calc'!A0.tif" in text and "'+Ctrl" in text
    assert "\n=cmd" not in text and ",=cmd" not in text and ",+Ctrl" not in text
    back = pd.read_csv(path)
    assert back["file"].tolist()[0] == "'" + EVIL_FILE and back["experiment"][0] == "'+Ctrl"
    for column in ("x1", "y1", "x2", "y2", "score", "threshold", "magnification"):
        assert back[column].dtype == np.float64
        assert back[column].tolist() == table[column].tolist()  # exact, including -1.5
    assert back["x1"].min() == -1.5
    assert back["class"].tolist() == table["class"].tolist()


def test_the_classic_payload_file_name_is_escaped(tmp_path):
    scheme = DEFAULT_SCHEME
    m = MicrographInput("@exp", 1, 7, EVIL, 25000.0, True,
                        np.array([[-1.5, 2.0, 30.0, 40.0]]), np.array([2]), np.array([0.8]),
                        {"mature": 1}, None)
    stats = compute_statistics(StatisticsInput("x.temnet", scheme, None, ("@exp",), (m,)), 0.5)
    paths = write_csv_reports(stats, tmp_path, stem="t")
    for kind in ("detections", "micrograph_counts"):
        back = pd.read_csv(paths[kind])
        assert set(back["file"]) == {"'" + EVIL} and set(back["experiment"]) == {"'@exp"}
    back = pd.read_csv(paths["detections"])
    assert back["x1"].tolist() == [-1.5] and back["magnification"].tolist() == [25000.0]
    summary = pd.read_csv(paths["experiment_summary"])
    assert summary["rmse_pp"].tolist() == [0.0] and summary["experiment"].tolist() == ["'@exp"]


def test_counts_and_summary_csvs_round_trip(tmp_path, stats):
    paths = write_csv_reports(stats, tmp_path)
    assert sorted(p.name for p in paths.values()) == [
        "lab_study_detections.csv", "lab_study_experiment_summary.csv",
        "lab_study_micrograph_counts.csv"]
    counts = pd.read_csv(paths["micrograph_counts"])
    expected = counts_table(stats)
    assert counts["n_mature"].tolist() == expected["n_mature"].tolist()
    assert np.allclose(counts["pct_mature"], expected["pct_mature"], equal_nan=True, rtol=0,
                       atol=0)
    assert counts["file"].iloc[0] == "'" + EVIL_FILE
    summary = pd.read_csv(paths["experiment_summary"])
    wanted = summary_table(stats)
    for column in ("pred_virions", "pred_pct_mature", "pred_sd_pct_mature", "rmse_pp", "chi2_p",
                   "precision_pct", "run_id", "threshold"):
        assert np.array_equal(summary[column].to_numpy(float), wanted[column].to_numpy(float),
                              equal_nan=True), column
    assert summary["experiment"].tolist() == ["'+Ctrl", "KO"]
    assert summary["magnifications"].tolist() == [30000, 30000]
    assert not list(tmp_path.glob(".*.tmp"))


def pdf_text(path):
    return [page.extract_text() for page in PdfReader(path).pages]


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory, stats, project):
    return write_pdf_report(stats, tmp_path_factory.mktemp("pdf") / "r.pdf",
                            image_path=project.image_path, thumbnails_per_page=2,
                            created="2024-05-01T12:00:00+02:00")


def test_pdf_holds_the_tables_numbers(report_pdf, stats):
    pages = pdf_text(report_pdf)
    # 1 summary page, 3 figure pages, 5 micrographs at 2 per page -> 3 thumbnail pages
    assert len(pages) == 7
    first = pages[0]
    ctrl = stats.per_experiment.set_index("experiment").loc["+Ctrl"]
    assert f"{ctrl['rmse_pp']:.2f}" in first  # RMSE with 2 decimals
    p = ctrl["chi2_p"]
    assert (f"{p:.3f}" if p >= 0.001 else f"{p:.2e}") in first
    assert f"{ctrl['pred_pct_mature']:.1f} \u00b1 {ctrl['pred_sd_pct_mature']:.1f}" in first
    assert f"TEMNet Studio {__version__}" in first and "temnet-gn-test" in first
    assert "nms_iou=0.3" in first and "score >= 0.50" in first
    assert "lab study.temnet" in first
    assert ("Scale: 0.561 nm/px, 30,000x: 5 micrographs (pixel size: 30,000x experiment "
            "setting, at the reference calibration)") in first
    assert "2024-05-01T12:00:00+02:00" in first
    assert "no manual data" in first  # KO's footnote
    assert "Morphology distribution per experiment" in pages[1]
    assert "threshold 0.50: 10 of 15 kept" in pages[3]
    assert EVIL_FILE in "".join(pages[4:])  # thumbnail titles
    assert "predicted: eccentric 1, mature 1, immature 0" in pages[4]


def test_pdf_survives_a_missing_image_and_replaces_atomically(tmp_path, stats):
    target = tmp_path / "r.pdf"
    target.write_bytes(b"old")

    def missing(micrograph_id):
        raise FileNotFoundError(f"micrograph {micrograph_id} was moved")

    write_pdf_report(stats, target, image_path=missing)
    text = "".join(pdf_text(target)[4:])
    assert "image unavailable" in text and "was moved" in text
    assert target.read_bytes()[:5] == b"%PDF-"
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]


def test_write_report_returns_all_four_files(tmp_path, stats):
    paths = write_report(stats, tmp_path / "out")
    assert list(paths) == ["detections", "micrograph_counts", "experiment_summary", "pdf"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths.values())
    assert len(PdfReader(paths["pdf"]).pages) == 4  # no thumbnails without image_path


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_pdf_pages_render_with_poppler(tmp_path, report_pdf):
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "5", "-png", str(report_pdf),
                    str(tmp_path / "page")], check=True, timeout=120)
    for name in ("page-1.png", "page-2.png", "page-5.png"):  # tables, a figure, thumbnails
        grey = np.asarray(Image.open(tmp_path / name).convert("L"), dtype=np.float64)
        assert grey.shape[1] > grey.shape[0]  # A4 landscape
        assert (grey < 128).mean() > 0.002 and grey.mean() > 150  # ink on a white page


def test_many_experiments_spread_over_summary_pages_without_overflow(tmp_path):
    rng = np.random.default_rng(9)
    micrographs = []
    for e in range(13):
        for i in range(2):
            classes = rng.integers(1, 4, 12)
            micrographs.append(MicrographInput(
                f"Sample {e:02d}", e + 1, 2 * e + i, f"s{e}_{i}.tif", 30000.0, True,
                np.tile([0.0, 0.0, 10.0, 10.0], (12, 1)), classes, np.full(12, 0.9),
                {"mature": 5, "eccentric": 4} if e % 2 else None, None))
    names = tuple(f"Sample {e:02d}" for e in range(13))
    stats = compute_statistics(StatisticsInput("x.temnet", DEFAULT_SCHEME, None, names,
                                               tuple(micrographs)), 0.5)
    reader = PdfReader(write_pdf_report(stats, tmp_path / "r.pdf"))
    summary_pages = [p for p in reader.pages if "TEMNet Studio report" in p.extract_text()]
    assert len(summary_pages) >= 2
    seen, lowest = set(), []
    for page in summary_pages:
        def visit(text, cm, tm, font, size, page_seen=seen, lowest=lowest):
            if text.strip():
                lowest.append(tm[5] * cm[3] + cm[5])
                page_seen.update(n for n in names if n in text)
        page.extract_text(visitor_text=visit)
    assert seen == set(names)  # every experiment is in the tables
    assert min(lowest) > 10  # nothing below the page's bottom edge (points)


def test_settings_text_flattens_nested_settings():
    from temnet_app.core.reports.pdf import settings_text

    text = settings_text({"mode": "whole", "merge_iou": 0.3,
                          "config": {"classes": ["eccentric", "mature"],
                                     "anchor_scales": [64.0, 128.0], "backbone": "temnet-gn"}})
    assert text == ("config.anchor_scales=64/128, config.backbone=temnet-gn, "
                    "config.classes=eccentric/mature, merge_iou=0.3, mode=whole")
    assert settings_text({}) == ""
