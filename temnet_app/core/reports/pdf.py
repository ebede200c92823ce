"""The PDF report (matplotlib PdfPages, no pyplot), written to an atomic temp path.

Pages: (1) provenance (app version, model and run settings, threshold, magnifications, date,
project file), the morphology table and the agreement table (continued on further pages for
many experiments); (2) the figures of :mod:`temnet_app.core.reports.figures`; (3) micrograph
thumbnails with class-coloured boxes at the threshold, ``thumbnails_per_page`` to a page. One page
figure exists at a time and one micrograph image is decoded at a time, so memory stays bounded.
Fonts are embedded as TrueType (``pdf.fonttype`` 42) so the text can be searched and copied.
"""

from __future__ import annotations

import math
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional

import matplotlib
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from temnet_app import __version__
from temnet_app.core.analysis import MicrographInput, Statistics
from temnet_app.core.analysis import format_p as fmt_p
from temnet_app.core.analysis.statistics import format_number as fmt
from temnet_app.core.atomic import atomic_path
from temnet_app.core.errors import TemnetError
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress, scaled
from temnet_app.core.reports.figures import (A4_LANDSCAPE, micrograph_counts_figure,
                                             morphology_figure, score_histogram_figure)
from temnet_app.core.reports.labels import elide_middle

MICROGRAPHS_PER_COUNTS_PAGE = 40
THUMBNAIL_PX = 560
_GREY_HEADER = "#dfe5ec"


def scale_summary(stats: Statistics) -> list[str]:
    """One line per scale, e.g. ``0.561 nm/px, 30,000x: 12 micrographs (pixel size from
    30,000x from the file, at the reference calibration)``; the pixel size is what the
    detector used, the text in brackets where it came from."""
    counts: dict[tuple, int] = {}
    for m in stats.data.micrographs:
        key = (round(m.pixel_size_nm or 0.0, 4), m.magnification, m.scale)
        counts[key] = counts.get(key, 0) + 1
    lines = []
    for (size, mag, text), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][:2])):
        lines.append(f"{size:.3f} nm/px, {mag:,.0f}x: {n} micrograph{'s' if n != 1 else ''} "
                     f"(pixel size: {text or 'not recorded'})")
    return lines or ["none"]


def provenance_lines(stats: Statistics, created: Optional[str] = None) -> list[str]:
    """The provenance block of page 1, one string per line."""
    run = stats.run
    created = created or datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [f"Project file: {stats.data.project_path}",
             f"Report created: {created}    TEMNet Studio {__version__}"]
    if run is None:
        lines.append("Detection run: none (manual data only)")
    else:
        lines.append(f"Detection run #{run.id}: model {run.model_id}, status {run.status}, "
                     f"started {run.created}, score floor {run.score_floor:g}")
        wrapped = textwrap.wrap(f"Run settings: {settings_text(run.settings) or '(none)'}", 150)
        lines += wrapped[:6] + (["    ..."] if len(wrapped) > 6 else [])
    lines.append(f"Confidence threshold: score >= {stats.threshold:.2f}")
    scales = scale_summary(stats)
    lines += [f"Scale: {line}" for line in scales[:4]]
    if len(scales) > 4:
        lines.append(f"Scale: ... and {len(scales) - 4} more (see the micrograph counts CSV)")
    lines += [f"Note: {note}" for note in stats.notes]
    return lines


def settings_text(settings: dict, prefix: str = "") -> str:
    """Run settings as ``key=value`` pairs in key order; nested dicts flattened with dotted keys,
    lists joined by "/" (e.g. ``config.classes=eccentric/mature/immature``)."""
    parts = []
    for key, value in sorted(settings.items()):
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            nested = settings_text(value, f"{name}.")
            if nested:
                parts.append(nested)
        elif isinstance(value, (list, tuple)):
            parts.append(f"{name}={'/'.join(_setting_value(v) for v in value)}")
        else:
            parts.append(f"{name}={_setting_value(value)}")
    return ", ".join(parts)


