"""Known-answer tests for core.statistics (distributions, SD, RMSE, chi-square) and
core.analysis.project_tables (counting a project's run at a threshold)."""

import math

import numpy as np
import pytest
import tifffile
from scipy.stats import chi2_contingency

from temnet_app.core.analysis import (compute_statistics, evaluate, load_statistics_input,
                                      project_statistics)
from temnet_app.core.analysis.statistics import (agreement_table, chi_square_test,
                                                 distribution_table, experiment_summary, format_p,
                                                 micrograph_table, percentages, rmse_pp)
from temnet_app.core.boxes import Box, Detection
from temnet_app.core.errors import ProjectError
from temnet_app.core.project import Project

NAMES = ("eccentric", "mature", "immature")


def row(exp, mid, source, ecc, mat, imm, file=None):
    return {"experiment": exp, "micrograph_id": mid, "file": file or f"m{mid}.tif",
            "source": source, "counts": {"eccentric": ecc, "mature": mat, "immature": imm}}


# ---------------------------------------------------------------- RMSE, chi-square
def test_rmse_by_hand():
    # differences (10, -10, 0) -> squares 100, 100, 0 -> mean 200/3 -> sqrt = 8.16497
    assert rmse_pp([50, 30, 20], [40, 40, 20]) == pytest.approx(math.sqrt(200 / 3), abs=1e-12)
    assert rmse_pp([50, 30, 20], [40, 40, 20]) == pytest.approx(8.16497, abs=1e-5)
    assert rmse_pp([0, 0, 100], [0, 0, 100]) == 0.0
    assert math.isnan(rmse_pp([np.nan] * 3, [40, 40, 20]))
    with pytest.raises(ValueError):
        rmse_pp([1, 2], [1, 2, 3])


def test_percentages():
    assert percentages([1, 3, 0]).tolist() == [25.0, 75.0, 0.0]
    assert np.isnan(percentages([0, 0, 0])).all()


def test_chi_square_2x3_by_hand_and_equal_to_scipy():
    # [[10, 20, 30], [20, 20, 20]]: column totals 30, 40, 50, rows 60 each, N = 120; expected
    # per row 15, 20, 25. chi2 = 2 * (25/15 + 0 + 25/25) = 16/3; dof 2; p = exp(-chi2 / 2).
    test = chi_square_test([10, 20, 30], [20, 20, 20], NAMES)
    assert test.statistic == pytest.approx(16 / 3, abs=1e-12)
    assert test.dof == 2 and test.classes == NAMES and not test.yates
    assert test.p_value == pytest.approx(math.exp(-8 / 3), abs=1e-12)
    assert test.note == ""
    direct = chi2_contingency(np.array([[10, 20, 30], [20, 20, 20]]), correction=False)
    assert test.p_value == pytest.approx(direct.pvalue, rel=1e-12)


def test_chi_square_equal_to_scipy_on_an_uneven_table():
    pred, manual = [30, 50, 20], [25, 60, 15]
    direct = chi2_contingency(np.array([pred, manual]), correction=False)
    test = chi_square_test(pred, manual, NAMES)
    assert test.statistic == pytest.approx(direct.statistic, rel=1e-12)
    assert test.p_value == pytest.approx(direct.pvalue, rel=1e-12)
    assert test.dof == direct.dof == 2


def test_chi_square_drops_a_class_zero_in_both_and_sets_correction_explicitly():
    # mature is 0 in both rows -> the 2 x 2 table [[10, 20], [20, 10]]: expected 15 everywhere,
    # chi2 = 4 * 5^2 / 15 = 20/3, dof 1, p = erfc(sqrt(chi2 / 2)).
    test = chi_square_test([10, 0, 20], [20, 0, 10], NAMES)
    assert test.classes == ("eccentric", "immature") and test.dof == 1
    assert test.statistic == pytest.approx(20 / 3, abs=1e-12)
    assert test.p_value == pytest.approx(math.erfc(math.sqrt(10 / 3)), abs=1e-12)
    # scipy's default would apply Yates to this 2 x 2 table: (5 - 0.5)^2 / 15 * 4 = 5.4
    assert chi2_contingency(np.array([[10, 20], [20, 10]])).statistic == pytest.approx(5.4)
    yates = chi_square_test([10, 0, 20], [20, 0, 10], NAMES, yates=True)
    assert yates.yates and yates.statistic == pytest.approx(5.4, abs=1e-12)
    # Yates is never applied to larger tables, even when asked
    assert not chi_square_test([10, 20, 30], [20, 20, 20], NAMES, yates=True).yates


