"""COCO object-detection JSON out (and back in) for boxes and detections.

Written layout: ``images`` (``id`` from 1 in the order given, ``file_name``, ``width``,
``height``), ``annotations`` (``id`` from 1, ``image_id``, ``category_id`` = the scheme's class
id, ``bbox`` = ``[x, y, width, height]`` with x, y the top-left corner, ``area`` = width *
height, ``iscrowd`` 0, and ``score`` for a :class:`~temnet_app.core.boxes.Detection`) and
``categories`` (the scheme's ids and names, supercategory ``virion``). Coordinates are rounded
to 1/1000 pixel like the VIA writer, so reading a written file gives back the boxes rounded to
3 decimals; scores are kept exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from temnet_app.core.annotations.text import (PathLike, parse_number, read_coordinate,
                                              xywh_for_writing)
from temnet_app.core.atomic import atomic_write_text
from temnet_app.core.boxes import DEFAULT_SCHEME, Box, ClassScheme, Detection
from temnet_app.core.errors import AnnotationError


def write_coco_json(path: PathLike, boxes_by_file: Mapping[str, Sequence[Box]],
                    image_sizes: Mapping[str, tuple[int, int]],
                    scheme: ClassScheme = DEFAULT_SCHEME) -> None:
    """Write boxes as COCO detection JSON (atomically).

    ``image_sizes`` maps every file name of ``boxes_by_file`` to ``(width, height)`` in pixels
    (PIL / COCO order, not numpy's ``(rows, columns)``).
    """
    images, annotations = [], []
    for image_id, (name, boxes) in enumerate(boxes_by_file.items(), start=1):
        size = image_sizes.get(name)
        if size is None:
            raise AnnotationError(f"cannot write {path}: no image size given for {name}")
        width, height = (int(v) for v in size)
        if width <= 0 or height <= 0 or (width, height) != tuple(size):
            raise AnnotationError(f"cannot write {path}: invalid size {tuple(size)} for {name}")
        images.append({"id": image_id, "file_name": str(name), "width": width,
                       "height": height})
        for box in boxes:
            if box.class_id not in scheme.ids:
                raise AnnotationError(f"cannot write {path}: a box of {name} has class id "
                                      f"{box.class_id}, not one of {', '.join(scheme.names)}")
            x, y, w, h = (_plain(v) for v in xywh_for_writing(*box.xyxy()))
            entry: dict[str, Any] = {"id": len(annotations) + 1, "image_id": image_id,
                                     "category_id": box.class_id, "bbox": [x, y, w, h],
                                     "area": _plain(round(w * h, 6)), "iscrowd": 0}
            if isinstance(box, Detection):
                entry["score"] = box.score
            annotations.append(entry)
    categories = [{"id": i, "name": scheme.name(i), "supercategory": "virion"}
                  for i in scheme.ids]
    document = {"info": {"description": "HIV-1 virion boxes (TEMNet Studio)"},
                "licenses": [], "images": images, "annotations": annotations,
                "categories": categories}
    atomic_write_text(path, json.dumps(document, ensure_ascii=False) + "\n")


def read_coco_json(path: PathLike,
                   scheme: ClassScheme = DEFAULT_SCHEME) -> dict[str, list[Box]]:
    """Boxes per image ``file_name`` from COCO detection JSON, in annotation order.

    Images without annotations map to ``[]``. Annotations with a ``score`` become
    Detections. Categories are matched to ``scheme`` by name when the file lists them, else
    ``category_id`` must be one of the scheme's ids.
    """
    document = _load(path)
    names: dict[Any, str] = {}
    out: dict[str, list[Box]] = {}
    for k, image in enumerate(_list(document, "images", path)):
        if (not isinstance(image, dict) or not isinstance(image.get("id"), (int, str))
                or "file_name" not in image):
            raise AnnotationError(f"{path}: images[{k}] needs an 'id' and a 'file_name'")
        names[image["id"]] = str(image["file_name"])
        out.setdefault(str(image["file_name"]), [])
    class_of = _category_map(document, scheme, path)
    for k, ann in enumerate(_list(document, "annotations", path)):
        what = f"{path}: annotations[{k}]"
        if not isinstance(ann, dict):
            raise AnnotationError(f"{what} is not an object")
        if not _is_key(ann.get("image_id")) or ann["image_id"] not in names:
            raise AnnotationError(f"{what} refers to unknown image id {ann.get('image_id')!r}")
        if not _is_key(ann.get("category_id")) or ann["category_id"] not in class_of:
            raise AnnotationError(f"{what} has unknown category_id {ann.get('category_id')!r}")
        bbox = ann.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise AnnotationError(f"{what}: bbox must be [x, y, width, height]")
        x, y, w, h = (parse_number(v, "bbox value", f"{path} annotations[{k}]", None)
                      for v in bbox)
        if w <= 0 or h <= 0:
            raise AnnotationError(f"{what}: bbox width and height must be > 0, got {bbox}")
        xyxy = tuple(read_coordinate(v) for v in (x, y, x + w, y + h))
        class_id = class_of[ann["category_id"]]
        if "score" in ann:
            score = parse_number(ann["score"], "score", f"{path} annotations[{k}]", None)
            if not 0.0 <= score <= 1.0:
                raise AnnotationError(f"{what}: score must lie in [0, 1], got {score}")
            box: Box = Detection(*xyxy, class_id, score)
        else:
            box = Box(*xyxy, class_id)
        out[names[ann["image_id"]]].append(box)
    return out


def _load(path: PathLike) -> dict:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise AnnotationError(f"annotation file not found: {path}") from None
    except OSError as error:
        raise AnnotationError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise AnnotationError(f"{path} is not a UTF-8 JSON file") from None
    except json.JSONDecodeError as error:
        raise AnnotationError(f"{path}, line {error.lineno}: invalid JSON ({error.msg})") from None
    if not isinstance(document, dict):
        raise AnnotationError(f"{path} is not a COCO JSON object")
    return document


def _list(document: dict, key: str, path: PathLike) -> list:
    value = document.get(key)
    if not isinstance(value, list):
        raise AnnotationError(f"{path}: COCO JSON needs a list '{key}'")
    return value


def _category_map(document: dict, scheme: ClassScheme, path: PathLike) -> dict[Any, int]:
    """category_id in the file -> class id in ``scheme``."""
    categories = document.get("categories")
    if not categories:
        return {i: i for i in scheme.ids}
    if not isinstance(categories, list):
        raise AnnotationError(f"{path}: 'categories' must be a list")
    out = {}
    for k, category in enumerate(categories):
        if (not isinstance(category, dict) or not _is_key(category.get("id"))
                or "name" not in category):
            raise AnnotationError(f"{path}: categories[{k}] needs an 'id' and a 'name'")
        try:
            out[category["id"]] = scheme.id(str(category["name"]))
        except ValueError:
            raise AnnotationError(f"{path}: unknown category {category['name']!r} (known "
                                  f"classes: {', '.join(scheme.names)})") from None
    return out


def _is_key(value: Any) -> bool:
    return isinstance(value, (int, str))


def _plain(value: float) -> int | float:
    """A rounded number for JSON: an int when integral (``12``, not ``12.0``)."""
    return int(value) if value == int(value) else value
