"""Annotation I/O: VIA CSV (dataset format and variants), COCO JSON, counts CSV.

Known answers are written by hand: a VIA rect (x, y, width, height) is Box(x, y, x+w, y+h).
"""

import csv
import json
import math
import random

import numpy as np
import pytest

from temnet_app.core.annotations import (class_scheme_from_via, read_coco_json,
                                         read_counts_csv, read_via_csv, via_class_names,
                                         write_coco_json, write_counts_csv, write_via_csv)
from temnet_app.core.boxes import DEFAULT_SCHEME, Box, ClassScheme, Detection
from temnet_app.core.errors import AnnotationError

HEADER = ("#filename,file_size,file_attributes,region_count,region_id,"
          "region_shape_attributes,region_attributes")

# The same three images in the quoting styles met in the wild.
VIA_DOUBLED = HEADER + """
m1.tif,1000,"{}",2,0,"{""name"":""rect"",""x"":10,""y"":20,""width"":30,""height"":40}","{""particle_class"":""mature""}"
m1.tif,1000,"{}",2,1,"{""name"":""rect"",""x"":100.5,""y"":0,""width"":2.25,""height"":7}","{""particle_class"":""immature""}"
empty.tif,2000,"{}",0,0,"{}","{}"
m2.tif,3000,"{}",1,0,"{""name"":""rect"",""x"":5,""y"":6,""width"":265,""height"":270}","{""particle_class"":""eccentric""}"
"""
VIA_UNQUOTED = HEADER + """
m1.tif,1000,{},2,0,{"name":"rect","x":10,"y":20,"width":30,"height":40},{"particle_class":"mature"}
m1.tif,1000,{},2,1,{"name":"rect","x":100.5,"y":0,"width":2.25,"height":7},{"particle_class":"immature"}
empty.tif,2000,{},0,0,{},{}
m2.tif,3000,{},1,0,{"name":"rect","x":5,"y":6,"width":265,"height":270},{"particle_class":"eccentric"}
"""
# The research code's augmented copies: unquoted class values, 'irrelevant' sizes, the
# uncropped image's region_count and original region ids.
VIA_BARE_VALUES = HEADER + """
m1.tif,irrelevant,{},9,3,"{""name"":""rect"",""x"":10,""y"":20,""width"":30,""height"":40}","{""particle_class"":mature}"
m1.tif,irrelevant,{},9,7,{"name":"rect","x":100.5,"y":0,"width":2.25,"height":7},{"particle_class":Immature}
empty.tif,2000,"{}",0,0,"{}","{}"
m2.tif,3000,"{}",4,0,"{""name"":""rect"",""x"":5,""y"":6,""width"":265,""height"":270}","{""particle_class"":ECCENTRIC}"
"""
EXPECTED = {
    "m1.tif": [Box(10, 20, 40, 60, 2), Box(100.5, 0, 102.75, 7, 3)],
    "empty.tif": [],
    "m2.tif": [Box(5, 6, 270, 276, 1)],
}


