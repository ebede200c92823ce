"""VIA region cells: the shape and attribute objects of one VGG Image Annotator CSV row.

Shapes become xyxy boxes in image pixels. Rectangles (``x``, ``y`` = top-left corner, ``width``,
``height``) are the TEMNet dataset's shape; circles, ellipses (with optional rotation ``theta``
in radians), polygons and polylines are read as their axis-aligned bounding box, so a lab that
outlined virions with circles can still import them. Points carry no size and are rejected.

Cells are JSON objects (VIA 1.x / 2.x), JSON with unquoted values such as
``{"particle_class":mature}`` (the TEMNet research code's augmented copies), or VIA 0.x
``key=value`` pairs separated by ``;`` (numbers in ``[a:b:c]`` lists separated by ``:``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from temnet_app.core.annotations.text import PathLike, parse_number, read_coordinate, where
from temnet_app.core.errors import AnnotationError

# Region attribute names that hold the class, in order of preference when a region has several.
CLASS_ATTRIBUTE_KEYS: tuple[str, ...] = ("particle_class", "class", "label")

_BARE_KEY = re.compile(r'([{,]\s*)([A-Za-z_][\w\- .]*?)(\s*:)')
_BARE_VALUE = re.compile(r'(:\s*)([^\s"{}\[\],:][^"{}\[\],:]*?)(\s*)(?=[,}\]])')
_JSON_LITERAL = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null")
_LEGACY_SEPARATOR = re.compile(r"\\?;")
_SUPPORTED = "rectangles (circles, ellipses and polygons are read as their bounding box)"


def parse_cell(text: str, what: str, path: PathLike, line_no: int) -> dict[str, Any]:
    """The object held in a shape or attribute cell; ``{}`` for an empty cell."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            try:
                value = json.loads(_quote_bare_words(text))
            except json.JSONDecodeError:
                shown = text if len(text) <= 80 else text[:77] + "..."
                raise AnnotationError(f"{where(path, line_no)}: {what} is not valid JSON: "
                                      f"{shown}") from None
        if not isinstance(value, dict):
            raise AnnotationError(f"{where(path, line_no)}: {what} is not a JSON object")
        return value
    if "=" in text:
        return _legacy_pairs(text, what, path, line_no)
    raise AnnotationError(f"{where(path, line_no)}: {what} is neither a JSON object nor "
                          f"key=value pairs: {text[:60]!r}")


def _quote_bare_words(text: str) -> str:
    """Put quotes around unquoted keys and word values (``{"particle_class":mature}``)."""
    text = _BARE_KEY.sub(lambda m: f'{m.group(1)}"{m.group(2)}"{m.group(3)}', text)

    def value(match: re.Match) -> str:
        word = match.group(2)
        if _JSON_LITERAL.fullmatch(word):
            return match.group(0)
        return f'{match.group(1)}{json.dumps(word)}{match.group(3)}'

    return _BARE_VALUE.sub(value, text)


