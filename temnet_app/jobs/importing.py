"""Importing manual reference data into a project, matched to micrographs by file name: boxes
from a VIA CSV or COCO JSON, per-class counts from a counts CSV."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from temnet_app.core.errors import AnnotationError

IMPORT_SUFFIXES = (".csv", ".json")


@dataclass
class ImportSummary:
    """What :func:`import_annotations` stored: ``kind`` ("boxes" or "counts"), the micrographs
    that received data, and the file names in the file that matched no micrograph, or more
    than one."""

    kind: str
    matched: list[int] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = f"imported {self.kind} for {len(self.matched)} micrograph(s)"
        if self.unmatched:
            text += f"; {len(self.unmatched)} file name(s) match no micrograph"
        if self.ambiguous:
            text += f"; {len(self.ambiguous)} match several micrographs (skipped)"
        return text


def _read(path: Path, scheme, image_size=None) -> tuple[str, dict]:
    from temnet_app.core.annotations import read_coco_json, read_counts_csv, read_via_csv

    suffix = path.suffix.lower()
    if suffix == ".json":
        return "boxes", read_coco_json(path, scheme)
    if suffix != ".csv":
        raise AnnotationError(f"{path.name}: import reads VIA CSV, counts CSV or COCO JSON "
                              f"files (.csv, .json)")
    head = path.read_text(encoding="utf-8-sig", errors="replace")[:4096].lower()
    if "region_shape_attributes" in head:
        return "boxes", read_via_csv(path, scheme, image_size=image_size)
    return "counts", read_counts_csv(path, scheme)


def import_annotations(project, path, experiment_id: Optional[int] = None) -> ImportSummary:
    """Store the boxes (as manual annotations) or counts (as manual counts) of ``path`` on the
    micrographs of ``project`` (or of one experiment) whose file name matches. Each
    micrograph is one transaction; nothing is stored for names that do not match exactly one
    micrograph."""
    path = Path(path)
    micrographs = project.micrographs(experiment_id)
    index: dict[str, list[int]] = {}
    sizes: dict[str, list[tuple[int, int]]] = {}
    for m in micrographs:
        index.setdefault(m.name.lower(), []).append(m.id)
        sizes.setdefault(m.name.lower(), []).append((m.width, m.height))

    def image_size(name: str):
        found = sizes.get(Path(name.replace("\\", "/")).name.lower(), [])
        return found[0] if len(found) == 1 else None

    kind, by_name = _read(path, project.scheme, image_size)
    summary = ImportSummary(kind)
    for name, value in by_name.items():
        found = index.get(Path(name.replace("\\", "/")).name.lower(), [])
        if not found:
            summary.unmatched.append(name)
        elif len(found) > 1:
            summary.ambiguous.append(name)
        elif kind == "boxes":
            project.set_manual_boxes(found[0], value)
            summary.matched.append(found[0])
        else:
            project.set_manual_counts(found[0], value)
            summary.matched.append(found[0])
    return summary
