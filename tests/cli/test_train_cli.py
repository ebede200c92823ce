"""``temnet train`` through cli.main: errors are one line with exit 2; a fine-tuning run from
--init (a tiny 64-px model, so it stays fast) writes a model folder, a checkpoint and a card
recording the command; --resume extends it."""

import json

import numpy as np
import pytest

from temnet_app.cli import main

TINY = dict(net_input=64, window=512, window_overlap=128, input_channels=1, fpn_channels=8,
            rpn_channels=8, head_units=16, anchor_scales=(24.0, 48.0), anchor_ratios=(1.0,),
            anchor_stride=1, pre_nms_top_k=64, train_post_nms_rois=16, post_nms_rois=16,
            rpn_train_anchors=32, train_rois=8, max_gt_boxes=4, batch_size=2,
            tiling_mode="whole")


def _data_and_tiny_model(tmp_path, preset: str, seed: int) -> None:
    """``tmp_path/data``: 2 simulated 600-px micrographs (2-3 virions each) with their VIA CSV;
    ``tmp_path/tiny``: a freshly initialised tiny model folder to start from."""
    from temnet_app.detector import Detector, DetectorConfig
    from temnet_app.simulator import simulate_set

    simulate_set(tmp_path / "data", 2, preset, 30000.0, seed=seed, width=600, height=600,
                 count=(2, 3))
    Detector.from_config(DetectorConfig(**TINY), name="tiny").save(tmp_path / "tiny")


def _error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    return err[-1]


def test_missing_data_is_one_clear_line(tmp_path, capsys):
    code = main(["train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "m")])
    assert code == 2
    line = _error_line(capsys)
    assert line.startswith("temnet train: error:") and "nope" in line


def test_resume_without_checkpoint_is_refused(tmp_path, capsys):
    from temnet_app.simulator import simulate_set

    simulate_set(tmp_path / "data", 1, "WT", 30000.0, seed=1, width=300, height=300, count=1)
    code = main(["train", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "m"),
                 "--resume"])
    assert code == 2 and "nothing to resume" in _error_line(capsys)


def test_init_with_another_backbone_is_refused(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from temnet_app.detector import Detector, DetectorConfig

    Detector.from_config(DetectorConfig(**TINY), name="tiny").save(tmp_path / "tiny")
    code = main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"),
                 "--init", str(tmp_path / "tiny"), "--backbone", "temnet-bn"])
    assert code == 2 and "temnet-gn backbone" in _error_line(capsys)


@pytest.mark.slow
def test_fine_tune_from_init_then_resume(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from temnet_app.detector import Detector, DetectorConfig, load_state

    _data_and_tiny_model(tmp_path, "IN-E96A", seed=8)
    (tmp_path / "notes.txt").write_text("Trained on simulated\nmicrographs.\n\nSecond note.\n")
    out = tmp_path / "models" / "lab"
    args = ["train", "--data", str(tmp_path / "data"), "--out", str(out), "--init",
            str(tmp_path / "tiny"), "--epochs", "1", "--steps-per-epoch", "1",
            "--validation-fraction", "0.5", "--note-file", str(tmp_path / "notes.txt")]
    assert main(args) == 0, capsys.readouterr().err
    captured = capsys.readouterr()
    assert "epoch 1/1 [all] step 1/1 loss" in captured.err and " val " in captured.err
    assert "wrote" in captured.out and "validation mAP@0.5" in captured.out
    card = json.loads((out / "model_card.json").read_text())
    assert card["name"] == "lab" and card["classes"] == ["eccentric", "mature", "immature"]
    assert card["command"].startswith("temnet train --data ")
    assert "--init" in card["command"] and "--steps-per-epoch 1" in card["command"]
    assert "--learning-rate 0.001" in card["command"]  # fine-tuning default
    assert card["training_run"]["settings"]["learning_rate"] == 0.001
    assert card["notes"] == ["Trained on simulated micrographs.", "Second note."]
    split = card["training_data"]["split"]
    assert len(split["train"]) == 1 and len(split["validation"]) == 1
    assert card["validation_metrics"]["micrographs"] == 1
    assert {"date", "app_version", "config"} <= set(card)
    assert DetectorConfig.from_dict(card["config"]) == DetectorConfig(**TINY)
    for name in ("state.json", "last.weights.h5", "best.weights.h5", "optimizer.npz"):
        assert (out / "checkpoint" / name).is_file(), name
    assert Detector.load(out).name == "lab"

    assert main([*args, "--epochs", "2", "--resume"]) == 0, capsys.readouterr().err
    state = load_state(out / "checkpoint")
    assert state.finished and state.epoch == 2 and len(state.history) == 2
    card = json.loads((out / "model_card.json").read_text())
    assert card["training_run"]["epochs"] == 2 and card["command"].endswith("--resume")


def test_paper_schedule_without_pretrain_epochs_is_one_clear_line(tmp_path, capsys):
    code = main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"),
                 "--schedule", "paper", "--rpn-epochs", "2"])
    assert code == 2
    line = _error_line(capsys)
    assert line.startswith("temnet train: error:") and "pretrain_epochs >= 1" in line