def _setting_value(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def distribution_rows(stats: Statistics, experiments: list[str]) -> list[list[str]]:
    """Rows of the morphology table: per experiment and source, micrographs, virions and
    ``pct ± SD`` per class."""
    names = stats.scheme.names
    table = stats.per_experiment.set_index("experiment")
    rows = []
    for name in experiments:
        row = table.loc[name]
        for prefix, label in (("pred_", "predicted"), ("manual_", "manual")):
            if not row[f"{prefix}micrographs"]:
                rows.append([name, label, "0", "\u2013"] + ["\u2013"] * len(names))
                continue
            cells = [name, label, str(int(row[f"{prefix}micrographs"])),
                     str(int(row[f"{prefix}virions"]))]
            for c in names:
                sd = row[f"{prefix}sd_pct_{c}"]
                pct = fmt(row[f"{prefix}pct_{c}"])
                cells.append(pct if math.isnan(float(sd)) else f"{pct} \u00b1 {fmt(sd)}")
            rows.append(cells)
    return rows


def agreement_rows(stats: Statistics, experiments: list[str]) -> tuple[list[list[str]],
                                                                          list[str]]:
    """Rows of the agreement table and the distinct footnotes (why a p-value is undefined or
    approximate), numbered in order of first use and referenced from the p-value cells."""
    table = stats.per_experiment.set_index("experiment")
    rows, notes = [], []
    for name in experiments:
        row = table.loc[name]
        p = fmt_p(row["chi2_p"])
        if row["chi2_note"]:
            if row["chi2_note"] not in notes:
                notes.append(row["chi2_note"])
            p = f"{p} ({notes.index(row['chi2_note']) + 1})"
        rows.append([name, str(int(row["paired_micrographs"])), fmt(row["rmse_pp"], 2),
                     fmt(row["chi2"], 2), fmt(row["chi2_dof"], 0), p,
                     str(int(row["matched_micrographs"])), fmt(row["map_pct"]),
                     fmt(row["precision_pct"]), fmt(row["recall_pct"]), fmt(row["f1_pct"])])
    return rows, notes


def _draw_table(ax, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
    ax.set_axis_off()
    if not rows:
        ax.text(0, 0.5, "(no experiments)", fontsize=9)
        return
    total = sum(widths)
    table = ax.table(cellText=rows, colLabels=header, colWidths=[w / total for w in widths],
                     bbox=(0.0, 0.0, 1.0, 1.0), cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("0.75")
        cell.set_linewidth(0.5)
        if r == 0:
            cell.set_facecolor(_GREY_HEADER)
            cell.set_text_props(fontweight="bold")
        if c == 0:
            cell.set_text_props(ha="left")
            cell.PAD = 0.03


_ROW = 0.03  # table row height, fraction of the page
_LEGEND = ("RMSE: root mean square difference of the predicted and manual class percentages "
           "(percentage points). \u03c7\u00b2: Pearson's test on the 2 x k table of predicted vs "
           "manual counts (classes absent from both dropped; no continuity correction); "
           "p > 0.05: no significant difference. Paired: micrographs with both detections and "
           "manual counts. With boxes: those with manual boxes, used for mAP / precision / "
           "recall / F1.")


def _bottom(n_experiments: int, n_provenance: int, n_notes: int) -> float:
    """Where the text of a summary page ends (fraction of the page from the bottom)."""
    legend = len(textwrap.wrap(_LEGEND, 170))
    return (0.915 - 0.024 * n_provenance - 0.012 - 0.05 - (2 * n_experiments + 1) * _ROW
            - 0.035 - (n_experiments + 1) * _ROW - 0.02 * (legend + n_notes))


def _page_chunks(stats: Statistics, experiments: list[str], n_provenance: int) -> list[list]:
    """Split experiments into summary pages: as many per page as fit above the margin."""
    chunks, start = [], 0
    while start < len(experiments):
        take = 1
        for n in range(len(experiments) - start, 0, -1):
            notes = agreement_rows(stats, experiments[start:start + n])[1]
            if _bottom(n, n_provenance if not chunks else 0, len(notes)) >= 0.05:
                take = n
                break
        chunks.append(experiments[start:start + take])
        start += take
    return chunks or [[]]


def summary_pages(stats: Statistics, created: Optional[str] = None):
    """Yield the provenance + table pages (one Figure each)."""
    names = list(stats.scheme.names)
    experiments = list(stats.per_experiment["experiment"])
    provenance = provenance_lines(stats, created)
    for index, chunk in enumerate(_page_chunks(stats, experiments, len(provenance))):
        fig = Figure(figsize=A4_LANDSCAPE)
        title = "TEMNet Studio report" if index == 0 else "TEMNet Studio report (continued)"
        fig.text(0.04, 0.955, title, fontsize=16, fontweight="bold")
        y = 0.915
        for line in provenance if index == 0 else ():
            fig.text(0.04, y, line, fontsize=8.5)
            y -= 0.024
        y -= 0.012
        fig.text(0.04, y, "Morphology distribution (% of virions; \u00b1 SD over micrographs)",
                 fontsize=11, fontweight="bold")
        dist = distribution_rows(stats, chunk)
        height = _ROW * (len(dist) + 1)
        _draw_table(fig.add_axes((0.04, y - 0.012 - height, 0.92, height)),
                    ["Experiment", "Source", "Micrographs", "Virions"]
                    + [f"{n} %" for n in names], dist,
                    [0.28, 0.1, 0.1, 0.08] + [0.44 / max(1, len(names))] * len(names))
        y = y - 0.05 - height
        fig.text(0.04, y, "Agreement with manual counts (paired micrographs) and detection "
                 "metrics (IoU > 0.5)", fontsize=11, fontweight="bold")
        agree, notes = agreement_rows(stats, chunk)
        height = _ROW * (len(agree) + 1)
        _draw_table(fig.add_axes((0.04, y - 0.012 - height, 0.92, height)),
                    ["Experiment", "Paired", "RMSE (pp)", "\u03c7\u00b2", "dof", "p-value",
                     "With boxes", "mAP %", "Precision %", "Recall %", "F1 %"], agree,
                    [0.24, 0.06, 0.08, 0.07, 0.04, 0.17, 0.07, 0.065, 0.075, 0.065, 0.065])
        y = y - 0.035 - height
        for line in textwrap.wrap(_LEGEND, 170) + [f"({i}) {n}" for i, n in
                                                   enumerate(notes, start=1)]:
            fig.text(0.04, y, line, fontsize=7.5, color="0.25")
            y -= 0.02
        fig.text(0.96, 0.02, f"page {index + 1}", fontsize=7, ha="right", color="0.4")
        yield fig


def figure_pages(stats: Statistics):
    """Yield the figure pages: morphology histogram, counts per micrograph, scores."""
    scheme = stats.scheme
    yield morphology_figure(stats.per_experiment, scheme, figsize=A4_LANDSCAPE,
                            title=f"Morphology distribution per experiment (confidence >= "
                                  f"{stats.threshold:.2f})")
    source = "predicted" if stats.run is not None else "manual"
    rows = stats.per_micrograph[stats.per_micrograph["source"] == source]
    ids = list(dict.fromkeys(rows["micrograph_id"]))
    for start in range(0, len(ids), MICROGRAPHS_PER_COUNTS_PAGE):
        chunk = set(ids[start:start + MICROGRAPHS_PER_COUNTS_PAGE])
        part = stats.per_micrograph[stats.per_micrograph["micrograph_id"].isin(chunk)]
        suffix = f" ({start + 1}-{start + len(chunk)} of {len(ids)})" \
            if len(ids) > MICROGRAPHS_PER_COUNTS_PAGE else ""
        yield micrograph_counts_figure(part, scheme, source=source, figsize=A4_LANDSCAPE,
                                       title=f"{source.capitalize()} counts per micrograph"
                                             f"{suffix}")
    if stats.run is not None:
        scores, classes = stats.data.scores()
        yield score_histogram_figure(scores, classes, stats.threshold, scheme,
                                     floor=stats.run.score_floor, figsize=A4_LANDSCAPE)


def load_thumbnail(path: Path, max_px: int = THUMBNAIL_PX) -> tuple[np.ndarray, int, int]:
    """``(small uint8 image, full width, full height)`` of a micrograph (band cropped, as the
    app uses it); the full image is dropped as soon as it is reduced."""
    from temnet_app.core.micrographs import read_micrograph

    pixels = read_micrograph(path).pixels
    height, width = pixels.shape
    image = Image.fromarray(pixels)
    del pixels
    image.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    return np.asarray(image), width, height


def _count_text(counts: dict[str, int], scheme) -> str:
    return ", ".join(f"{n} {counts.get(n, 0)}" for n in scheme.names)


def _thumbnail_panel(ax, stats: Statistics, m: MicrographInput,
                     image_path: Callable[[int], Path]) -> None:
    scheme = stats.scheme
    keep = m.pred_score >= stats.threshold if m.detected else np.zeros(0, dtype=bool)
    kept_ids = m.pred_class[keep] if m.detected else np.zeros(0, dtype=np.int64)
    counts = {n: int(np.count_nonzero(kept_ids == i)) for i, n in zip(scheme.ids, scheme.names)}
    title = [f"{elide_middle(m.experiment, 24)} / {elide_middle(m.file, 60)}"]
    if m.detected:
        title.append(f"predicted: {_count_text(counts, scheme)}")
    if m.manual_counts is not None:
        title.append(f"manual: {_count_text(m.manual_counts, scheme)}")
    ax.set_title("\n".join(title), fontsize=7, loc="left")
    ax.set_xticks([])
    ax.set_yticks([])
    try:
        small, width, height = load_thumbnail(image_path(m.micrograph_id))
    except (TemnetError, OSError) as exc:
        ax.text(0.5, 0.5, textwrap.fill(f"image unavailable: {exc}", 45), ha="center",
                va="center", fontsize=7, transform=ax.transAxes, color="crimson")
        return
    ax.imshow(small, cmap="gray", vmin=0, vmax=255, extent=(0, width, height, 0),
              interpolation="antialiased")
    for (x1, y1, x2, y2), c in zip(m.pred_xyxy[keep], kept_ids):
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, linewidth=0.9,
                               edgecolor=scheme.colour(int(c))))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)


