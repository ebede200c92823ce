"""core.plots: the figures show the statistics' numbers, in the class colours, without pyplot."""

import io
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from temnet_app.core.analysis.statistics import experiment_summary, micrograph_table
from temnet_app.core.boxes import DEFAULT_SCHEME
from temnet_app.core.reports.figures import (MANUAL_HATCH, micrograph_counts_figure,
                                             morphology_figure, score_histogram_figure)

NAMES = DEFAULT_SCHEME.names


def row(exp, mid, source, ecc, mat, imm):
    return {"experiment": exp, "micrograph_id": mid, "file": f"m{mid}.tif", "source": source,
            "counts": {"eccentric": ecc, "mature": mat, "immature": imm}}


@pytest.fixture
def per_micrograph():
    return micrograph_table([row("A", 1, "predicted", 1, 3, 0), row("A", 2, "predicted", 3, 1, 0),
                             row("A", 1, "manual", 2, 2, 0), row("B", 3, "predicted", 0, 0, 5),
                             row("B", 4, "predicted", 0, 1, 4)], NAMES)


def bars(fig):
    return {c.get_label(): c for c in fig.axes[0].containers if isinstance(c, BarContainer)}


def test_morphology_figure_bars_error_bars_colours_and_labels(per_micrograph):
    summary = experiment_summary(per_micrograph, NAMES)
    fig = morphology_figure(summary, DEFAULT_SCHEME)
    found = bars(fig)
    assert len(found) == 6  # 3 classes x (predicted, manual)
    mature = found["mature (predicted)"]
    # A: pooled mature 4/8 = 50 %; B: 1/10 = 10 %
    assert [p.get_height() for p in mature.patches] == pytest.approx([50.0, 10.0])
    assert mature.patches[0].get_facecolor()[:3] == pytest.approx(to_rgb("#f2c500"))
    # SD of per-micrograph mature %: A 75, 25 -> 35.355; B 0, 20 -> 14.142
    segments = mature.errorbar.lines[2][0].get_segments()
    half = [(s[1, 1] - s[0, 1]) / 2 for s in segments]
    assert half == pytest.approx([np.std([75, 25], ddof=1), np.std([0, 20], ddof=1)])
    manual = found["mature (manual)"]
    assert manual.patches[0].get_hatch() == MANUAL_HATCH
    # A's manual mature 2/4 = 50 %; B has no manual data: no bar (NaN height), no error bar
    assert manual.patches[0].get_height() == 50.0 and np.isnan(manual.patches[1].get_height())
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "P: 8 / 2*\nM: 4 / 1*" in texts and "P: 10 / 2*" in texts
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["A", "B"]


def test_morphology_figure_without_manual_data_draws_predicted_only(per_micrograph):
    summary = experiment_summary(per_micrograph[per_micrograph["source"] == "predicted"], NAMES)
    found = bars(morphology_figure(summary, DEFAULT_SCHEME))
    assert sorted(found) == ["eccentric (predicted)", "immature (predicted)",
                             "mature (predicted)"]


def test_builders_draw_into_a_given_figure(per_micrograph):
    fig = Figure()
    old = fig.add_subplot()
    same = morphology_figure(experiment_summary(per_micrograph, NAMES), figure=fig)
    assert same is fig and len(fig.axes) == 1 and fig.axes[0] is not old
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"


def test_micrograph_counts_figure_stacks_counts_and_marks_manual_totals(per_micrograph):
    fig = micrograph_counts_figure(per_micrograph, DEFAULT_SCHEME)
    ax = fig.axes[0]
    found = bars(fig)
    tops = np.zeros(4)
    for name in NAMES:
        tops = np.maximum(tops, [p.get_y() + p.get_height() for p in found[name].patches])
    assert tops.tolist() == [4, 4, 5, 5]  # totals of m1, m2, m3, m4
    (marks,) = ax.collections
    assert marks.get_offsets().tolist() == [[0.0, 4.0]]  # manual total of m1 at x = 0
    assert [t.get_text() for t in ax.get_xticklabels()] == ["m1.tif", "m2.tif", "m3.tif",
                                                            "m4.tif"]