def test_command_line_spells_out_the_paper_schedule():
    import argparse

    from temnet_app.commands.train import add_arguments, command_line

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--data", "d", "--out", "m", "--schedule", "paper",
                              "--pretrain-epochs", "4", "--rpn-epochs", "5", "--epochs", "24"])
    line = command_line(args)
    assert "--schedule paper --pretrain-epochs 4 --rpn-epochs 5" in line
    assert "--epochs 24" in line and "--learning-rate" not in line  # not chosen yet


def test_learning_rate_defaults_0_01_fresh_0_001_short_fine_tuning_0_01_long(tmp_path, monkeypatch):
    """run() fills the default before training starts (train itself is stubbed out here); the
    default start is the shipped model, --from-scratch starts from random weights."""
    import argparse

    import temnet_app.detector as train_module
    from temnet_app.commands import train as command
    from temnet_app.core.errors import ModelError

    seen = []

    def fake_train(micrographs, config, out, settings, **kwargs):
        seen.append((settings.learning_rate, kwargs["command"]))
        raise ModelError("stop here")

    monkeypatch.setattr(train_module, "train", fake_train)
    monkeypatch.setattr(command, "load_data", lambda paths, scheme, *choice: [])
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    for extra, expected, start in (([], 0.001, "--init"), (["--from-scratch"], 0.01, "--from"),
                                   (["--learning-rate", "0.005"], 0.005, "--init"),
                                   (["--epochs", "30"], 0.01, "--init"),       # a long run
                                   (["--epochs", "200", "--time-limit", "30"], 0.01, "--init"),
                                   (["--epochs", "200", "--time-limit", "5"], 0.001, "--init"),
                                   (["--epochs", "29"], 0.001, "--init")):
        args = parser.parse_args(["--data", "d", "--out", str(tmp_path / "m"), *extra])
        with pytest.raises(ModelError, match="stop here"):
            command.run(args)
        assert seen[-1][0] == expected and f"--learning-rate {expected:g}" in seen[-1][1]
        assert f" {start}" in seen[-1][1]
    assert "temnet-gn-pellet" in seen[0][1] and "--init" not in seen[1][1]
    # a resumed run goes on at its checkpoint's settings, and its command says so
    from temnet_app.detector import TrainSettings
    from temnet_app.detector.model import DetectorConfig
    from temnet_app.detector.training.state import TrainState, save_state

    save_state(tmp_path / "r" / "checkpoint", TrainState(
        epoch=1, config=DetectorConfig().to_dict(),
        settings=TrainSettings(learning_rate=0.001).to_dict()))
    (tmp_path / "r" / "checkpoint" / "last.weights.h5").write_bytes(b"")  # train is faked
    args = parser.parse_args(["--data", "d", "--out", str(tmp_path / "r"), "--resume"])
    with pytest.raises(ModelError, match="stop here"):
        command.run(args)
    assert "--learning-rate 0.001" in seen[-1][1] and "--init" not in seen[-1][1]
    assert "balance-classes" not in seen[-1][1]
    save_state(tmp_path / "r" / "checkpoint", TrainState(
        epoch=1, config=DetectorConfig().to_dict(),
        settings=TrainSettings(balance_classes=False).to_dict()))
    with pytest.raises(ModelError, match="stop here"):
        command.run(parser.parse_args(["--data", "d", "--out", str(tmp_path / "r"), "--resume"]))
    assert "--no-balance-classes" in seen[-1][1]  # the run goes on unbalanced, as it began
    args = parser.parse_args(["--data", "d", "--out", "m", "--init", "x", "--from-scratch"])
    with pytest.raises(ModelError, match="exclude each other"):
        command.run(args)