def thumbnail_pages(stats: Statistics, image_path: Callable[[int], Path],
                    per_page: int = 6, cancel: Optional[CancelToken] = None,
                    progress: Optional[ProgressFn] = None):
    """Yield pages of ``per_page`` micrograph thumbnails (2 rows) with boxes at the threshold."""
    progress = progress or no_progress
    shown = [m for m in stats.data.micrographs if m.detected or m.manual_counts is not None]
    cols = max(1, math.ceil(per_page / 2))
    for start in range(0, len(shown), per_page):
        check_cancel(cancel)
        progress(start / max(1, len(shown)), f"thumbnails {start + 1}-"
                                              f"{min(len(shown), start + per_page)}")
        fig = Figure(figsize=A4_LANDSCAPE, layout="constrained")
        axes = fig.subplots(2, cols, squeeze=False).ravel()
        for ax, m in zip(axes, shown[start:start + per_page]):
            _thumbnail_panel(ax, stats, m, image_path)
        for ax in axes[len(shown[start:start + per_page]):]:
            ax.set_axis_off()
        fig.suptitle(f"Micrographs with detections at confidence >= {stats.threshold:.2f}",
                     fontsize=11)
        yield fig


def write_pdf_report(stats: Statistics, path, *,
                     image_path: Optional[Callable[[int], Path]] = None,
                     thumbnails_per_page: int = 6, created: Optional[str] = None,
                     progress: Optional[ProgressFn] = None,
                     cancel: Optional[CancelToken] = None) -> Path:
    """Write the PDF report to ``path`` atomically; thumbnails only when ``image_path`` (a
    micrograph id -> image file function, e.g. ``project.image_path``) is given."""
    path = Path(path)
    progress = progress or no_progress
    with matplotlib.rc_context({"pdf.fonttype": 42, "savefig.dpi": 150}):
        with atomic_path(path) as tmp:
            with PdfPages(tmp, metadata={"Title": "TEMNet Studio report",
                                         "Creator": f"TEMNet Studio {__version__}"}) as pdf:
                progress(0.0, "summary pages")
                for page in summary_pages(stats, created):
                    pdf.savefig(page)
                    page.clear()
                check_cancel(cancel)
                progress(0.1, "figures")
                for page in figure_pages(stats):
                    pdf.savefig(page)
                    page.clear()
                if image_path is not None:
                    for page in thumbnail_pages(stats, image_path, thumbnails_per_page,
                                                cancel, scaled(progress, 0.2, 1.0)):
                        pdf.savefig(page)
                        page.clear()
    progress(1.0, f"wrote {path.name}")
    return path
