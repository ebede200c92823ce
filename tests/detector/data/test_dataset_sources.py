"""Labelled micrographs from folders (incl. the published TEMNet layout) and projects, and the
train / validation split by micrograph."""

import csv
import logging
from pathlib import Path

import numpy as np
import pytest
import tifffile

from temnet_app.core.annotations import write_via_csv
from temnet_app.core.boxes import Box, ClassScheme
from temnet_app.core.errors import AnnotationError, ProjectError
from temnet_app.detector.data.labelled import (LabelledMicrograph, micrograph_group, read_folder,
                                               read_project, split_micrographs)
from temnet_app.simulator.simulate import tiff_description

VIA_HEADER = ("#filename,file_size,file_attributes,region_count,region_id,"
              "region_shape_attributes,region_attributes")


def _tif(path: Path, magnification=None, shape=(300, 400), value=120) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full(shape, value, dtype=np.uint8)
    image[::7, ::5] = 60  # some texture so it is not a blank frame
    kwargs = {"description": tiff_description(magnification)} if magnification else {}
    tifffile.imwrite(path, image, photometric="minisblack", metadata=None, **kwargs)
    return path


# ---------------------------------------------------------------------------------- folders
def test_flat_folder_with_annotations_csv(tmp_path):
    _tif(tmp_path / "a.tif", 25000)
    _tif(tmp_path / "b.tif")
    _tif(tmp_path / "unlabelled.tif")
    (tmp_path / "notes.txt").write_text("not an image")
    boxes = {"a.tif": [Box(10, 20, 110, 130, 2), Box(200, 50, 280, 140, 3)], "b.tif": []}
    write_via_csv(tmp_path / "annotations.csv", boxes)
    items = read_folder(tmp_path)
    assert [m.key for m in items] == ["a.tif", "b.tif"]        # unlabelled image ignored
    a, b = items
    assert a.boxes == tuple(boxes["a.tif"]) and b.boxes == ()  # listed without regions: empty
    assert a.magnification == pytest.approx(25000.0)            # from the TIFF metadata
    assert a.pixel_size_nm == pytest.approx(0.6732)
    assert b.magnification == 30000.0                           # default
    assert a.path == tmp_path / "a.tif" and a.split_hint is None and a.group == "a"


def _via_export_row(name, size, i, n, x, y, w, h, cls):
    shape = f'"{{""name"":""rect"",""x"":{x},""y"":{y},""width"":{w},""height"":{h}}}"'
    return f'{name},{size},"{{}}",{n},{i},{shape},"{{""particle_class"":""{cls}""}}"'