def test_chi_square_undefined_cases_give_nan_with_a_reason():
    one = chi_square_test([0, 0, 12], [0, 0, 9], NAMES)
    assert math.isnan(one.p_value) and math.isnan(one.statistic)
    assert "only immature" in one.note and "identical" in one.note
    empty = chi_square_test([3, 4, 0], [0, 0, 0], NAMES)
    assert math.isnan(empty.p_value) and empty.note == "no manual virions"
    assert chi_square_test([0, 0, 0], [1, 2, 0], NAMES).note == "no predicted virions"
    small = chi_square_test([3, 1, 0], [1, 3, 0], NAMES)
    assert "expected count < 5" in small.note and not math.isnan(small.p_value)
    with pytest.raises(ValueError):
        chi_square_test([1, -1, 0], [1, 1, 1], NAMES)


def test_format_p():
    assert format_p(0.41912) == "0.419" and format_p(6.33e-4) == "6.33e-04"
    assert format_p(float("nan")) == "\u2013"


# ---------------------------------------------------------------- tables
def test_micrograph_table_counts_and_percentages():
    table = micrograph_table([row("A", 1, "predicted", 1, 3, 0), row("A", 2, "manual", 0, 0, 0),
                              {"experiment": "A", "micrograph_id": 3, "file": "c.tif",
                               "source": "manual", "n_mature": 2}], NAMES)
    assert table["total"].tolist() == [4, 0, 2]
    assert table.loc[0, ["pct_eccentric", "pct_mature", "pct_immature"]].tolist() == [25, 75, 0]
    assert table.loc[1, ["pct_eccentric", "pct_mature", "pct_immature"]].isna().all()
    assert table.loc[2, "n_mature"] == 2 and table.loc[2, "n_eccentric"] == 0
    assert table["n_mature"].dtype == np.int64
    with pytest.raises(ValueError, match="unknown class 'round'"):
        micrograph_table([{**row("A", 1, "manual", 0, 0, 0), "counts": {"round": 1}}], NAMES)
    with pytest.raises(ValueError, match="whole number"):
        micrograph_table([row("A", 1, "manual", -1, 0, 0)], NAMES)
    with pytest.raises(ValueError, match="source"):
        micrograph_table([row("A", 1, "guess", 1, 0, 0)], NAMES)


@pytest.fixture
def summary():
    rows = [row("A", 1, "predicted", 1, 3, 0), row("A", 2, "predicted", 2, 2, 0),
            row("A", 3, "predicted", 0, 0, 0), row("A", 4, "predicted", 6, 2, 0),
            row("A", 1, "manual", 2, 2, 0), row("A", 2, "manual", 2, 2, 0),
            row("B", 5, "predicted", 0, 5, 5)]
    return experiment_summary(micrograph_table(rows, NAMES), NAMES, experiments=["A", "B", "C"])


def test_summary_pooled_mean_and_sd_by_hand(summary):
    a = summary.set_index("experiment").loc["A"]
    # predicted: m1 (1, 3, 0), m2 (2, 2, 0), m3 empty, m4 (6, 2, 0): 16 virions, 4 micrographs
    assert a["pred_micrographs"] == 4 and a["pred_virions"] == 16
    # pooled (the paper's definition): eccentric 9/16, mature 7/16
    assert a["pred_pct_eccentric"] == pytest.approx(56.25)
    assert a["pred_pct_mature"] == pytest.approx(43.75) and a["pred_pct_immature"] == 0
    # per-micrograph eccentric 25, 50, 75 (m3 has no virion: left out) -> mean 50,
    # SD (ddof=1) = sqrt((25^2 + 0 + 25^2) / 2) = 25; mature 75, 50, 25 -> 50, 25
    assert a["pred_mean_pct_eccentric"] == pytest.approx(50.0)
    assert a["pred_sd_pct_eccentric"] == pytest.approx(25.0)
    assert a["pred_sd_pct_mature"] == pytest.approx(25.0)
    assert a["pred_sd_pct_immature"] == 0.0
    # manual: two identical micrographs (2, 2, 0) -> 50 / 50 / 0 with SD 0
    assert a["manual_micrographs"] == 2 and a["manual_virions"] == 8
    assert a["manual_pct_mature"] == 50.0 and a["manual_sd_pct_mature"] == 0.0


