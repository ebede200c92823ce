"""matplotlib figures of the statistics, shared by the GUI stats panel and the PDF report.

Every builder returns a :class:`matplotlib.figure.Figure` made without pyplot (no global
state, fine under Agg and inside a Qt canvas). Pass ``figure=`` to draw into an existing
figure (e.g. a FigureCanvasQTAgg's): it is cleared first. Class colours come from the
:class:`~temnet_app.core.boxes.ClassScheme` (mature yellow, immature blue, eccentric green).
"""

from __future__ import annotations

import math
import textwrap
from typing import Optional, Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from temnet_app.core.boxes import DEFAULT_SCHEME, ClassScheme
from temnet_app.core.reports.labels import elide_middle

A4_LANDSCAPE = (11.69, 8.27)
MANUAL_HATCH = "///"


def _figure(figure: Optional[Figure], figsize: tuple[float, float]) -> Figure:
    if figure is None:
        return Figure(figsize=figsize, layout="constrained")
    figure.clear()
    return figure


def lighter(colour: str, amount: float = 0.55) -> tuple[float, float, float]:
    """``colour`` mixed with white (``amount`` 0: unchanged, 1: white)."""
    rgb = np.array(to_rgb(colour))
    return tuple(rgb + (1.0 - rgb) * amount)


def darker(colour: str, amount: float = 0.35) -> tuple[float, float, float]:
    """``colour`` mixed with black."""
    return tuple(np.array(to_rgb(colour)) * (1.0 - amount))