def _research_csv(path: Path, regions):
    """A CSV as the research code's write_region_data makes it: csv.DictWriter, QUOTE_MINIMAL,
    '#filename' holding the CSV path, 'irrelevant' file size, unquoted class values."""
    fields = ["#filename", "file_size", "file_attributes", "region_count", "region_id",
              "region_shape_attributes", "region_attributes"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, dialect="excel", quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        for i, (x, y, w, h, cls) in enumerate(regions):
            writer.writerow({"#filename": str(path), "file_size": "irrelevant",
                             "file_attributes": "{}", "region_count": len(regions),
                             "region_id": i,
                             "region_shape_attributes": '{"name":"rect","x":' + str(x) + ',"y":'
                             + str(y) + ',"width":' + str(w) + ',"height":' + str(h) + "}",
                             "region_attributes": '{"particle_class":' + cls + "}"})


def test_published_dataset_layout(tmp_path):
    root = tmp_path / "rcnn_dataset_full"
    # train/1797001: the VIA export style (quoted JSON, quoted class value), CSV names a .png
    # while the file on disk is the .tif
    t = root / "train" / "1797001"
    _tif(t / "1797001.tif")
    (t / "region_data_1797001.csv").write_text("\n".join([
        VIA_HEADER,
        _via_export_row("1797001.png", 2451402, 0, 2, 100, 120, 60, 50, "mature"),
        _via_export_row("1797001.png", 2451402, 1, 2, 10, 20, 30, 40, "eccentric")]) + "\n")
    # train/1797001-horizontal-flip: an augmented copy in the research code's own CSV style
    f = root / "train" / "1797001-horizontal-flip"
    _tif(f / "1797001-horizontal-flip.tif")
    _research_csv(f / "region_data_1797001-horizontal-flip.csv", [(240, 120, 60, 50, "mature")])
    # val/7826001: research style, two regions
    v = root / "val" / "7826001"
    _tif(v / "7826001.tif")
    _research_csv(v / "region_data_7826001.csv",
                  [(5, 6, 70, 80, "immature"), (200, 100, 50, 60, "eccentric")])

    items = read_folder(root)
    by_key = {m.key: m for m in items}
    assert sorted(by_key) == ["train/1797001-horizontal-flip/1797001-horizontal-flip.tif",
                              "train/1797001/1797001.tif", "val/7826001/7826001.tif"]
    assert by_key["train/1797001/1797001.tif"].boxes == (Box(100, 120, 160, 170, 2),
                                                         Box(10, 20, 40, 60, 1))
    # the research-style CSV names itself in '#filename': bound to the folder's one image
    assert by_key["train/1797001-horizontal-flip/1797001-horizontal-flip.tif"].boxes == (
        Box(240, 120, 300, 170, 2),)
    assert by_key["val/7826001/7826001.tif"].boxes == (Box(5, 6, 75, 86, 3),
                                                       Box(200, 100, 250, 160, 1))
    assert {m.group for m in items} == {"1797001", "7826001"}
    assert {m.split_hint for m in items} == {"train", "validation"}

    split = split_micrographs(items)
    assert split.method == "folders"
    assert split.validation == ("val/7826001/7826001.tif",)
    assert len(split.train) == 2
    # pointing at one split folder works too
    assert len(read_folder(root / "val")) == 1


def test_folder_split_refuses_a_micrograph_in_both_folders(tmp_path):
    for part in ("train", "val"):
        _tif(tmp_path / part / "x.tif")
        write_via_csv(tmp_path / part / "annotations.csv", {"x.tif": [Box(1, 1, 9, 9, 1)]})
    items = read_folder(tmp_path)
    with pytest.raises(AnnotationError, match="both the train and the validation"):
        split_micrographs(items)
    # the seeded split keeps the two copies together
    split = split_micrographs(items, use_folder_split=False)
    assert split.method == "seeded" and len(split.train) == 2 and not split.validation


def test_folder_errors(tmp_path):
    with pytest.raises(AnnotationError, match="not found"):
        read_folder(tmp_path / "nope")
    _tif(tmp_path / "a.tif")
    with pytest.raises(AnnotationError, match="no VIA CSV"):
        read_folder(tmp_path)
    write_via_csv(tmp_path / "one.csv", {"a.tif": [Box(1, 1, 9, 9, 1)]})
    write_via_csv(tmp_path / "two.csv", {"a.tif": []})
    with pytest.raises(AnnotationError, match="several CSV files"):
        read_folder(tmp_path)
    (tmp_path / "two.csv").unlink()
    write_via_csv(tmp_path / "one.csv", {"a.tif": [Box(1, 1, 9, 9, 1)], "gone.tif": [],
                                         "lost.tif": []})
    with pytest.raises(AnnotationError, match=r"names 2 image\(s\) not found.*gone.tif, lost.tif"):
        read_folder(tmp_path)


def test_missing_images_can_be_skipped_with_a_warning(tmp_path, caplog):
    _tif(tmp_path / "a.tif")
    write_via_csv(tmp_path / "annotations.csv",
                  {"a.tif": [Box(1, 1, 9, 9, 1)], "gone.tif": [Box(1, 1, 9, 9, 2)]})
    with caplog.at_level(logging.WARNING):
        items = read_folder(tmp_path, missing="skip")
    assert [m.key for m in items] == ["a.tif"]
    assert "gone.tif" in caplog.text
    write_via_csv(tmp_path / "annotations.csv", {"gone.tif": [Box(1, 1, 9, 9, 2)]})
    with pytest.raises(AnnotationError, match="no labelled micrographs"):
        read_folder(tmp_path, missing="skip")


def test_unknown_class_in_csv_names_file_and_line(tmp_path):
    _tif(tmp_path / "a.tif")
    (tmp_path / "annotations.csv").write_text(
        VIA_HEADER + "\n" + _via_export_row("a.tif", 1, 0, 1, 1, 1, 5, 5, "virus") + "\n")
    with pytest.raises(AnnotationError, match=r"annotations.csv, line 2: unknown class 'virus'"):
        read_folder(tmp_path)


def test_micrograph_group_strips_research_suffixes():
    assert micrograph_group("7826001-horizontal-flip.png") == "7826001"
    assert micrograph_group("train/7826001-crop12-salt-pepper.png") == "7826001"
    assert micrograph_group("sample-3.tif") == "sample-3"


# --------------------------------------------------------------------------------- projects
def test_project_source(tmp_path):
    from temnet_app.core.project import Project

    for name in ("m1.tif", "m2.tif", "m3.tif"):
        _tif(tmp_path / "imgs" / name, 20000 if name == "m2.tif" else None,
             value=100 + int(name[1]))
    with Project.create(tmp_path / "p.temnet") as project:
        added = project.add_folder(tmp_path / "imgs").added
        project.set_manual_boxes(added[0].id, [Box(10, 10, 60, 70, 2), Box(5, 5, 9, 9, 1)])
        project.set_manual_boxes(added[1].id, [])            # annotated: no virions
    items = read_project(tmp_path / "p.temnet")
    assert [m.key for m in items] == ["imgs/imgs/m1.tif", "imgs/imgs/m2.tif"]
    assert items[0].boxes == (Box(10, 10, 60, 70, 2), Box(5, 5, 9, 9, 1))
    assert items[1].boxes == () and items[1].magnification == pytest.approx(20000.0)
    assert items[0].path == tmp_path / "imgs" / "m1.tif"
    assert items[0].group.startswith("sha256:")
    # class ids are mapped by name to the model's classes
    mapped = read_project(tmp_path / "p.temnet", ClassScheme(("mature", "eccentric")))
    assert [b.class_id for b in mapped[0].boxes] == [1, 2]
    with pytest.raises(ProjectError, match="class 'eccentric'"):
        read_project(tmp_path / "p.temnet", ClassScheme(("mature", "immature")))


def test_project_without_annotations(tmp_path):
    from temnet_app.core.project import Project

    _tif(tmp_path / "imgs" / "m1.tif")
    with Project.create(tmp_path / "p.temnet") as project:
        project.add_folder(tmp_path / "imgs")
        with pytest.raises(ProjectError, match="no micrographs with manual annotations"):
            read_project(project)


# ------------------------------------------------------------------------------------ split
def _items(n, groups=None):
    return [LabelledMicrograph(f"m{i:02d}.tif", Path(f"m{i:02d}.tif"), (),
                               group=(groups[i] if groups else ""))
            for i in range(n)]


def test_seeded_split_by_micrograph():
    items = _items(10)
    split = split_micrographs(items, 0.2, seed=4)
    assert split.method == "seeded" and len(split.validation) == 2 and len(split.train) == 8
    assert not set(split.train) & set(split.validation)
    assert set(split.train) | set(split.validation) == {m.key for m in items}
    # deterministic and independent of the input order
    again = split_micrographs(list(reversed(items)), 0.2, seed=4)
    assert set(again.validation) == set(split.validation)
    # another seed picks other micrographs (checked over a few seeds)
    picks = {split_micrographs(items, 0.2, seed=s).validation for s in range(6)}
    assert len(picks) > 1
    train, val = split.select(items)
    assert [m.key for m in val] == list(split.validation) and len(train) == 8
    record = split.to_dict()
    assert record["validation"] == list(split.validation) and record["seed"] == 4


def test_split_keeps_groups_together_and_edge_cases():
    groups = ["a", "a", "b", "b", "c", "c", "d", "e", "f", "g"]
    items = _items(10, groups)
    for seed in range(10):
        split = split_micrographs(items, 0.3, seed=seed)
        val_groups = {m.group for m in items if m.key in split.validation}
        train_groups = {m.group for m in items if m.key in split.train}
        assert not val_groups & train_groups
        assert len(val_groups) == 2                               # round(0.3 * 7 groups)
    assert len(split_micrographs(_items(2), 0.2).validation) == 1  # at least one
    assert len(split_micrographs(_items(3), 0.9).train) == 1       # never all
    single = split_micrographs(_items(1), 0.2)
    assert single.train == ("m00.tif",) and single.validation == () and single.notes
    assert split_micrographs(_items(5), 0.0).validation == ()
    with pytest.raises(ValueError):
        split_micrographs(_items(5), 1.0)


# ------------------------------------------------------------------------- scale per image
def _via_with_attributes(path: Path, rows) -> None:
    """A VIA CSV whose rows are (file name, file_attributes dict, box or None)."""
    import json

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(VIA_HEADER.split(","))
        for name, attributes, box in rows:
            shape = {} if box is None else {"name": "rect", "x": box[0], "y": box[1],
                                            "width": box[2], "height": box[3]}
            region = {} if box is None else {"particle_class": "mature"}
            writer.writerow([name, 1, json.dumps(attributes), 1, 0, json.dumps(shape),
                             json.dumps(region)])


def test_via_file_attributes_scale_reaches_the_crops(tmp_path, caplog):
    from temnet_app.detector.data.pipeline import describe
    from temnet_app.detector.model.config import DetectorConfig

    _tif(tmp_path / "a.tif", 30000, shape=(600, 800))   # the file says 30,000x ...
    _tif(tmp_path / "b.tif", shape=(600, 800))
    _tif(tmp_path / "c.tif", shape=(600, 800))
    # ... the lab's CSV says it was a 15,000x image; b gives a pixel size; c nothing
    _via_with_attributes(tmp_path / "annotations.csv", [
        ("a.tif", {"Magnification": "15000x"}, (10, 10, 130, 130)),
        ("b.tif", {"pixel_size_nm": 0.28}, (10, 10, 520, 520)),
        ("c.tif", {"stain": "uranyl acetate"}, (10, 10, 260, 260)),
    ])
    with caplog.at_level(logging.WARNING):
        a, b, c = read_folder(tmp_path)
    assert a.pixel_size_nm == pytest.approx(1.122) and a.magnification == pytest.approx(15000)
    assert b.pixel_size_nm == 0.28 and c.pixel_size_nm == pytest.approx(0.561)
    # eq. 6 crop sides: 1,024 px at 30,000x -> 512 at 15,000x, 2,052 at 0.28 nm/px
    summary = describe([a, b, c], DetectorConfig())
    assert summary["crop_side_px"] == {"15000": 512, "60107.1": 2052, "30000": 1024}
    assert not caplog.records                      # every box is virion-sized at its scale


def test_a_folder_default_scale_and_a_warning_for_boxes_off_scale(tmp_path, caplog):
    sub = tmp_path / "grid 2"
    _tif(sub / "a.tif", shape=(600, 800))
    _tif(sub / "b.tif", 25000, shape=(600, 800))          # its own calibration wins
    (tmp_path / "scale.txt").write_text('{"pixel_size_nm": 0.28}\n')
    _via_with_attributes(sub / "annotations.csv", [
        ("a.tif", {}, (10, 10, 520, 520)),                # 520 px * 0.28 = 146 nm
        ("b.tif", {}, (10, 10, 500, 500)),                # 500 px * 0.6732 = 337 nm: off
    ])
    with caplog.at_level(logging.WARNING):
        a, b = read_folder(tmp_path)
    assert a.pixel_size_nm == 0.28 and b.pixel_size_nm == pytest.approx(0.6732)
    (record,) = caplog.records
    assert record.getMessage() == (
        "grid 2/b.tif: the labelled boxes measure ~337 nm at 0.673 nm/px (the file's "
        "calibration), but virions are ~145 nm: check its scale (about 0.29 nm/px would fit)")
    (tmp_path / "scale.txt").write_text("magnification: unknown\n")
    with pytest.raises(AnnotationError, match="scale.txt states no usable scale"):
        read_folder(tmp_path)


@pytest.mark.parametrize("attributes, message", [
    ({"magnification": 12}, "file_attributes magnification 12 of a.tif is not a usable "
                            "magnification"),
    ({"pixel_size_nm": "big"}, "file_attributes pixel_size_nm 'big' of a.tif is not a usable "
                               "pixel size"),
])
def test_unusable_file_attributes_scales_are_errors(tmp_path, attributes, message):
    _tif(tmp_path / "a.tif")
    _via_with_attributes(tmp_path / "annotations.csv", [("a.tif", attributes, None)])
    with pytest.raises(AnnotationError, match=message):
        read_folder(tmp_path)