def test_agreement_uses_the_paired_micrographs(summary):
    a = summary.set_index("experiment").loc["A"]
    # paired m1, m2: predicted (3, 5, 0) -> 37.5 / 62.5 / 0, manual (4, 4, 0) -> 50 / 50 / 0;
    # RMSE = sqrt((12.5^2 + 12.5^2 + 0) / 3) = sqrt(104.1667) = 10.2062
    assert a["paired_micrographs"] == 2
    assert a["rmse_pp"] == pytest.approx(math.sqrt(312.5 / 3), abs=1e-12)
    direct = chi2_contingency(np.array([[3, 5], [4, 4]]), correction=False)  # immature dropped
    assert a["chi2"] == pytest.approx(direct.statistic) and a["chi2_dof"] == 1
    assert a["chi2_p"] == pytest.approx(direct.pvalue, rel=1e-12)
    assert "expected count < 5" in a["chi2_note"]


def test_experiments_without_manual_data_or_rows(summary):
    b = summary.set_index("experiment").loc["B"]
    assert b["pred_micrographs"] == 1 and b["pred_pct_mature"] == 50.0
    assert math.isnan(b["pred_sd_pct_mature"])  # a single micrograph: no SD
    assert b["manual_micrographs"] == 0 and math.isnan(b["manual_pct_mature"])
    assert math.isnan(b["rmse_pp"]) and math.isnan(b["chi2_p"])
    assert b["chi2_note"] == "no manual data" and math.isnan(b["precision_pct"])
    c = summary.set_index("experiment").loc["C"]
    assert c["pred_micrographs"] == 0 and c["pred_virions"] == 0
    assert math.isnan(c["pred_pct_eccentric"]) and math.isnan(c["rmse_pp"])
    assert list(summary["experiment"]) == ["A", "B", "C"]


def test_display_tables(summary):
    dist = distribution_table(summary, NAMES)
    assert len(dist) == 6 and list(dist.columns[:4]) == ["experiment", "source", "micrographs",
                                                          "virions"]
    assert dist.iloc[0]["eccentric %"] == 56.2  # 56.25 rounded half to even
    assert dist.iloc[0]["eccentric SD"] == 25.0 and dist.iloc[1]["source"] == "manual"
    agree = agreement_table(summary)
    assert agree.iloc[0]["RMSE (pp)"] == 10.21 and agree.iloc[1]["note"] == "no manual data"


def test_detection_metric_columns_in_percent():
    truth = {"m1": [Box(0, 0, 10, 10, 2), Box(20, 0, 30, 10, 2)]}
    pred = {"m1": [Detection(0, 0, 10, 10, 2, 0.9), Detection(50, 50, 60, 60, 2, 0.8)]}
    ev = evaluate(pred, truth, (1, 2, 3))  # 1 TP, 1 FP, 1 FN -> P = R = F1 = 50 %
    table = micrograph_table([row("A", 1, "predicted", 0, 2, 0)], NAMES)
    s = experiment_summary(table, NAMES, metrics={"A": (ev, 1)}).iloc[0]
    assert s["matched_micrographs"] == 1
    assert s["precision_pct"] == 50.0 and s["recall_pct"] == 50.0 and s["f1_pct"] == 50.0
    assert s["map_pct"] == pytest.approx(100 * ev.overall.map)