def _num(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan
    return v


def morphology_figure(summary: pd.DataFrame, scheme: ClassScheme = DEFAULT_SCHEME, *,
                      title: Optional[str] = None, figure: Optional[Figure] = None,
                      figsize: tuple[float, float] = (10.0, 5.5)) -> Figure:
    """Per-experiment morphology histogram (paper Figures 7-8): for each experiment and class,
    the predicted percentage (solid) next to the manual one (lighter, hatched), with SD error
    bars over micrographs and "virions / micrographs*" above each group.

    ``summary`` is :func:`temnet_app.core.analysis.statistics.experiment_summary`. A source with no
    data in any experiment is left out (e.g. no manual counts, or no detection run).
    """
    fig = _figure(figure, figsize)
    ax = fig.add_subplot()
    names = scheme.names
    sources = [(p, label) for p, label in (("pred_", "predicted"), ("manual_", "manual"))
               if len(summary) and (summary[f"{p}micrographs"] > 0).any()]
    if summary.empty or not sources:
        ax.text(0.5, 0.5, "no counted virions", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    n_bars = len(names) * len(sources)
    width = 0.84 / n_bars
    x = np.arange(len(summary), dtype=np.float64)
    top = np.zeros(len(summary))
    for j, name in enumerate(names):
        colour = scheme.colour(scheme.id(name))
        for s, (prefix, label) in enumerate(sources):
            offset = (j * len(sources) + s + 0.5) * width - 0.42
            heights = summary[f"{prefix}pct_{name}"].map(_num).to_numpy()  # NaN: no bar
            errors = summary[f"{prefix}sd_pct_{name}"].map(_num).fillna(0.0).to_numpy()
            errors[np.isnan(heights)] = 0.0
            manual = prefix == "manual_"
            ax.bar(x + offset, heights, width * 0.95, yerr=errors, capsize=2.5,
                   color=lighter(colour) if manual else colour,
                   hatch=MANUAL_HATCH if manual else None, edgecolor=darker(colour),
                   linewidth=0.6, error_kw={"elinewidth": 0.8, "ecolor": "0.2"},
                   label=f"{name} ({label})")
            top = np.fmax(top, heights + errors)
    for i, (_, row) in enumerate(summary.iterrows()):
        lines = []
        for prefix, label in sources:
            n_mic = int(row[f"{prefix}micrographs"])
            if n_mic:
                tag = "P" if prefix == "pred_" else "M"
                lines.append(f"{tag}: {int(row[f'{prefix}virions'])} / {n_mic}*")
        ax.text(x[i], top[i] + 2.0, "\n".join(lines), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [textwrap.fill(str(n), 16) for n in summary["experiment"]])
    ax.set_xlim(-0.6, len(summary) - 0.4)
    ax.set_ylim(0, max(100.0, float(top.max()) + 6.0 + 4.0 * len(sources)) * 1.04)
    ax.set_ylabel("virions (%)")
    ax.grid(axis="y", color="0.9", zorder=0)
    ax.set_axisbelow(True)
    handles = [Patch(facecolor=scheme.colour(scheme.id(n)), edgecolor=darker(
        scheme.colour(scheme.id(n))), label=n) for n in names]
    if len(sources) == 2:
        handles += [Patch(facecolor="0.45", edgecolor="0.2", label="predicted"),
                    Patch(facecolor="0.85", edgecolor="0.2", hatch=MANUAL_HATCH,
                          label="manual")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
              fontsize=9)
    tags = ", ".join(f"{'P' if p == 'pred_' else 'M'} = {label}" for p, label in sources)
    ax.set_title(title or "Morphology distribution per experiment", fontsize=12)
    fig.supxlabel(f"Numbers over each group: virions / micrographs* ({tags}). "
                  "Error bars: SD of per-micrograph percentages (ddof = 1).", fontsize=8,
                  color="0.3")
    return fig


def micrograph_counts_figure(per_micrograph: pd.DataFrame, scheme: ClassScheme = DEFAULT_SCHEME,
                             *, source: str = "predicted", title: Optional[str] = None,
                             figure: Optional[Figure] = None,
                             figsize: tuple[float, float] = (10.0, 5.5)) -> Figure:
    """Stacked per-class counts for each micrograph of ``source``, grouped by experiment;
    a black tick marks the other source's total where it exists (e.g. the manual count).

    ``per_micrograph`` is :func:`temnet_app.core.analysis.statistics.micrograph_table` (or a slice).
    """
    fig = _figure(figure, figsize)
    ax = fig.add_subplot()
    rows = per_micrograph[per_micrograph["source"] == source].reset_index(drop=True)
    if rows.empty:
        ax.text(0.5, 0.5, f"no {source} counts", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    x = np.arange(len(rows))
    bottom = np.zeros(len(rows))
    for name in scheme.names:
        colour = scheme.colour(scheme.id(name))
        values = rows[f"n_{name}"].to_numpy(dtype=np.float64)
        ax.bar(x, values, 0.8, bottom=bottom, color=colour, edgecolor=darker(colour),
               linewidth=0.4, label=name)
        bottom += values
    other = "manual" if source == "predicted" else "predicted"
    others = per_micrograph[per_micrograph["source"] == other].set_index("micrograph_id")
    marks = rows["micrograph_id"].map(others["total"]) if len(others) else None
    if marks is not None and marks.notna().any():
        ax.scatter(x[marks.notna()], marks[marks.notna()], marker="_", s=160, color="black",
                   linewidths=2.0, zorder=3, label=f"{other} total")
    experiments = rows["experiment"].tolist()
    starts = [i for i in range(len(rows)) if i == 0 or experiments[i] != experiments[i - 1]]
    ymax = max(1.0, float(bottom.max()), float(marks.max()) if marks is not None and
               marks.notna().any() else 0.0) * 1.15
    for k, start in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else len(rows)
        if start:
            ax.axvline(start - 0.5, color="0.6", linestyle="--", linewidth=0.8)
        ax.text((start + stop - 1) / 2, ymax * 0.98, elide_middle(experiments[start], 28),
                ha="center", va="top", fontsize=8, fontweight="bold")
    fontsize = 8 if len(rows) <= 30 else (6 if len(rows) <= 60 else 4)
    ax.set_xticks(x, [elide_middle(f, 24) for f in rows["file"]], rotation=90,
                  fontsize=fontsize)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_ylim(0, ymax)
    ax.set_ylabel("virions per micrograph")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
    ax.set_title(title or f"{source.capitalize()} counts per micrograph", fontsize=12)
    return fig


def score_histogram_figure(scores: Sequence[float], class_ids: Sequence[int],
                           threshold: float, scheme: ClassScheme = DEFAULT_SCHEME, *,
                           floor: float = 0.0, bins: int = 20, title: Optional[str] = None,
                           figure: Optional[Figure] = None,
                           figsize: tuple[float, float] = (10.0, 4.5)) -> Figure:
    """Histogram of detection confidence scores, stacked by class, with the threshold as a
    vertical line and the number of detections kept (``score >= threshold``)."""
    fig = _figure(figure, figsize)
    ax = fig.add_subplot()
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    class_ids = np.asarray(class_ids, dtype=np.int64).reshape(-1)
    edges = np.linspace(0.0, 1.0, int(bins) + 1)
    data = [scores[class_ids == c] for c in scheme.ids]
    colours = [scheme.colour(c) for c in scheme.ids]
    if scores.size:
        ax.hist(data, bins=edges, stacked=True, color=colours, label=list(scheme.names),
                edgecolor="white", linewidth=0.5)
    else:
        ax.text(0.5, 0.5, "no stored detections", ha="center", va="center",
                transform=ax.transAxes)
    kept = int(np.count_nonzero(scores >= threshold))
    ax.axvline(threshold, color="crimson", linewidth=1.8,
               label=f"threshold {threshold:.2f}: {kept} of {scores.size} kept")
    if floor > 0:
        ax.axvspan(0.0, floor, color="0.92", zorder=0, label=f"below score floor {floor:g}")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("confidence score")
    ax.set_ylabel("detections")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
    ax.set_title(title or "Confidence scores of the stored detections", fontsize=12)
    return fig