def _legacy_pairs(text: str, what: str, path: PathLike, line_no: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for piece in _LEGACY_SEPARATOR.split(text):
        if not piece.strip():
            continue
        key, sep, value = piece.partition("=")
        if not sep or not key.strip():
            raise AnnotationError(f"{where(path, line_no)}: {what} has a malformed "
                                  f"key=value pair: {piece!r}")
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            out[key.strip()] = [v for v in value[1:-1].split(":") if v.strip()]
        else:
            out[key.strip()] = value
    return out


def shape_to_xyxy(shape: dict[str, Any], path: PathLike,
                  line_no: int) -> tuple[float, float, float, float]:
    """Bounding box ``(x1, y1, x2, y2)`` of a VIA shape, coordinates rounded to 1e-6 px."""
    at = where(path, line_no)
    name = str(shape.get("name", "")).strip().lower()

    def num(key: str) -> float:
        if key not in shape:
            raise AnnotationError(f"{at}: {name or 'region'} shape lacks {key!r}")
        return parse_number(shape[key], f"{name} {key}", path, line_no)

    def positive(key: str) -> float:
        value = num(key)
        if value <= 0:
            raise AnnotationError(f"{at}: {name} {key} must be > 0, got {shape[key]!r}")
        return value

    if name == "rect":
        x, y = num("x"), num("y")
        box = (x, y, x + positive("width"), y + positive("height"))
    elif name == "circle":
        cx, cy, r = num("cx"), num("cy"), positive("r")
        box = (cx - r, cy - r, cx + r, cy + r)
    elif name == "ellipse":
        cx, cy, rx, ry = num("cx"), num("cy"), positive("rx"), positive("ry")
        theta = num("theta") if "theta" in shape else 0.0
        half_w = math.hypot(rx * math.cos(theta), ry * math.sin(theta))
        half_h = math.hypot(rx * math.sin(theta), ry * math.cos(theta))
        box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    elif name in ("polygon", "polyline"):
        xs, ys = _points(shape, name, path, line_no)
        box = (min(xs), min(ys), max(xs), max(ys))
    elif not name:
        raise AnnotationError(f"{at}: region shape has no 'name' (expected \"rect\")")
    else:
        raise AnnotationError(f"{at}: a {name!r} region has no box; only {_SUPPORTED} are "
                              f"supported")
    x1, y1, x2, y2 = (read_coordinate(v) for v in box)
    if not (x2 > x1 and y2 > y1):
        raise AnnotationError(f"{at}: {name} region has zero width or height")
    return x1, y1, x2, y2


def _points(shape: dict[str, Any], name: str, path: PathLike,
            line_no: int) -> tuple[list[float], list[float]]:
    at = where(path, line_no)
    coords = []
    for key in ("all_points_x", "all_points_y"):
        values = shape.get(key)
        if not isinstance(values, list) or not values:
            raise AnnotationError(f"{at}: {name} shape lacks a list {key!r}")
        coords.append([parse_number(v, f"{name} {key}", path, line_no) for v in values])
    if len(coords[0]) != len(coords[1]):
        raise AnnotationError(f"{at}: {name} has {len(coords[0])} x but {len(coords[1])} y "
                              f"points")
    return coords[0], coords[1]


def class_value(attributes: dict[str, Any], path: PathLike, line_no: int) -> str:
    """The class name a region's attributes give.

    ``particle_class`` is used when present; a single attribute is used whatever its name;
    with several, ``class`` or ``label`` (any letter case). A checkbox attribute (a
    ``{option: true/false}`` object) must have exactly one option ticked.
    """
    at = where(path, line_no)
    if not attributes:
        raise AnnotationError(f"{at}: region has no class (its region_attributes are empty)")
    by_lower = {str(k).strip().lower(): k for k in attributes}
    key = next((by_lower[k] for k in CLASS_ATTRIBUTE_KEYS if k in by_lower), None)
    if key is None:
        if len(attributes) > 1:
            found = ", ".join(str(k) for k in attributes)
            raise AnnotationError(f"{at}: cannot tell which region attribute holds the class "
                                  f"(found {found}; expected one named "
                                  f"{', '.join(CLASS_ATTRIBUTE_KEYS)})")
        key = next(iter(attributes))
    value = attributes[key]
    if isinstance(value, dict):
        ticked = [k for k, v in value.items() if v is True or str(v).strip().lower() == "true"]
        if len(ticked) != 1:
            raise AnnotationError(f"{at}: attribute {key!r} must have exactly one option "
                                  f"ticked, found {len(ticked)}")
        value = ticked[0]
    if value is None or isinstance(value, (list, dict, bool)):
        raise AnnotationError(f"{at}: attribute {key!r} does not hold a class name: {value!r}")
    name = str(value).strip()
    if not name:
        raise AnnotationError(f"{at}: region has an empty {key!r}")
    return name
