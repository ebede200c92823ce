"""Hostile model folders (cards out of bounds, pickles and Keras archives that must never run)
and hostile annotation files (boxes outside the image, names escaping the images folder,
broken VIA / COCO / counts) through the real CLI and the import the window uses."""

from __future__ import annotations

import json
import pickle
import shutil
import zipfile

import numpy as np
import pytest
import tifffile
from hostile import assert_clear_error, run_in_process

from temnet_app.core.locations import model_folder

SHIPPED = model_folder("temnet-gn-synthetic")


class _Payload:
    """Unpickling this writes a marker file: proof that a loader ran code from the model."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _model(tmp_path, card_change=None, weights=None):
    folder = tmp_path / "model"
    shutil.copytree(SHIPPED, folder)
    if card_change is not None:
        card = json.loads((folder / "model_card.json").read_text())
        card_change(card)
        (folder / "model_card.json").write_text(json.dumps(card))
    if weights is not None:
        weights(folder / "weights.weights.h5")
    return folder


def _set_config(key, value):
    return lambda card: card["config"].__setitem__(key, value)


def _pickle_weights(marker):
    return lambda path: path.write_bytes(pickle.dumps(_Payload(marker)))


def _keras_archive(marker):
    def write(path):
        path.unlink()
        with zipfile.ZipFile(path, "w") as archive:      # a .keras archive under the h5 name
            archive.writestr("config.json", json.dumps({
                "class_name": "Lambda", "config": {"function": f"open('{marker}', 'w')"}}))
            archive.writestr("model.weights.h5", b"")
            archive.writestr("payload.pkl", pickle.dumps(_Payload(marker)))
    return write


MODELS = {
    "card_not_json": (lambda c: None, "not valid JSON"),
    "net_input_3200000": (_set_config("net_input", 3_200_000), "net_input must be at most 4,096"),
    "window_1e9": (_set_config("window", 1_000_000_000), "window must be at most 16,384"),
    "batch_size_0": (_set_config("batch_size", 0), "batch_size must be at least 1"),
    "train_magnification_0": (_set_config("train_magnification", 0.0), "train_magnification"),
    "unknown_setting": (_set_config("surprise", 1), "unknown detector setting"),
    "classes_differ": (lambda c: c.__setitem__("classes", ["a", "b", "c"]), "differ"),
    "missing_config": (lambda c: c.pop("config"), "lacks config"),
}


@pytest.mark.parametrize("kind", list(MODELS))
def test_a_bad_model_card_is_one_line(kind, tmp_path, capsys):
    change, fragment = MODELS[kind]
    folder = _model(tmp_path, change)
    if kind == "card_not_json":
        (folder / "model_card.json").write_text('{"name": "x", ')
    image = tmp_path / "a.tif"
    tifffile.imwrite(image, np.full((100, 100), 120, np.uint8))
    out = run_in_process(capsys, "predict", image, "--out", tmp_path / "out", "--model", folder)
    assert_clear_error(out, "predict", fragment)


@pytest.mark.parametrize("payload", ["pickle", "keras_archive", "empty", "text"])
def test_weights_that_could_run_code_never_do(payload, tmp_path, capsys):
    marker = tmp_path / "code_ran"
    writers = {"pickle": _pickle_weights(marker), "keras_archive": _keras_archive(marker),
               "empty": lambda p: p.write_bytes(b""),
               "text": lambda p: p.write_text("import os; os.system('touch x')")}
    folder = _model(tmp_path, weights=writers[payload])
    (folder / "extra.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    image = tmp_path / "a.tif"
    tifffile.imwrite(image, np.full((100, 100), 120, np.uint8))
    out = run_in_process(capsys, "predict", image, "--out", tmp_path / "out", "--model", folder)
    assert_clear_error(out, "predict", "weights")
    assert not marker.exists()


def test_backbone_weights_resolve_inside_the_model_folder(tmp_path, monkeypatch):
    from temnet_app.detector.inference import Detector

    seen = []
    monkeypatch.setattr(Detector, "from_config",
                        classmethod(lambda cls, config, **kw: seen.append(config) or
                                    (_ for _ in ()).throw(SystemError("stop here"))))
    folder = _model(tmp_path, lambda c: c["config"].update(
        backbone="resnet101", backbone_weights="imagenet/resnet101.h5", input_channels=3,
        head_min_level=2))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemError):
        Detector.load(folder)
    assert seen[0].backbone_weights == str(folder / "imagenet" / "resnet101.h5")


# ---------------------------------------------------------------------------- annotations
def _labelled(tmp_path, rows, header=True):
    images = tmp_path / "images"
    images.mkdir(exist_ok=True)
    tifffile.imwrite(images / "a.tif", np.full((200, 300), 120, np.uint8))
    lines = ["#filename,file_size,file_attributes,region_count,region_id,"
             "region_shape_attributes,region_attributes"] if header else []
    for name, x, y, w, h in rows:
        lines.append(f'{name},1,"{{}}",1,0,"{{""name"":""rect"",""x"":{x},""y"":{y},'
                     f'""width"":{w},""height"":{h}}}","{{""particle_class"":""mature""}}"')
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(lines) + "\n")
    return images, labels


ANNOTATIONS = {
    "wholly_left": ([("a.tif", -80, 10, 50, 50)], "labels.csv, line 2", "wholly outside"),
    "wholly_above": ([("a.tif", 10, -90, 50, 50)], "line 2", "wholly outside"),
    "wholly_right": ([("a.tif", 10, 10, 20, 20), ("a.tif", 400, 10, 50, 50)], "line 3",
                     "wholly outside the image (300 x 200 px)"),
    "wholly_below": ([("a.tif", 10, 250, 50, 50)], "line 2", "(300 x 200 px)"),
    "escapes_folder": ([("../secret.tif", 10, 10, 50, 50)], "points outside the images folder",
                       "'../secret.tif'"),
    "absolute_name": ([("/etc/passwd", 10, 10, 50, 50)], "points outside", "/etc/passwd"),
    "missing_image": ([("b.tif", 10, 10, 50, 50)], "not in", "b.tif"),
    "bad_number": ([("a.tif", "ten", 10, 50, 50)], "line 2", "labels.csv"),
}


@pytest.mark.parametrize("kind", list(ANNOTATIONS))
def test_bad_labels_in_evaluate_are_one_line(kind, tmp_path, capsys):
    rows, *fragments = ANNOTATIONS[kind]
    images, labels = _labelled(tmp_path, rows)
    out = run_in_process(capsys, "evaluate", "--images", images, "--labels", labels)
    assert_clear_error(out, "evaluate", *fragments)


def test_boxes_reaching_past_an_edge_are_clipped(tmp_path):
    from temnet_app.core.annotations import read_via_csv
    from temnet_app.core.boxes import Box

    _, labels = _labelled(tmp_path, [("a.tif", -20, -10, 60, 40), ("a.tif", 280, 180, 50, 50)])
    boxes = read_via_csv(labels, image_size=lambda name: (300, 200))
    assert boxes == {"a.tif": [Box(0, 0, 40, 30, 2), Box(280, 180, 300, 200, 2)]}
    assert read_via_csv(labels)["a.tif"][1] == Box(280, 180, 330, 230, 2)   # size unknown


BROKEN_FILES = {
    "via_bad_json": ('#filename,file_size,file_attributes,region_count,region_id,'
                     'region_shape_attributes,region_attributes\na.tif,1,"{}",1,0,"{""name"":'
                     '""rect"",""x"":1","{}"\n', "line 2"),
    "via_unknown_class": ('#filename,file_size,file_attributes,region_count,region_id,'
                          'region_shape_attributes,region_attributes\na.tif,1,"{}",1,0,'
                          '"{""name"":""rect"",""x"":1,""y"":1,""width"":5,""height"":5}",'
                          '"{""particle_class"":""dragon""}"\n', "unknown class 'dragon'"),
    "counts_huge": ("filename,eccentric,mature,immature\na.tif,1,12345678901234567890123,0\n",
                    "implausibly large"),
    "counts_negative": ("filename,eccentric,mature,immature\na.tif,1,-3,0\n", "negative"),
    "counts_text": ("filename,eccentric,mature,immature\na.tif,1,many,0\n", "not a number"),
    "counts_no_column": ("filename,eccentric,mature\na.tif,1,2\n", "'immature'"),
    "counts_twice": ("filename,eccentric,mature,immature\na.tif,1,2,3\na.tif,1,2,3\n",
                     "listed twice"),
    "coco_not_json": ("{\"images\": [", "coco.json"),
    "coco_wrong_shape": (json.dumps({"images": "all", "annotations": 3}), "coco.json"),
    "binary_csv": (None, "counts.csv"),
}


@pytest.mark.parametrize("kind", list(BROKEN_FILES))
def test_a_broken_annotation_file_is_refused_and_nothing_is_stored(kind, tmp_path):
    """The window's File > Import: one clear error, the project's manual data untouched."""
    from temnet_app.core.errors import TemnetError
    from temnet_app.core.project import Project
    from temnet_app.jobs import import_annotations

    text, fragment = BROKEN_FILES[kind]
    name = "coco.json" if kind.startswith("coco") else (
        "via.csv" if kind.startswith("via") else "counts.csv")
    path = tmp_path / name
    if text is None:
        path.write_bytes(bytes(range(256)) * 8)
    else:
        path.write_text(text)
    tifffile.imwrite(tmp_path / "a.tif", np.full((100, 100), 120, np.uint8))
    with Project.create(tmp_path / "p.temnet") as project:
        m = project.add_micrograph(project.add_experiment("WT").id, tmp_path / "a.tif")
        project.set_manual_counts(m.id, {"mature": 4})
        with pytest.raises(TemnetError) as error:
            import_annotations(project, path)
        assert fragment in str(error.value) and "\n" not in str(error.value)
        assert project.manual_counts(m.id) == {"mature": 4}
        assert project.annotated_micrograph_ids() == set()
