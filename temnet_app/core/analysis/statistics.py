"""Morphology statistics of the TEMNet paper (section 3.3, Figures 7-8, Tables 3-6) as tidy
pandas tables.

Definitions (percentages are 0-100):

- Per micrograph and source ("predicted" or "manual"): count per class, ``total``, and
  ``pct_<class>`` = 100 * count / total (NaN when the micrograph has no virion).
- Distribution of an experiment (the paper's definition): ``pct_<class>`` = 100 * class count
  / all virions counted in the experiment's micrographs (counts pooled, not averaged).
  ``mean_pct_<class>`` is the plain mean of the per-micrograph percentages, and
  ``sd_pct_<class>`` their sample standard deviation (``ddof=1``; the error bars of the paper's
  figures) over the experiment's micrographs holding at least one virion; NaN with fewer than
  two such micrographs.
- Agreement of predicted with manual counts, on the micrographs having both ("paired"):
  ``rmse_pp`` = sqrt(mean over ALL classes of the scheme of (p_pred - p_manual)^2), in
  percentage points, from the pooled distributions of the paired micrographs;
  Pearson's chi-square test of homogeneity (:func:`chi_square_test`) on the 2 x k table of
  pooled predicted and manual COUNTS: it asks whether both count vectors could come from the
  same class distribution (p > 0.05: no significant difference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

SOURCES = ("predicted", "manual")
ID_COLUMNS = ("experiment", "experiment_id", "micrograph_id", "file", "magnification",
              "pixel_size_nm", "scale", "source")
SUMMARY_PREFIX = {"predicted": "pred_", "manual": "manual_"}


def count_column(name: str) -> str:
    return f"n_{name}"


def pct_column(name: str) -> str:
    return f"pct_{name}"


def percentages(counts: Sequence[float]) -> np.ndarray:
    """100 * counts / sum(counts); all NaN when the sum is 0."""
    c = np.asarray(counts, dtype=np.float64).reshape(-1)
    total = c.sum()
    return c * (100.0 / total) if total > 0 else np.full(c.shape, np.nan)


def rmse_pp(pred_pct: Sequence[float], manual_pct: Sequence[float]) -> float:
    """Root mean square difference of two distributions in percentage points,
    sqrt(mean_k (p_pred_k - p_manual_k)^2); NaN when either is undefined."""
    a = np.asarray(pred_pct, dtype=np.float64).reshape(-1)
    b = np.asarray(manual_pct, dtype=np.float64).reshape(-1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"distributions must have the same, non-zero length: {a.size} vs {b.size}")
    if np.isnan(a).any() or np.isnan(b).any():
        return math.nan
    return float(np.sqrt(np.mean((a - b) ** 2)))


@dataclass(frozen=True)
class ChiSquare:
    """Result of :func:`chi_square_test`. ``classes`` are the classes kept in the table;
    ``note`` says why the p-value is NaN, or warns when an expected count is below 5 (the
    chi-square approximation is then rough)."""

    statistic: float
    dof: int
    p_value: float
    classes: tuple[str, ...]
    yates: bool
    note: str = ""


def chi_square_test(pred_counts: Sequence[int], manual_counts: Sequence[int],
                    class_names: Optional[Sequence[str]] = None,
                    yates: bool = False) -> ChiSquare:
    """Pearson's chi-square test of homogeneity on the 2 x k table [pred_counts; manual_counts]
    (:func:`scipy.stats.chi2_contingency`).

    Classes that are zero in both rows are dropped (they carry no information and would make
    an expected count zero). The p-value is NaN, with a reason in ``note``, when a row is
    empty or fewer than two classes remain (then both distributions are 100% one class: they
    are identical, the paper prints p = 1.00 for such samples, but no test is defined).
    scipy applies Yates' continuity correction only to 2 x 2 tables and by default; here it
    is set explicitly: ``correction = yates and k == 2`` (off unless asked, so the statistic is
    Pearson's for every k).
    """
    pred = np.asarray(pred_counts, dtype=np.float64).reshape(-1)
    manual = np.asarray(manual_counts, dtype=np.float64).reshape(-1)
    names = tuple(class_names) if class_names is not None else tuple(
        str(i + 1) for i in range(pred.size))
    if pred.shape != manual.shape or pred.size != len(names):
        raise ValueError(f"count vectors and class names differ in length: {pred.size}, "
                         f"{manual.size}, {len(names)}")
    if (pred < 0).any() or (manual < 0).any():
        raise ValueError("counts must be >= 0")
    keep = (pred + manual) > 0
    kept = tuple(n for n, k in zip(names, keep) if k)
    if pred.sum() == 0 or manual.sum() == 0:
        empty = "predicted" if pred.sum() == 0 else "manual"
        return ChiSquare(math.nan, 0, math.nan, kept, False, f"no {empty} virions")
    if keep.sum() < 2:
        return ChiSquare(math.nan, 0, math.nan, kept, False,
                         f"only {kept[0]} present in both: identical distributions, no test")
    from scipy.stats import chi2_contingency  # scipy.stats takes a second to import: on use

    table = np.vstack([pred[keep], manual[keep]])
    correction = bool(yates and table.shape[1] == 2)
    result = chi2_contingency(table, correction=correction)
    note = "expected count < 5: approximate" if (result.expected_freq < 5).any() else ""
    return ChiSquare(float(result.statistic), int(result.dof), float(result.pvalue), kept,
                     correction, note)


def _counts_of(row: Mapping, class_names: Sequence[str]) -> list[int]:
    counts = row.get("counts")
    if counts is None:
        counts = {n: row.get(count_column(n), 0) for n in class_names}
    unknown = set(counts) - set(class_names)
    if unknown:
        raise ValueError(f"unknown class {sorted(unknown)[0]!r} in the counts of "
                         f"{row.get('file', row.get('micrograph_id'))}")
    out = []
    for n in class_names:
        value = counts.get(n, 0)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            value = 0
        if float(value) < 0 or not float(value).is_integer():
            raise ValueError(f"count of {n} must be a whole number >= 0, got {value!r}")
        out.append(int(value))
    return out


def micrograph_table(rows: Iterable[Mapping] | pd.DataFrame,
                     class_names: Sequence[str]) -> pd.DataFrame:
    """The per-micrograph table: one row per micrograph and source.

    Each input row gives ``experiment``, ``micrograph_id``, ``file``, ``source`` ("predicted"
    or "manual") and its counts, either as ``counts`` (class name -> count) or as
    ``n_<class>`` columns; ``experiment_id``, ``magnification``, ``pixel_size_nm`` and
    ``scale`` (where the pixel size came from) are optional. Output
    columns: ID_COLUMNS, ``n_<class>``..., ``total``, ``pct_<class>``... (NaN for 0 virions).
    """
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)
    names = list(class_names)
    out = []
    for row in records:
        source = row.get("source")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        counts = _counts_of(row, names)
        record = {"experiment": str(row["experiment"]),
                  "experiment_id": row.get("experiment_id"),
                  "micrograph_id": row["micrograph_id"], "file": str(row.get("file", "")),
                  "magnification": row.get("magnification"),
                  "pixel_size_nm": row.get("pixel_size_nm"), "scale": row.get("scale") or "",
                  "source": source}
        record.update({count_column(n): c for n, c in zip(names, counts)})
        record["total"] = sum(counts)
        record.update({pct_column(n): p for n, p in zip(names, percentages(counts))})
        out.append(record)
    columns = [*ID_COLUMNS, *map(count_column, names), "total", *map(pct_column, names)]
    table = pd.DataFrame(out, columns=columns)
    for col in [*map(count_column, names), "total"]:
        table[col] = table[col].astype(np.int64)
    for col in map(pct_column, names):
        table[col] = table[col].astype(np.float64)
    table["magnification"] = pd.to_numeric(table["magnification"], errors="coerce")
    table["pixel_size_nm"] = pd.to_numeric(table["pixel_size_nm"], errors="coerce")
    return table


def _distribution(rows: pd.DataFrame, names: Sequence[str], prefix: str) -> dict:
    """Pooled / mean / SD distribution of one experiment and source (see module doc)."""
    counts = rows[[count_column(n) for n in names]].sum().to_numpy(dtype=np.float64)
    pooled = percentages(counts)
    with_virions = rows[rows["total"] > 0]
    out = {f"{prefix}micrographs": int(len(rows)), f"{prefix}virions": int(counts.sum())}
    for n, c in zip(names, counts):
        out[f"{prefix}n_{n}"] = int(c)
    for n, p in zip(names, pooled):
        out[f"{prefix}pct_{n}"] = float(p)
    for n in names:
        values = with_virions[pct_column(n)]
        out[f"{prefix}mean_pct_{n}"] = float(values.mean()) if len(values) else math.nan
        out[f"{prefix}sd_pct_{n}"] = float(values.std(ddof=1)) if len(values) > 1 else math.nan
    return out


def summary_columns(class_names: Sequence[str]) -> list[str]:
    """Column order of :func:`experiment_summary`."""
    cols = ["experiment", "experiment_id"]
    for prefix in SUMMARY_PREFIX.values():
        cols += [f"{prefix}micrographs", f"{prefix}virions"]
        for kind in ("n_", "pct_", "mean_pct_", "sd_pct_"):
            cols += [f"{prefix}{kind}{n}" for n in class_names]
    cols += ["paired_micrographs", "rmse_pp", "chi2", "chi2_dof", "chi2_p", "chi2_note",
             "matched_micrographs", "map_pct", "precision_pct", "recall_pct", "f1_pct"]
    return cols


def experiment_summary(per_micrograph: pd.DataFrame, class_names: Sequence[str], *,
                       experiments: Optional[Sequence[str]] = None,
                       metrics: Optional[Mapping[str, tuple[object, int]]] = None,
                       yates: bool = False) -> pd.DataFrame:
    """One row per experiment: predicted (``pred_``) and manual (``manual_``) distributions,
    agreement (``rmse_pp``, ``chi2``, ``chi2_dof``, ``chi2_p``, ``chi2_note``) on the paired
    micrographs, and detection metrics in percent from ``metrics`` (experiment name ->
    ``(Evaluation, number of micrographs evaluated)``, see :mod:`temnet_app.core.analysis.metrics`;
    NaN where absent).

    ``per_micrograph`` is a :func:`micrograph_table`. ``experiments`` fixes the order and
    lists experiments to include even without rows; by default, order of first appearance.
    Experiments without manual data get NaN agreement columns (not an error).
    """
    names = list(class_names)
    table = per_micrograph
    order = list(experiments) if experiments is not None else list(
        dict.fromkeys(table["experiment"]))
    rows = []
    for name in order:
        mine = table[table["experiment"] == name]
        ids = mine["experiment_id"].dropna()
        row = {"experiment": name, "experiment_id": ids.iloc[0] if len(ids) else None}
        by_source = {s: mine[mine["source"] == s] for s in SOURCES}
        for source, prefix in SUMMARY_PREFIX.items():
            row.update(_distribution(by_source[source], names, prefix))
        row.update(_agreement(by_source["predicted"], by_source["manual"], names, yates))
        row.update(_metric_columns(*(metrics.get(name, (None, 0)) if metrics else (None, 0))))
        rows.append(row)
    return pd.DataFrame(rows, columns=summary_columns(names))


def _agreement(pred: pd.DataFrame, manual: pd.DataFrame, names: Sequence[str],
               yates: bool) -> dict:
    paired = sorted(set(pred["micrograph_id"]) & set(manual["micrograph_id"]))
    cols = [count_column(n) for n in names]
    out = {"paired_micrographs": len(paired), "rmse_pp": math.nan, "chi2": math.nan,
           "chi2_dof": math.nan, "chi2_p": math.nan, "chi2_note": "no manual data"}
    if not len(manual):
        return out
    if not paired:
        out["chi2_note"] = "no micrograph has both detections and manual data"
        return out
    p_counts = pred[pred["micrograph_id"].isin(paired)][cols].sum().to_numpy()
    m_counts = manual[manual["micrograph_id"].isin(paired)][cols].sum().to_numpy()
    test = chi_square_test(p_counts, m_counts, names, yates=yates)
    out.update(rmse_pp=rmse_pp(percentages(p_counts), percentages(m_counts)),
               chi2=test.statistic, chi2_dof=test.dof if test.dof else math.nan,
               chi2_p=test.p_value, chi2_note=test.note)
    return out


def _metric_columns(evaluation, matched: int) -> dict:
    if evaluation is None:
        return {"matched_micrographs": int(matched), "map_pct": math.nan,
                "precision_pct": math.nan, "recall_pct": math.nan, "f1_pct": math.nan}
    o = evaluation.overall
    return {"matched_micrographs": int(matched), "map_pct": 100.0 * o.map,
            "precision_pct": 100.0 * o.precision, "recall_pct": 100.0 * o.recall,
            "f1_pct": 100.0 * o.f1}


def format_number(value, digits: int = 1) -> str:
    """``value`` with ``digits`` decimals, or an en dash when missing / NaN."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "\u2013"
    return "\u2013" if math.isnan(v) else f"{v:.{digits}f}"


def format_p(value) -> str:
    """A p-value with 3 decimals, or in scientific notation below 0.001 (en dash if NaN)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "\u2013"
    if math.isnan(v):
        return "\u2013"
    return f"{v:.3f}" if v >= 0.001 else f"{v:.2e}"


def distribution_table(summary: pd.DataFrame, class_names: Sequence[str]) -> pd.DataFrame:
    """Display form of an :func:`experiment_summary`: one row per experiment and source with
    micrographs, virions, and per class the pooled percentage and the SD over micrographs,
    rounded to 0.1 (for printing and the GUI)."""
    rows = []
    for _, row in summary.iterrows():
        for source, prefix in SUMMARY_PREFIX.items():
            out = {"experiment": row["experiment"], "source": source,
                   "micrographs": int(row[f"{prefix}micrographs"]),
                   "virions": int(row[f"{prefix}virions"])}
            for n in class_names:
                out[f"{n} %"] = round(float(row[f"{prefix}pct_{n}"]), 1)
                out[f"{n} SD"] = round(float(row[f"{prefix}sd_pct_{n}"]), 1)
            rows.append(out)
    return pd.DataFrame(rows)


def agreement_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Display form of the agreement and detection-metric columns of an
    :func:`experiment_summary` (RMSE and chi-square to 2 decimals, p unrounded, metrics in
    percent to 0.1)."""
    return pd.DataFrame({
        "experiment": summary["experiment"], "paired": summary["paired_micrographs"],
        "RMSE (pp)": summary["rmse_pp"].astype(float).round(2),
        "chi2": summary["chi2"].astype(float).round(2),
        "dof": summary["chi2_dof"].astype(float),
        "p": summary["chi2_p"].astype(float), "note": summary["chi2_note"],
        "with boxes": summary["matched_micrographs"],
        "mAP %": summary["map_pct"].astype(float).round(1),
        "precision %": summary["precision_pct"].astype(float).round(1),
        "recall %": summary["recall_pct"].astype(float).round(1),
        "F1 %": summary["f1_pct"].astype(float).round(1)})