# ---------------------------------------------------------------- from a project
@pytest.fixture
def project(tmp_path):
    """Experiment WT: m0 manual boxes, m1 explicit counts (and boxes), m2 an empty box set;
    experiment KO: m3 without manual data. Run 1 stores detections for m0, m1, m3."""
    rng = np.random.default_rng(1)
    for exp, names in (("WT", ["m0", "m1", "m2"]), ("KO", ["m3"])):
        (tmp_path / exp).mkdir()
        for n in names:
            tifffile.imwrite(tmp_path / exp / f"{n}.tif",
                             rng.integers(60, 190, (48, 64), dtype=np.uint8))
    with Project.create(tmp_path / "p.temnet") as proj:
        m0, m1, m2 = proj.add_folder(tmp_path / "WT", magnification=30000).added
        (m3,) = proj.add_folder(tmp_path / "KO", magnification=25000).added
        proj.set_manual_boxes(m0.id, [Box(0, 0, 10, 10, 2), Box(20, 0, 30, 10, 3)])
        proj.set_manual_boxes(m1.id, [Box(0, 0, 10, 10, 2)])
        proj.set_manual_counts(m1.id, {"mature": 4, "eccentric": 1})  # wins over the boxes
        proj.set_manual_boxes(m2.id, [])
        run = proj.start_run("model-x", {"nms": 0.3}, score_floor=0.1)
        proj.store_detections(run.id, m0.id, [Detection(0, 0, 10, 10, 2, 0.9),
                                              Detection(20, 0, 30, 10, 1, 0.6),
                                              Detection(40, 20, 50, 30, 2, 0.3)])
        proj.store_detections(run.id, m1.id, [Detection(0, 0, 10, 10, 2, 0.95)])
        proj.store_detections(run.id, m3.id, [Detection(1, 1, 9, 9, 3, 0.7)])
        proj.finish_run(run.id, "complete")
        yield proj


def counts_of(stats, source):
    t = stats.per_micrograph[stats.per_micrograph["source"] == source]
    return {f: tuple(r) for f, r in zip(t["file"], t[["n_eccentric", "n_mature",
                                                      "n_immature"]].to_numpy())}


def test_project_counts_at_a_threshold(project):
    stats = project_statistics(project, threshold=0.5)
    assert stats.run.model_id == "model-x" and stats.notes == ()
    assert counts_of(stats, "predicted") == {"m0.tif": (1, 1, 0), "m1.tif": (0, 1, 0),
                                             "m3.tif": (0, 0, 1)}
    # explicit counts win over boxes; an empty box set counts as zero virions
    assert counts_of(stats, "manual") == {"m0.tif": (0, 1, 1), "m1.tif": (1, 4, 0),
                                          "m2.tif": (0, 0, 0)}
    mags = dict(zip(stats.per_micrograph["file"], stats.per_micrograph["magnification"]))
    assert mags["m0.tif"] == 30000 and mags["m3.tif"] == 25000
    wt = stats.per_experiment.set_index("experiment").loc["WT"]
    # paired m0, m1: predicted (1, 2, 0) vs manual (1, 5, 1)
    p, m = percentages([1, 2, 0]), percentages([1, 5, 1])
    assert wt["paired_micrographs"] == 2
    assert wt["rmse_pp"] == pytest.approx(rmse_pp(p, m), abs=1e-12)
    assert wt["chi2_p"] == pytest.approx(
        chi2_contingency(np.array([[1, 2, 0], [1, 5, 1]]), correction=False).pvalue)
    # metrics on m0 and m1 (manual boxes, detections): at 0.5, m0 has a TP mature (0.9) and an
    # FP eccentric (0.6) against mature + immature; m1 a TP mature: TP 2, FP 1, FN 1
    assert wt["matched_micrographs"] == 2
    assert wt["precision_pct"] == pytest.approx(200 / 3)
    assert wt["recall_pct"] == pytest.approx(200 / 3)
    ko = stats.per_experiment.set_index("experiment").loc["KO"]
    assert ko["chi2_note"] == "no manual data" and math.isnan(ko["precision_pct"])


def test_threshold_recounts_without_reloading_and_notes_the_floor(project):
    data = load_statistics_input(project)
    high = compute_statistics(data, 0.8)
    assert counts_of(high, "predicted")["m0.tif"] == (0, 1, 0)
    low = compute_statistics(data, 0.05)
    assert counts_of(low, "predicted")["m0.tif"] == (1, 2, 0)
    assert "below the run's score floor 0.1" in low.notes[0]
    scores, classes = data.scores()
    assert sorted(scores.tolist()) == [0.3, 0.6, 0.7, 0.9, 0.95] and len(classes) == 5
    with pytest.raises(ValueError):
        compute_statistics(data, 1.5)


def test_project_without_run_gives_manual_only(tmp_path, project):
    project.remove_run(project.runs()[0].id)
    stats = project_statistics(project)
    assert stats.run is None and stats.notes == ("no detection run: manual data only",)
    assert set(stats.per_micrograph["source"]) == {"manual"}
    assert math.isnan(stats.per_experiment.iloc[0]["rmse_pp"])
    with pytest.raises(ProjectError):
        project_statistics(project, run_id=99)
