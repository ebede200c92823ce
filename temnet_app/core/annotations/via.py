"""Annotation files in and out: VGG Image Annotator (VIA) CSV, COCO JSON and counts CSV.

The only place where boxes are converted to or from external formats; inside the program a box
is :class:`~temnet_app.core.boxes.Box` (xyxy float pixels, full-micrograph coordinates).

VIA CSV is the published TEMNet dataset's label format (zenodo 10.5281/zenodo.5149062)::

    #filename,file_size,file_attributes,region_count,region_id,region_shape_attributes,region_attributes
    a.tif,123,"{}",2,0,"{""name"":""rect"",""x"":10,""y"":20,""width"":30,""height"":40}","{""particle_class"":""mature""}"
    b.tif,456,"{}",0,0,"{}","{}"

A rectangle ``x, y, width, height`` (top-left corner) becomes ``Box(x, y, x + width, y + height)``.

Reading accepts: the header with or without ``#``; JSON cells quoted with doubled quotes (what
VIA 1.x/2.x and Python's csv module write) or left unquoted; unquoted class values
(``{"particle_class":mature}``); VIA 0.x ``key=value`` cells; a UTF-8 BOM, CRLF or CR line ends,
blank lines. ``region_count`` and ``region_id`` are not checked: the TEMNet research code's
cropped and augmented copies keep the uncropped image's ``region_count`` and the original
region ids, so a mismatch is normal there. ``file_size`` is ignored; ``file_attributes`` may
state an image's scale (:func:`read_via_scales`: keys ``pixel_size_nm`` and ``magnification``).
Circles, ellipses and polygons are read as their bounding box (see
:mod:`~temnet_app.core.annotations.regions`); points are rejected.

Writing produces the dataset's format exactly: ``#filename`` header, every JSON cell quoted,
class under ``particle_class``, one ``"{}"`` row for an image without boxes, LF line ends.
Coordinates are rounded to 1/1000 pixel and written as integers when integral, so
``read_via_csv(write_via_csv(boxes))`` gives back the boxes rounded to 3 decimals (identical
boxes when they already were). Scores are not part of VIA; use COCO JSON to keep them.
"""

from __future__ import annotations

import json
import math
from typing import Callable, Mapping, NamedTuple, Optional, Sequence

from temnet_app.core.annotations.coco import read_coco_json, write_coco_json
from temnet_app.core.annotations.counts import read_counts_csv, write_counts_csv
from temnet_app.core.annotations.regions import class_value, parse_cell, shape_to_xyxy
from temnet_app.core.annotations.text import (PathLike, csv_field, format_number, read_text_lines,
                                              split_csv_line, where, xywh_for_writing)
from temnet_app.core.atomic import atomic_write_text
from temnet_app.core.boxes import DEFAULT_SCHEME, Box, ClassScheme
from temnet_app.core.errors import AnnotationError

__all__ = ["VIA_COLUMNS", "read_via_csv", "read_via_scales", "write_via_csv", "via_class_names",
           "class_scheme_from_via", "read_coco_json", "write_coco_json", "read_counts_csv",
           "write_counts_csv"]

VIA_COLUMNS: tuple[str, ...] = ("filename", "file_size", "file_attributes", "region_count",
                                "region_id", "region_shape_attributes", "region_attributes")
_REQUIRED = ("filename", "region_shape_attributes", "region_attributes")
_EMPTY_CELLS = ("", "{}")


class _Row(NamedTuple):
    line: int
    filename: str
    xyxy: tuple[float, float, float, float] | None  # None: an image listed without regions
    class_name: str | None
    file_attributes: str = ""                        # the raw cell ("" without that column)


ImageSize = Callable[[str], Optional[tuple[int, int]]]


def read_via_csv(path: PathLike, scheme: ClassScheme = DEFAULT_SCHEME,
                 image_size: Optional[ImageSize] = None) -> dict[str, list[Box]]:
    """Boxes per image file name (as written in the CSV), in file order.

    Images listed without regions map to ``[]``. Class names are matched to ``scheme``
    ignoring letter case. Raises AnnotationError naming the file and line for malformed input.

    Boxes are kept inside their image: a box reaching past an edge is clipped to it; a box
    wholly outside is refused with file and line. Without ``image_size`` only the top and left
    edges (0) are known; ``image_size(file name)`` gives ``(width, height)`` in pixels (or None
    when the image is unknown) so that the right and bottom edges are checked too.
    """
    out: dict[str, list[Box]] = {}
    sizes: dict[str, Optional[tuple[int, int]]] = {}
    for row in _via_rows(path):
        boxes = out.setdefault(row.filename, [])
        if row.xyxy is None:
            continue
        try:
            class_id = scheme.id(row.class_name)
        except ValueError:
            raise AnnotationError(f"{where(path, row.line)}: unknown class {row.class_name!r} "
                                  f"(known classes: {', '.join(scheme.names)})") from None
        if image_size is not None and row.filename not in sizes:
            sizes[row.filename] = image_size(row.filename)
        xyxy = fit_to_image(row.xyxy, sizes.get(row.filename), f"{where(path, row.line)}: "
                            f"the box of {row.filename}")
        boxes.append(Box(*xyxy, class_id))
    return out