def _write(tmp_path, text, name="labels.csv", encoding="utf-8", newline="\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


@pytest.mark.parametrize("text", [VIA_DOUBLED, VIA_UNQUOTED, VIA_BARE_VALUES],
                         ids=["doubled-quotes", "unquoted-json", "bare-values"])
def test_read_via_styles_give_exact_boxes(tmp_path, text):
    boxes = read_via_csv(_write(tmp_path, text))
    assert boxes == EXPECTED
    assert list(boxes) == ["m1.tif", "empty.tif", "m2.tif"]  # file order kept


def test_read_via2_header_bom_crlf_blank_lines(tmp_path):
    text = VIA_DOUBLED.replace("#filename", "filename") + "\n\n\n"
    path = _write(tmp_path, text, encoding="utf-8-sig", newline="\r\n")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    assert read_via_csv(path) == EXPECTED
    assert read_via_csv(_write(tmp_path, "\n" + VIA_DOUBLED, newline="\r")) == EXPECTED


def test_read_via_legacy_key_value_cells(tmp_path):
    text = HEADER + '\nold.jpg,62201,"",1,0,"name=rect\\;x=137\\;y=84\\;width=190\\;height=200",' \
                    '"particle_class=mature"\n'
    assert read_via_csv(_write(tmp_path, text)) == {"old.jpg": [Box(137, 84, 327, 284, 2)]}


def test_read_via_other_attribute_names(tmp_path):
    rect = '"{""name"":""rect"",""x"":0,""y"":0,""width"":4,""height"":2}"'
    rows = [
        '"{""morphology"":""mature""}"',  # a single attribute: its value is the class
        '"{""observer"":""AB"",""Class"":""immature""}"',  # several: 'class' wins
        '"{""label"":""eccentric"",""note"":""touching""}"',
        '"{""type"":{""mature"":false,""immature"":true}}"',  # VIA checkbox attribute
    ]
    text = HEADER + "".join(f"\nf.tif,1,\"{{}}\",4,{i},{rect},{a}" for i, a in enumerate(rows))
    boxes = read_via_csv(_write(tmp_path, text + "\n"))
    assert [b.class_id for b in boxes["f.tif"]] == [2, 3, 1, 3]


def test_read_via_other_shapes_as_bounding_boxes(tmp_path):
    shapes = [
        '{""name"":""circle"",""cx"":50,""cy"":60,""r"":10}',
        '{""name"":""ellipse"",""cx"":100,""cy"":100,""rx"":20,""ry"":10}',
        f'{{""name"":""ellipse"",""cx"":100,""cy"":100,""rx"":20,""ry"":10,""theta"":{math.pi / 2}}}',
        '{""name"":""polygon"",""all_points_x"":[3,9,5],""all_points_y"":[4,1,8]}',
    ]
    text = HEADER + "".join(f'\ns.tif,1,"{{}}",4,{i},"{s}","{{""particle_class"":""mature""}}"'
                            for i, s in enumerate(shapes))
    got = [b.xyxy() for b in read_via_csv(_write(tmp_path, text))["s.tif"]]
    assert got == [(40, 50, 60, 70), (80, 90, 120, 110), (90, 80, 110, 120), (3, 1, 9, 8)]


def test_read_via_with_a_lab_scheme_and_class_names(tmp_path):
    text = HEADER + """
x.png,1,"{}",2,0,"{""name"":""rect"",""x"":1,""y"":1,""width"":2,""height"":2}","{""kind"":""Budding""}"
x.png,1,"{}",2,1,"{""name"":""rect"",""x"":5,""y"":5,""width"":2,""height"":2}","{""kind"":""free""}"
y.png,1,"{}",1,0,"{""name"":""rect"",""x"":0,""y"":0,""width"":1,""height"":1}","{""kind"":""budding""}"
"""
    path = _write(tmp_path, text)
    assert via_class_names(path) == ["Budding", "free"]
    scheme = class_scheme_from_via(path)
    assert scheme.names == ("Budding", "free")
    assert [b.class_id for b in read_via_csv(path, scheme)["x.png"]] == [1, 2]
    with pytest.raises(AnnotationError, match=r"line 2: unknown class 'Budding' \(known "
                                              r"classes: eccentric, mature, immature\)"):
        read_via_csv(path)
    assert class_scheme_from_via(_write(tmp_path, VIA_BARE_VALUES, "b.csv")) is DEFAULT_SCHEME


GOOD = ('a.tif,1,"{}",1,0,"{""name"":""rect"",""x"":1,""y"":2,""width"":3,""height"":4}",'
        '"{""particle_class"":""mature""}"')


@pytest.mark.parametrize("old, new, message", [
    ('""rect""', '""point""', "a 'point' region has no box; only rectangles"),
    ('""width"":3', '""width"":0', "rect width must be > 0, got 0"),
    ('""height"":4', '""height"":-4', "rect height must be > 0, got -4"),
    ('""x"":1', '""x"":""left""', "rect x is not a number: 'left'"),
    ('""x"":1,', "", "rect shape lacks 'x'"),
    ('""x"":1', '""x"":1,,', "region_shape_attributes is not valid JSON"),
    ('""mature""', '""decayed""',
     "unknown class 'decayed' (known classes: eccentric, mature, immature)"),
    ('""particle_class"":""mature""', "", "region has no class"),
    ('""particle_class"":""mature""', '""who"":""AB"",""what"":""mature""',
     "cannot tell which region attribute holds the class (found who, what"),
    ('""}"', '""}', "unterminated quoted field (column 7)"),
    ('"{""name', '"{""name', None),  # control: the unchanged row is valid
    ('1,0,"{', '1,"{', "expected 7 columns, found 6"),
    ('""}"', '""}",extra', "expected 7 columns, found 8"),
    ("a.tif", "", "empty file name"),
])
def test_read_via_malformed_rows_name_file_and_line(tmp_path, old, new, message):
    bad = GOOD.replace(old, new)
    path = _write(tmp_path, HEADER + f"\n{GOOD}\n{bad}\n")
    if message is None:
        assert read_via_csv(path) == {"a.tif": [Box(1, 2, 4, 6, 2)] * 2}
        return
    with pytest.raises(AnnotationError) as info:
        read_via_csv(path)
    assert str(info.value).startswith(f"{path}, line 3: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_read_via_line_numbers_count_blank_lines(tmp_path):
    text = HEADER + '\n\nok.tif,1,"{}",0,0,"{}","{}"\n\n' + GOOD.replace("mature", "ghost")
    path = _write(tmp_path, text, newline="\r\n")
    with pytest.raises(AnnotationError, match=r"labels\.csv, line 5: unknown class 'ghost'"):
        read_via_csv(path)


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("image,x,y,w,h\n", "line 1: not a VIA CSV header"),
    ("#filename,file_size,region_shape_attributes\n", "line 1: the VIA CSV header lacks the "
                                                      "column(s) region_attributes"),
    ("# Exported using VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)\n",
     "VIA 3 CSV, which is not supported"),
])
def test_read_via_bad_files(tmp_path, text, message):
    with pytest.raises(AnnotationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_via_csv(_write(tmp_path, text))


def test_read_missing_or_binary_file(tmp_path):
    with pytest.raises(AnnotationError, match="annotation file not found"):
        read_via_csv(tmp_path / "nope.csv")
    (tmp_path / "img.csv").write_bytes(b"II*\x00\x08\x00\x00\x00")
    with pytest.raises(AnnotationError, match="not a text"):
        read_via_csv(tmp_path / "img.csv")


def test_write_via_exact_dataset_format(tmp_path):
    path = tmp_path / "out.csv"
    boxes = {"a.tif": [Box(10, 20, 40, 60, 2), Detection(1.5, 2.25, 4.5, 6.0004, 3, 0.9)],
             "none.tif": [], "odd, name.tif": [Box(0, 0, 1, 1, 1)]}
    write_via_csv(path, boxes, file_sizes={"a.tif": 1234})
    assert path.read_text() == HEADER + """
a.tif,1234,"{}",2,0,"{""name"":""rect"",""x"":10,""y"":20,""width"":30,""height"":40}","{""particle_class"":""mature""}"
a.tif,1234,"{}",2,1,"{""name"":""rect"",""x"":1.5,""y"":2.25,""width"":3,""height"":3.75}","{""particle_class"":""immature""}"
none.tif,-1,"{}",0,0,"{}","{}"
"odd, name.tif",-1,"{}",1,0,"{""name"":""rect"",""x"":0,""y"":0,""width"":1,""height"":1}","{""particle_class"":""eccentric""}"
"""
    # Standard CSV readers (the research code, pandas) see JSON in the shape/attribute cells.
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert json.loads(rows[1][5]) == {"name": "rect", "x": 10, "y": 20, "width": 30, "height": 40}
    assert rows[4][0] == "odd, name.tif"
    assert read_via_csv(path)["odd, name.tif"] == [Box(0, 0, 1, 1, 1)]
    assert not [p for p in tmp_path.iterdir() if p.name != "out.csv"]  # no temp files left


def test_write_via_rejects_class_outside_scheme(tmp_path):
    with pytest.raises(AnnotationError, match="class id 4"):
        write_via_csv(tmp_path / "x.csv", {"a.tif": [Box(0, 0, 1, 1, 4)]})


def _random_boxes(rng, decimals):
    out = {}
    for i in range(8):
        boxes = []
        for _ in range(rng.randint(0, 12)):
            x, y = rng.uniform(0, 4000), rng.uniform(0, 2620)
            w, h = rng.uniform(0.5, 400), rng.uniform(0.5, 400)
            if decimals is not None:
                x, y, w, h = (round(v, decimals) for v in (x, y, w, h))
            boxes.append(Box(x, y, x + w, y + h, rng.randint(1, 3)))
        out[f"img_{i}.tif"] = boxes
    return out


@pytest.mark.parametrize("decimals", [0, 1, 3])
def test_via_and_coco_round_trip_identical(tmp_path, decimals):
    boxes = _random_boxes(random.Random(decimals), decimals)
    expected = {k: [Box(*(round(v, 3) for v in b.xyxy()), b.class_id) for b in v]
                for k, v in boxes.items()}
    write_via_csv(tmp_path / "v.csv", boxes)
    assert read_via_csv(tmp_path / "v.csv") == expected
    sizes = {name: (4000, 2620) for name in boxes}
    write_coco_json(tmp_path / "c.json", boxes, sizes)
    assert read_coco_json(tmp_path / "c.json") == expected


def test_via_round_trip_full_precision_floats(tmp_path):
    boxes = _random_boxes(random.Random(7), None)
    write_via_csv(tmp_path / "a.csv", boxes)
    once = read_via_csv(tmp_path / "a.csv")
    for name, originals in boxes.items():
        assert len(once[name]) == len(originals)
        for a, b in zip(originals, once[name]):
            assert a.class_id == b.class_id
            assert np.allclose(a.xyxy(), b.xyxy(), rtol=0, atol=5e-4 + 1e-9)
    write_via_csv(tmp_path / "b.csv", once)
    assert read_via_csv(tmp_path / "b.csv") == once  # stable after the first rounding
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()


def test_coco_known_answer_and_scores(tmp_path):
    boxes = {"a.tif": [Detection(10, 20, 40, 60, 2, 0.875), Box(1.5, 2, 4, 3.25, 1)],
             "b.tif": []}
    write_coco_json(tmp_path / "c.json", boxes, {"a.tif": (4000, 2620), "b.tif": (100, 50)})
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["images"] == [{"id": 1, "file_name": "a.tif", "width": 4000, "height": 2620},
                             {"id": 2, "file_name": "b.tif", "width": 100, "height": 50}]
    assert doc["annotations"] == [
        {"id": 1, "image_id": 1, "category_id": 2, "bbox": [10, 20, 30, 40], "area": 1200,
         "iscrowd": 0, "score": 0.875},
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1.5, 2, 2.5, 1.25],
         "area": 3.125, "iscrowd": 0}]
    assert [(c["id"], c["name"]) for c in doc["categories"]] == [
        (1, "eccentric"), (2, "mature"), (3, "immature")]
    back = read_coco_json(tmp_path / "c.json")
    assert back == boxes and isinstance(back["a.tif"][0], Detection)
    assert back["a.tif"][0].score == 0.875


