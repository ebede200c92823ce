"""A lab's own classes end to end through the real CLI: `temnet train --classes` on labels with
four virus classes writes a 4-class model whose card holds names and colours; a project that
detects with it takes those classes, imports the lab's labels under them, and its reports and
plots name them."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from test_train_cli import TINY  # tests/cli is on the path

from temnet_app.cli import main

LAB = ["RiftValley", "Ebola", "Marburg", "Lassa"]
SPEC = "RiftValley:#e41a1c,Ebola,Marburg:#4daf4a,Lassa"


def _relabel(csv_path):
    """Give the simulated virions the lab's four class names, in turn (every class used)."""
    lines = csv_path.read_text().splitlines()
    out, k = [lines[0]], 0
    for line in lines[1:]:
        out.append(re.sub(r'""particle_class"":""\w+""',
                          f'""particle_class"":""{LAB[k % 4]}""', line))
        k += 1
    csv_path.write_text("\n".join(out) + "\n")


@pytest.mark.slow
def test_four_class_model_trains_detects_imports_and_reports(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from temnet_app.core.project import Project
    from temnet_app.detector import Detector, DetectorConfig
    from temnet_app.simulator import simulate_set

    data = tmp_path / "lab"
    simulate_set(data, 2, "dataset", 30000.0, seed=3, width=600, height=600, count=(3, 4))
    _relabel(data / "annotations.csv")
    Detector.from_config(DetectorConfig(**TINY), name="tiny").save(tmp_path / "tiny")

    # fine-tuned from a 3-class model: all but its class head is kept
    model = tmp_path / "models" / "lab4"
    args = ["train", "--data", str(data), "--out", str(model), "--init", str(tmp_path / "tiny"),
            "--epochs", "1", "--steps-per-epoch", "1", "--validation-fraction", "0.5"]
    assert main([*args, "--classes", SPEC]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "classes: RiftValley, Ebola, Marburg, Lassa (from --classes)" in err
    card = json.loads((model / "model_card.json").read_text())
    assert card["classes"] == LAB
    assert card["class_colours"][0] == "#e41a1c" and card["class_colours"][2] == "#4daf4a"
    assert len(set(card["class_colours"])) == 4
    assert f"--classes '{SPEC}'" in card["command"]  # quoted for the shell (the #)
    assert set(card["validation_metrics"]["at_0.5"]["per_class"]) == set(LAB)
    detector = Detector.load(model)
    assert detector.scheme.names == tuple(LAB) and detector.scheme.colour(1) == "#e41a1c"

    project = tmp_path / "lab.temnet"
    assert main(["new", str(project), str(data)]) == 0
    assert main(["detect", str(project), "--model", str(model)]) == 0, capsys.readouterr().err
    assert main(["import", str(project), str(data / "annotations.csv")]) == 0
    capsys.readouterr()
    with Project.open(project) as opened:
        assert opened.class_names == tuple(LAB)
        assert opened.scheme.colours == tuple(card["class_colours"])
        manual = [b.class_id for m in opened.micrographs() for b in opened.manual_boxes(m.id)]
    assert sorted(set(manual)) == [1, 2, 3, 4]

    out = tmp_path / "report"
    assert main(["report", str(project), "--out", str(out)]) == 0, capsys.readouterr().err
    counts = pd.read_csv(out / "lab_micrograph_counts.csv")
    assert {f"n_{n}" for n in LAB} <= set(counts.columns), list(counts.columns)
    by_hand = counts[counts["source"] == "manual"]
    assert by_hand[[f"n_{n}" for n in LAB]].to_numpy().sum() == len(manual)
    text = " ".join(page.extract_text() for page in PdfReader(out / "lab_report.pdf").pages)
    for name in LAB:  # the tables and the plots' legends
        assert text.count(name) >= 2, name
    assert "eccentric" not in text.lower()


def test_unusable_classes_are_one_clear_line(tmp_path, capsys):
    code = main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"),
                 "--classes", "a,b:blue"])
    assert code == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == "temnet train: error: --classes: colour 'blue' is not of the form #rrggbb"


def test_classes_default_to_those_the_labels_use(tmp_path):
    from temnet_app.core.classes import DEFAULT_SCHEME, ClassScheme
    from temnet_app.detector.data.label_classes import training_classes
    from temnet_app.simulator import simulate_set

    data = tmp_path / "lab"
    simulate_set(data, 1, "dataset", 30000.0, seed=3, width=600, height=600, count=(4, 4))
    assert training_classes([data], DEFAULT_SCHEME) == (DEFAULT_SCHEME, "default")
    _relabel(data / "annotations.csv")
    assert training_classes([data], DEFAULT_SCHEME) == (ClassScheme(tuple(LAB)), "the labels")
    given = ClassScheme.parse(SPEC)
    assert training_classes([data], DEFAULT_SCHEME, given) == (given, "--classes")
    assert np.all([n in LAB for n in training_classes([data], given)[0].names])