def test_score_histogram_counts_and_threshold_line():
    scores = [0.05, 0.12, 0.48, 0.5, 0.51, 0.93, 0.97]
    classes = [1, 2, 3, 2, 2, 1, 3]
    fig = score_histogram_figure(scores, classes, 0.5, DEFAULT_SCHEME, floor=0.05, bins=10)
    ax = fig.axes[0]
    line = [ln for ln in ax.lines if ln.get_xdata()[0] == 0.5]
    assert line and "threshold 0.50: 4 of 7 kept" in line[0].get_label()
    heights = np.zeros(10)
    for patch in ax.patches:
        if patch.get_width() == pytest.approx(0.1):
            heights[int(round(patch.get_x() * 10))] += patch.get_height()
    # bins of width 0.1: 0.05 -> 0, 0.12 -> 1, 0.48 -> 4, 0.5 / 0.51 -> 5, 0.93 / 0.97 -> 9
    assert heights.tolist() == [1, 1, 0, 0, 1, 2, 0, 0, 0, 2]


def test_plots_do_not_use_pyplot():
    code = ("import sys; from temnet_app.core.reports import figures;"
            "from temnet_app.core.analysis import statistics;"
            "figures.score_histogram_figure([0.5], [1], 0.5).savefig(__import__('io').BytesIO());"
            "print('pyplot' if 'matplotlib.pyplot' in sys.modules else 'clean')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == "clean", out.stderr[-1000:]


def test_a_labs_own_classes_are_named_and_coloured_in_every_plot():
    from temnet_app.core.classes import ClassScheme

    lab = ClassScheme.parse("RiftValley:#e41a1c,Ebola,Marburg,Lassa:#000080")
    rows = [{"experiment": "A", "micrograph_id": 1, "file": "m1.tif", "source": s,
             "counts": dict(zip(lab.names, c))}
            for s, c in (("predicted", (1, 2, 3, 4)), ("manual", (2, 2, 2, 2)))]
    table = micrograph_table(rows, lab.names)
    morphology = morphology_figure(experiment_summary(table, lab.names), lab)
    found = bars(morphology)
    assert set(found) == {f"{n} ({s})" for n in lab.names for s in ("predicted", "manual")}
    assert found["RiftValley (predicted)"].patches[0].get_facecolor()[:3] == pytest.approx(
        to_rgb("#e41a1c"))
    legend = [t.get_text() for t in morphology.axes[0].get_legend().get_texts()]
    assert legend[:4] == ["RiftValley", "Ebola", "Marburg", "Lassa"]
    counts = micrograph_counts_figure(table, lab)
    stacked = bars(counts)
    assert set(lab.names) <= set(stacked) and stacked["Lassa"].patches[0].get_facecolor()[
        :3] == pytest.approx(to_rgb("#000080"))
    histogram = score_histogram_figure([0.9, 0.8, 0.7, 0.6], [1, 2, 3, 4], 0.5, lab)
    labels = [t.get_text() for t in histogram.axes[0].get_legend().get_texts()]
    assert all(any(n in label for label in labels) for n in lab.names), labels


def test_elide_middle_keeps_the_start_and_the_end():
    from temnet_app.core.reports.labels import elide_middle

    assert elide_middle("m1.tif", 24) == "m1.tif"
    assert elide_middle("sim_IN-N184L_3303_000.tif", 24) == "sim_IN-N184…3303_000.tif"
    assert elide_middle("sim_IN-N184L_3303_001.tif", 24) != elide_middle(
        "sim_IN-N184L_3303_000.tif", 24)
    assert len(elide_middle("x" * 100, 24)) == 24
    assert elide_middle("a  long\nexperiment name", 40) == "a long experiment name"
    assert elide_middle("abcdef", 1) == "…" and elide_middle("abcdef", 2) == "…f"
    with pytest.raises(ValueError):
        elide_middle("abc", 0)


def test_micrograph_labels_that_differ_only_at_the_end_stay_apart():
    # textwrap.shorten, used before, cut names without spaces to "sim_IN-[...]": three
    # micrographs of one experiment were labelled alike in the report
    files = [f"sim_IN-N184L_3303_00{i}.tif" for i in range(3)]
    table = micrograph_table([{"experiment": "IN N184L", "micrograph_id": i, "file": f,
                               "source": "predicted",
                               "counts": {"eccentric": 1, "mature": 1, "immature": 0}}
                              for i, f in enumerate(files)], NAMES)
    ax = micrograph_counts_figure(table, DEFAULT_SCHEME).axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["sim_IN-N184…3303_000.tif", "sim_IN-N184…3303_001.tif",
                      "sim_IN-N184…3303_002.tif"]