def fit_to_image(xyxy, size: Optional[tuple[int, int]], what: str
                 ) -> tuple[float, float, float, float]:
    """``xyxy`` clipped to the image (``size`` = width, height; None: only x, y >= 0);
    AnnotationError starting with ``what`` when no part of the box is inside."""
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    width, height = size if size is not None else (math.inf, math.inf)
    if x2 <= 0 or y2 <= 0 or x1 >= width or y1 >= height:
        extent = f" ({width} x {height} px)" if size is not None else ""
        raise AnnotationError(f"{what} ({x1:g}, {y1:g}, {x2:g}, {y2:g}) lies wholly outside "
                              f"the image{extent}")
    return max(0.0, x1), max(0.0, y1), min(width, x2), min(height, y2)


SCALE_KEYS = ("pixel_size_nm", "magnification")


def read_via_scales(path: PathLike) -> dict[str, tuple[Optional[float], Optional[float]]]:
    """``{file name: (pixel size nm, magnification)}`` for the images whose ``file_attributes``
    state a scale (keys :data:`SCALE_KEYS`, any letter case; e.g. ``{"magnification": 25000}``
    or ``{"pixel_size_nm": 0.28}``). A value that is not a plausible scale, or two rows of one
    image stating different scales, raise AnnotationError naming the file and line."""
    from temnet_app.core.micrographs.source import scale_from_mapping

    out: dict[str, tuple[Optional[float], Optional[float]]] = {}
    first_line: dict[str, int] = {}
    for row in _via_rows(path):
        if row.file_attributes.strip() in _EMPTY_CELLS:
            continue
        attributes = parse_cell(row.file_attributes, "file_attributes", path, row.line)
        stated = {str(k).strip().lower(): v for k, v in attributes.items()
                  if str(k).strip().lower() in SCALE_KEYS}
        if not stated:
            continue
        mag, size = scale_from_mapping(stated)
        for key, value in (("pixel_size_nm", size), ("magnification", mag)):
            if key in stated and value is None:
                raise AnnotationError(f"{where(path, row.line)}: file_attributes {key} "
                                      f"{stated[key]!r} of {row.filename} is not a usable "
                                      f"{key.replace('_nm', '').replace('_', ' ')}")
        scale = (size, mag)
        if row.filename in out and out[row.filename] != scale:
            raise AnnotationError(f"{where(path, row.line)}: file_attributes of {row.filename} "
                                  f"state a scale different from line {first_line[row.filename]}")
        out[row.filename] = scale
        first_line.setdefault(row.filename, row.line)
    return out


def via_class_names(path: PathLike) -> list[str]:
    """Distinct class names in a VIA CSV, in order of first appearance (letter case of the
    first occurrence; names differing only in case count once)."""
    names: dict[str, str] = {}
    for row in _via_rows(path):
        if row.class_name is not None:
            names.setdefault(row.class_name.lower(), row.class_name)
    return list(names.values())


def class_scheme_from_via(path: PathLike) -> ClassScheme:
    """A class scheme for the classes a VIA CSV uses.

    Files using only the TEMNet classes get :data:`DEFAULT_SCHEME` (ids 1 eccentric, 2 mature,
    3 immature); other files get their class names in alphabetical order (ids 1, 2, ...).
    """
    names = via_class_names(path)
    if not names:
        raise AnnotationError(f"{path} holds no labelled regions to take class names from")
    default = {n.lower() for n in DEFAULT_SCHEME.names}
    if {n.lower() for n in names} <= default:
        return DEFAULT_SCHEME
    return ClassScheme(tuple(sorted(names, key=str.lower)))