def test_without_the_shipped_model_the_default_start_says_it_trains_from_scratch(
        tmp_path, monkeypatch, capsys):
    """The default start is the shipped model; when it is missing, unreadable or of another
    kind, training starts from random weights and stderr says so (it used to be silent)."""
    import temnet_app.jobs as jobs
    from temnet_app.commands.train import shipped_start

    shipped = jobs.default_model_dir()
    if (shipped / "model_card.json").is_file():
        assert shipped_start("compact", "temnet-gn") == shipped
        assert "starting from the shipped model" in capsys.readouterr().err
    folder = tmp_path / "temnet-gn-pellet"
    monkeypatch.setattr(jobs, "default_model_dir", lambda: folder)
    assert shipped_start("compact", "temnet-gn") is None
    err = capsys.readouterr().err
    assert "missing or unreadable" in err and "random weights" in err and str(folder) in err
    folder.mkdir()
    (folder / "model_card.json").write_text("{not json")
    assert shipped_start("compact", "temnet-gn") is None
    assert "missing or unreadable" in capsys.readouterr().err
    (folder / "model_card.json").write_text(json.dumps(
        {"config": {"preset": "paper", "backbone": "temnet-gn"}}))
    assert shipped_start("compact", "TEMNet-GN") is None
    err = capsys.readouterr().err
    assert "a paper temnet-gn detector, not compact temnet-gn" in err
    (folder / "model_card.json").write_text(json.dumps(
        {"config": {"preset": "compact", "backbone": "temnet-gn"}}))
    assert shipped_start("compact", "TEMNet-GN") == folder


def test_labels_off_their_scale_are_warned_about_on_stderr(tmp_path, capsys):
    import numpy as np
    import tifffile

    from temnet_app.core.annotations import write_via_csv
    from temnet_app.core.boxes import Box

    data = tmp_path / "data"
    data.mkdir()
    tifffile.imwrite(data / "a.tif", np.full((700, 700), 120, np.uint8),
                     description="Direct Mag: 30000x")        # 0.561 nm/px
    write_via_csv(data / "annotations.csv", {"a.tif": [Box(10, 10, 610, 610, 2)]})
    from temnet_app.commands.train import load_data
    from temnet_app.core.boxes import DEFAULT_SCHEME

    (item,) = load_data([data], DEFAULT_SCHEME)       # what `temnet train` reads its data with
    err = capsys.readouterr().err
    assert item.pixel_size_nm == pytest.approx(0.561)
    assert ("warning: a.tif: the labelled boxes measure ~337 nm at 0.561 nm/px (30,000x from "
            "the file, at the reference calibration), but virions are ~145 nm: check its scale "
            "(about 0.242 nm/px would fit)") in err


