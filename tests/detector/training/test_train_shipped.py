"""The shipped models really find virions: on three freshly simulated 1600 x 1200 micrographs
(seeds no training or test set used) at least 70% of the true virions are found at IoU > 0.5
with the right class, with false positives under 20% of them, by the default model
(models/temnet-gn-pellet) and by the model it was fine-tuned from (models/temnet-gn-synthetic).
Their cards tell the user the weights learned from simulated micrographs only."""

import json

import pytest

from temnet_app.core.locations import model_folder
from temnet_app.jobs import default_model_dir

MODEL = default_model_dir()
SYNTHETIC = model_folder("temnet-gn-synthetic")

pytestmark = pytest.mark.skipif(
    not (MODEL / "model_card.json").is_file(),
    reason=f"the shipped model {MODEL} does not exist (train it with `temnet train`, see "
           f"its model card)")


@pytest.mark.parametrize("folder", [MODEL, SYNTHETIC], ids=["default", "synthetic"])
def test_shipped_card_describes_simulated_training_and_fine_tuning(folder):
    card = json.loads((folder / "model_card.json").read_text(encoding="utf-8"))
    assert card["name"] == folder.name
    assert card["config"]["preset"] == "compact"
    notes = card["notes"]
    # the first note, the one the window's model dialog shows on top, says where the weights
    # come from; a later one how a lab adapts them
    assert "SIMULATED" in notes[0]
    assert f"--init models/{folder.name}" in " ".join(notes)
    assert card["command"].startswith("temnet train ")
    assert card["validation_metrics"]["at_0.5"]["map"] is not None
    assert (folder / "weights.weights.h5").stat().st_size < 15_000_000


def test_the_default_is_the_pellet_model():
    assert MODEL.name == "temnet-gn-pellet"
    assert json.loads((MODEL / "model_card.json").read_text())["notes"][0].startswith(
        "The default model.")


@pytest.mark.parametrize("folder", [MODEL, SYNTHETIC], ids=["default", "synthetic"])
def test_shipped_model_finds_virions_on_a_fresh_simulated_micrograph(folder):
    pytest.importorskip("tensorflow")
    from temnet_app.core.analysis import evaluate
    from temnet_app.detector import Detector
    from temnet_app.simulator import preset_params, simulate

    detector = Detector.load(folder)
    predictions, truths = {}, {}
    for seed in (777_001, 777_002, 777_003):  # seeds no training or test set used
        sim = simulate(preset_params("dataset", width=1600, height=1200, seed=seed,
                                     density=(25.0, 30.0)))
        predictions[str(seed)] = detector.detect(sim.image, 30000.0)
        truths[str(seed)] = list(sim.boxes)
    ev = evaluate(predictions, truths, detector.config.class_scheme.ids, iou_threshold=0.5,
                  score_threshold=0.5)
    o = ev.overall
    n_truth = o.tp + o.fn
    assert n_truth >= 30
    assert o.tp >= 0.7 * n_truth, (o.tp, n_truth, o.fp)  # found with the right class
    assert o.fp <= 0.2 * n_truth, (o.tp, n_truth, o.fp)