def test_coco_categories_matched_by_name_and_errors(tmp_path):
    doc = {"images": [{"id": 7, "file_name": "z.tif"}],
           "annotations": [{"image_id": 7, "category_id": 20, "bbox": [0, 0, 5, 5]}],
           "categories": [{"id": 10, "name": "Mature"}, {"id": 20, "name": "immature"}]}
    (tmp_path / "c.json").write_text(json.dumps(doc))
    assert read_coco_json(tmp_path / "c.json") == {"z.tif": [Box(0, 0, 5, 5, 3)]}
    doc["annotations"][0]["bbox"] = [0, 0, 0, 5]
    (tmp_path / "c.json").write_text(json.dumps(doc))
    with pytest.raises(AnnotationError, match=r"annotations\[0\]: bbox width and height"):
        read_coco_json(tmp_path / "c.json")
    (tmp_path / "bad.json").write_text('{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(AnnotationError, match=r"bad\.json, line 2: invalid JSON"):
        read_coco_json(tmp_path / "bad.json")
    with pytest.raises(AnnotationError, match="no image size given for a.tif"):
        write_coco_json(tmp_path / "x.json", {"a.tif": []}, {})


COUNTS = "filename,eccentric,mature,immature\nm1.tif,3,10,2\nm2.tif,0,7,12\n"


def test_counts_read_known_answer_any_order_and_dialects(tmp_path):
    expected = {"m1.tif": {"eccentric": 3, "mature": 10, "immature": 2},
                "m2.tif": {"eccentric": 0, "mature": 7, "immature": 12}}
    assert read_counts_csv(_write(tmp_path, COUNTS)) == expected
    reordered = "#Filename,Immature,total,Mature,Eccentric\nm1.tif,2,15,10,3.0\n\nm2.tif,12,19,7,0\n\n"
    assert read_counts_csv(_write(tmp_path, reordered, "b.csv", "utf-8-sig", "\r\n")) == expected
    semicolons = COUNTS.replace(",", ";")
    assert read_counts_csv(_write(tmp_path, semicolons, "c.csv")) == expected
    assert list(read_counts_csv(_write(tmp_path, reordered, "d.csv"))["m1.tif"]) == [
        "eccentric", "mature", "immature"]


@pytest.mark.parametrize("text, message", [
    ("filename,eccentric,mature\na,1,2\n", "line 1: the counts header has no 'immature' column"),
    ("name,eccentric,mature,immature\na,1,2,3\n", "line 1: the counts header has no 'filename'"),
    (COUNTS + "m3.tif,1,-2,0\n", "line 4: mature count '-2' is negative"),
    (COUNTS + "m3.tif,1,2.5,0\n", "line 4: mature count '2.5' is not a whole number"),
    (COUNTS + "m3.tif,1,many,0\n", "line 4: mature count 'many' is not a number"),
    (COUNTS + "m3.tif,1,,0\n", "line 4: no mature count given"),
    (COUNTS + "m3.tif,1\n", "line 4: expected 4 columns, found 2"),
    (COUNTS + "m1.tif,1,1,1\n", "line 4: m1.tif is listed twice (also on line 2)"),
])
def test_counts_read_errors_name_file_and_line(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(AnnotationError) as info:
        read_counts_csv(path)
    assert str(info.value).startswith(f"{path}, {message}")


def test_counts_write_exact_and_round_trip(tmp_path):
    counts = {"m1.tif": {"mature": np.int64(10), "eccentric": 3, "immature": 2},
              "m 2.tif": {"Mature": 7}}
    write_counts_csv(tmp_path / "c.csv", counts)
    assert (tmp_path / "c.csv").read_text() == (
        "filename,eccentric,mature,immature\nm1.tif,3,10,2\nm 2.tif,0,7,0\n")
    assert read_counts_csv(tmp_path / "c.csv") == {
        "m1.tif": {"eccentric": 3, "mature": 10, "immature": 2},
        "m 2.tif": {"eccentric": 0, "mature": 7, "immature": 0}}
    scheme = ClassScheme(("budding", "free"))
    write_counts_csv(tmp_path / "s.csv", {"a": {"budding": 1, "free": 4}}, scheme)
    assert read_counts_csv(tmp_path / "s.csv", scheme) == {"a": {"budding": 1, "free": 4}}
    with pytest.raises(AnnotationError, match="unknown class 'ghost'"):
        write_counts_csv(tmp_path / "e.csv", {"a": {"ghost": 1}})
    with pytest.raises(AnnotationError, match="is not a whole number from 0 to 1,000,000"):
        write_counts_csv(tmp_path / "e.csv", {"a": {"mature": -1}})
    assert not (tmp_path / "e.csv").exists()