@pytest.mark.slow
def test_time_limit_ends_the_run_after_a_validated_epoch(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from temnet_app.detector import load_state

    _data_and_tiny_model(tmp_path, "WT", seed=4)
    out = tmp_path / "m"
    # 0.001 min: any epoch is longer than half of that, so the first one is the last
    assert main(["train", "--data", str(tmp_path / "data"), "--out", str(out), "--init",
                 str(tmp_path / "tiny"), "--epochs", "5", "--steps-per-epoch", "2",
                 "--validation-fraction", "0.5", "--time-limit", "0.001",
                 "--validate-every", "3", "--warmup-steps", "4",
                 "--appearance-augment"]) == 0
    err = capsys.readouterr().err
    assert "time limit of 0.001 min reached after epoch 1" in err
    state = load_state(out / "checkpoint")
    assert state.epoch == 1 and state.finished and state.history[0]["validation"]
    card = json.loads((out / "model_card.json").read_text())
    assert "--time-limit 0.001" in card["command"] and "--warmup-steps 4" in card["command"]
    assert card["training_run"]["settings"]["warmup_steps"] == 4
    assert card["training_run"]["settings"]["appearance_augment"] is True
    assert "--appearance-augment" in card["command"]


@pytest.mark.slow
def test_recipe_options_reach_the_run_and_the_card(tmp_path, capsys):
    """--scale-augment, class balancing (on by default) and --rois-per-crop: recorded in the
    card's settings, config and command; the loss weights are the class-balanced ones of the
    labels the training crops hold; --no-balance-classes turns them off."""
    pytest.importorskip("tensorflow")
    from temnet_app.detector.training.class_balance import balanced_weights

    _data_and_tiny_model(tmp_path, "IN-E96A", seed=12)
    out = tmp_path / "m"
    assert main(["train", "--data", str(tmp_path / "data"), "--out", str(out), "--init",
                 str(tmp_path / "tiny"), "--epochs", "1", "--steps-per-epoch", "2",
                 "--validation-fraction", "0.5", "--scale-augment", "--rois-per-crop", "12"]) == 0
    capsys.readouterr()
    card = json.loads((out / "model_card.json").read_text())
    settings = card["training_run"]["settings"]
    assert settings["scale_augment"] is True and settings["balance_classes"] is True
    assert card["config"]["train_rois"] == 12
    for flag in ("--scale-augment", "--rois-per-crop 12"):
        assert flag in card["command"]
    assert "balance-classes" not in card["command"]
    held = card["training_data"]["train"]["labels_in_crops_per_class"]
    names = card["config"]["class_names"]
    expect = balanced_weights([held[n] for n in names])[1:]
    weights = card["training_run"]["class_loss_weights"]
    assert [weights[n] for n in names] == pytest.approx(expect, abs=1e-4)
    unbalanced = _unbalanced_card(tmp_path)
    assert "class_loss_weights" not in unbalanced["training_run"]
    assert unbalanced["training_run"]["settings"]["balance_classes"] is False
    assert "--no-balance-classes" in unbalanced["command"]


def _unbalanced_card(tmp_path) -> dict:
    out = tmp_path / "plain"
    assert main(["train", "--data", str(tmp_path / "data"), "--out", str(out), "--init",
                 str(tmp_path / "tiny"), "--epochs", "1", "--steps-per-epoch", "1",
                 "--validation-fraction", "0.5", "--no-balance-classes"]) == 0
    return json.loads((out / "model_card.json").read_text())


@pytest.mark.slow
def test_net_input_trains_at_another_network_scale_with_anchors_scaled(tmp_path, capsys):
    """--net-input 128 from the 64-px tiny model: the card's config has net_input 128 and the
    anchors doubled, the command records it, the model detects at that scale; resuming at
    another --net-input, or one not a multiple of 32, is a one-line error."""
    pytest.importorskip("tensorflow")
    from temnet_app.detector import Detector

    _data_and_tiny_model(tmp_path, "WT", seed=14)
    out = tmp_path / "m"
    base = ["train", "--data", str(tmp_path / "data"), "--out", str(out), "--init",
            str(tmp_path / "tiny"), "--epochs", "1", "--steps-per-epoch", "1",
            "--validation-fraction", "0.5"]
    assert main(base + ["--net-input", "128"]) == 0
    capsys.readouterr()
    card = json.loads((out / "model_card.json").read_text())
    assert card["config"]["net_input"] == 128
    assert card["config"]["anchor_scales"] == [48.0, 96.0]
    assert "--net-input 128" in card["command"]
    detector = Detector.load(out)
    assert detector.config.net_input == 128
    image = (np.random.default_rng(0).random((600, 600)) * 255).astype(np.uint8)
    assert isinstance(detector.detect(image, 30000.0), list)
    assert main(base + ["--epochs", "2", "--resume", "--net-input", "256"]) == 2
    assert "--net-input 128, not 256" in _error_line(capsys)
    assert main(base[:4] + [str(tmp_path / "other"), *base[5:], "--net-input", "100"]) == 2
    assert "multiple of 32" in _error_line(capsys)
