"""Where the shipped model and the resources are found: a source checkout, and a frozen bundle
(sys._MEIPASS) that is searched first."""

import sys

from temnet_app.core import locations
from temnet_app.jobs import default_model_dir

REPO = locations.app_roots()[-2]


def test_source_checkout():
    assert locations.resource("temnet-studio.svg") == REPO / "resources" / "temnet-studio.svg"
    assert default_model_dir() == REPO / "models" / "temnet-gn-pellet"
    assert (default_model_dir() / "model_card.json").is_file()
    assert locations.resource("nothing.png") is None
    assert not locations.frozen()


def test_frozen_bundle_is_searched_first(tmp_path, monkeypatch):
    (tmp_path / "models" / "temnet-gn-pellet").mkdir(parents=True)
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "temnet-studio.svg").write_text("<svg/>")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert locations.frozen()
    assert locations.resource("temnet-studio.svg") == tmp_path / "resources" / "temnet-studio.svg"
    assert default_model_dir() == tmp_path / "models" / "temnet-gn-pellet"
    assert locations.model_folder("other") == REPO / "models" / "other"   # missing: checkout


def test_training_runs_the_bundles_own_cli_when_frozen(tmp_path, monkeypatch):
    from temnet_app.jobs.training import cli_prefix

    assert cli_prefix()[1:] == ["-m", "temnet_app"]
    exe = tmp_path / "TEMNetStudio"
    exe.write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert cli_prefix() == [str(exe)]
    (tmp_path / "temnet").write_text("")
    assert cli_prefix() == [str(tmp_path / "temnet")]
