"""The paper schedule on a tiny network: the classifier pre-training changes the backbone and
nothing else, a cancel inside it keeps a checkpoint (with the classifier head) that resumes,
and the run goes on through the RPN and full stages to a model Detector.load reads."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from test_train_run import _h5_arrays as _arrays  # noqa: E402
from test_train_run import tiny_config, tiny_micrographs

from temnet_app.core.errors import Cancelled  # noqa: E402
from temnet_app.core.progress import CancelToken  # noqa: E402
from temnet_app.detector.training.loop import TrainSettings, train  # noqa: E402
from temnet_app.detector.training.state import load_state  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("paper_run")
    micrographs = tiny_micrographs(root / "data", seed=6)
    cfg = tiny_config()
    settings = TrainSettings(epochs=4, schedule="paper", pretrain_epochs=2, rpn_epochs=1,
                             steps_per_epoch=2, classifier_batch_size=4,
                             validation_fraction=0.0, augment=False)
    out = root / "model"
    token = CancelToken()
    seen = {}
    from temnet_app.detector.model.weights import save_weights
    from temnet_app.detector.training.loop import _build_model

    _, initial = _build_model(cfg, None, seed=settings.seed)  # what train() starts from
    save_weights(initial, root / "initial.weights.h5")

    def progress(fraction, message):
        if message.startswith("epoch 1/4 [backbone]") and " val " in message:
            seen["after_pretrain_epoch1"] = _arrays(out / "checkpoint" / "last.weights.h5")
        if message.startswith("epoch 2/4 [backbone] step 1/"):
            token.cancel()

    with pytest.raises(Cancelled, match="epoch 2"):
        train(micrographs, cfg, out, settings, progress=progress, cancel=token)
    seen["cancelled_state"] = load_state(out / "checkpoint")
    seen["head_file"] = (out / "checkpoint" / "classifier_head.npz").is_file()
    result = train(micrographs, cfg, out, TrainSettings(epochs=4), resume=True,
                   command="pytest paper run")
    return {"root": root, "out": out, "cfg": cfg, "seen": seen, "result": result,
            "initial": _arrays(root / "initial.weights.h5"), "micrographs": micrographs}


def test_pretraining_changes_the_backbone_and_nothing_else(run):
    before, after = run["initial"], run["seen"]["after_pretrain_epoch1"]
    assert before.keys() == after.keys()
    changed = {name for name in before if not np.array_equal(before[name], after[name])}
    # HDF5 paths name layer classes: the TEMNet blocks are ConvGroupNormPool layers.
    blocks = {name.rsplit("/vars/", 1)[0] for name in changed}
    assert all(b.endswith(("conv_group_norm_pool", "conv_group_norm_pool_1",
                           "conv_group_norm_pool_2", "conv_group_norm_pool_3")) for b in blocks), \
        sorted(changed)
    assert len(blocks) == 4  # every block learned; FPN, RPN and box head kept their init


def test_cancel_in_pretraining_keeps_a_resumable_checkpoint_with_the_head(run):
    state = run["seen"]["cancelled_state"]
    assert state.epoch == 1 and state.stage == "backbone" and not state.finished
    assert run["seen"]["head_file"]
    assert set(state.history[0]["train"]) == {"total", "accuracy"}


def test_resumed_run_goes_through_all_three_stages(run):
    state = run["result"].state
    assert state.finished and state.epoch == 4
    assert [(h["epoch"], h["stage"]) for h in state.history] == [
        (1, "backbone"), (2, "backbone"), (3, "rpn"), (4, "all")]
    assert set(state.history[2]["validation"]) == {"total", "rpn_class", "rpn_box"}
    assert state.best_epoch == 4  # the "all" stage's own bookkeeping


def test_card_describes_the_virion_crops_and_the_model_loads(run):
    from temnet_app.detector import Detector

    detector = Detector.load(run["out"])
    card = detector.card
    crops = card["training_data"]["virion_crops"]
    boxes = card["training_data"]["train"]["boxes_per_class"]
    assert crops["crop_side_px"] == 64 and crops["train_crops"] == boxes
    assert card["training_run"]["settings"]["schedule"] == "paper"
    assert [h["stage"] for h in card["training_run"]["history"]] == [
        "backbone", "backbone", "rpn", "all"]
    assert card["command"] == "pytest paper run"