def write_via_csv(path: PathLike, boxes_by_file: Mapping[str, Sequence[Box]],
                  scheme: ClassScheme = DEFAULT_SCHEME,
                  file_sizes: Mapping[str, int] | None = None) -> None:
    """Write boxes as a VIA CSV in the TEMNet dataset's format (atomically).

    ``file_sizes`` gives each image file's size in bytes (VIA uses it with the name to identify
    an image); images without an entry get ``-1``, VIA's value for an unknown size.
    """
    lines = ["#" + ",".join(VIA_COLUMNS)]
    for name, boxes in boxes_by_file.items():
        name = str(name)
        if not name.strip() or any(c in name for c in "\r\n"):
            raise AnnotationError(f"cannot write {path}: invalid image file name {name!r}")
        size = int(file_sizes.get(name, -1)) if file_sizes else -1
        prefix = f'{csv_field(name)},{size},"{{}}"'
        if not boxes:
            lines.append(prefix + ',0,0,"{}","{}"')
        for i, box in enumerate(boxes):
            try:
                class_name = scheme.name(box.class_id)
            except ValueError:
                raise AnnotationError(f"cannot write {path}: a box of {name} has class id "
                                      f"{box.class_id}, not one of the classes "
                                      f"{', '.join(scheme.names)}") from None
            x, y, w, h = (format_number(v) for v in xywh_for_writing(*box.xyxy()))
            shape = f'{{"name":"rect","x":{x},"y":{y},"width":{w},"height":{h}}}'
            attributes = json.dumps({"particle_class": class_name}, separators=(",", ":"),
                                    ensure_ascii=False)
            lines.append(f"{prefix},{len(boxes)},{i},{csv_field(shape, always=True)},"
                         f"{csv_field(attributes, always=True)}")
    atomic_write_text(path, "\n".join(lines) + "\n")


def _via_rows(path: PathLike) -> list[_Row]:
    """Parse a VIA CSV into rows; every error names the file and line."""
    lines = read_text_lines(path)
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise AnnotationError(f"{path} is empty (expected a VIA CSV with the header "
                              f"{','.join(VIA_COLUMNS)})")
    columns = _header(lines[header_at], path, header_at + 1)
    index = {name: columns.index(name) for name in _REQUIRED}
    attributes_at = columns.index("file_attributes") if "file_attributes" in columns else None
    rows: list[_Row] = []
    for line_no, line in enumerate(lines[header_at + 1:], start=header_at + 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue  # blank line, comment, or a repeated '#filename' header
        fields = split_csv_line(line, path, line_no)
        while len(fields) > len(columns) and not fields[-1]:
            fields.pop()  # trailing empty cells added by spreadsheet programs
        if len(fields) != len(columns):
            raise AnnotationError(f"{where(path, line_no)}: expected {len(columns)} columns, "
                                  f"found {len(fields)}")
        if [f.strip().lower() for f in fields] == columns:
            continue  # a repeated header without '#'
        filename = fields[index["filename"]].strip()
        if not filename:
            raise AnnotationError(f"{where(path, line_no)}: empty file name")
        file_attributes = fields[attributes_at] if attributes_at is not None else ""
        shape_text = fields[index["region_shape_attributes"]].strip()
        if shape_text in _EMPTY_CELLS:
            rows.append(_Row(line_no, filename, None, None, file_attributes))
            continue
        shape = parse_cell(shape_text, "region_shape_attributes", path, line_no)
        if not shape:
            rows.append(_Row(line_no, filename, None, None, file_attributes))
            continue
        xyxy = shape_to_xyxy(shape, path, line_no)
        attributes = parse_cell(fields[index["region_attributes"]], "region_attributes", path,
                                line_no)
        rows.append(_Row(line_no, filename, xyxy, class_value(attributes, path, line_no),
                         file_attributes))
    return rows


def _header(line: str, path: PathLike, line_no: int) -> list[str]:
    at = where(path, line_no)
    if "VGG Image Annotator" in line or "spatial_coordinates" in line:
        raise AnnotationError(f"{at}: this looks like a VIA 3 CSV, which is not supported; "
                              f"export the annotations from VIA 2 (Annotation > Export "
                              f"Annotations (as csv))")
    columns = [f.strip().lstrip("#").strip().lower() for f in split_csv_line(line, path,
                                                                              line_no)]
    missing = [c for c in _REQUIRED if c not in columns]
    if "filename" in missing:
        raise AnnotationError(f"{at}: not a VIA CSV header (expected the columns "
                              f"{','.join(VIA_COLUMNS)})")
    if missing:
        raise AnnotationError(f"{at}: the VIA CSV header lacks the column(s) "
                              f"{', '.join(missing)}")
    return columns
