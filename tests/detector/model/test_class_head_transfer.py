"""Fine-tuning on other classes: everything but the class head comes from the model started
from; the head is sized for the new classes and starts afresh."""

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
from test_train_run import tiny_config  # noqa: E402

from temnet_app.core.errors import ModelError  # noqa: E402
from temnet_app.detector.model.assembly import build_inference_model  # noqa: E402
from temnet_app.detector.model.weights import save_weights, seeded_init  # noqa: E402
from temnet_app.detector.training.loop import _build_model  # noqa: E402


def test_other_classes_keep_the_body_and_get_a_fresh_head(tmp_path):
    hiv = tiny_config()
    lab = hiv.replace(class_names=("a", "b", "c", "d"), class_colours=())
    source = build_inference_model(hiv)
    seeded_init(source, 7)
    save_weights(source, tmp_path / "hiv.weights.h5")

    _, model = _build_model(lab, tmp_path / "hiv.weights.h5", seed=1, weights_config=hiv)
    head = {w.path for w in model.weights
            if "head_class_logits" in w.path or "head_deltas" in w.path}
    # 4 classes + background logits, and 4 deltas for each of them
    assert {tuple(w.shape)[-1] for w in model.weights if w.path in head} == {5, 20}
    copied = 0
    for mine, theirs in zip(model.weights, source.weights):
        if mine.path in head:
            assert tuple(mine.shape) != tuple(theirs.shape)
        else:
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
            copied += 1
    assert copied == len(model.weights) - 4

    # the same classes load the file as it is; another architecture is one clear error
    _, same = _build_model(hiv, tmp_path / "hiv.weights.h5", weights_config=hiv)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(same.weights,
                                                                     source.weights))
    wider = lab.replace(head_units=32)
    with pytest.raises(ModelError, match="cannot start from that model: .*head_fc1"):
        _build_model(wider, tmp_path / "hiv.weights.h5", weights_config=hiv)
