"""The ``temnet`` dispatcher: help, version, default command, one-line errors."""

import subprocess
import sys

from temnet_app import __version__
from temnet_app.cli import build_parser, main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "temnet_app", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def test_version_and_help_list_commands():
    result = run_cli("--version")
    assert result.returncode == 0 and __version__ in result.stdout
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("demo", "open", "info"):
        assert command in result.stdout


def test_every_command_module_has_help_line():
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices
    assert {"demo", "open", "info"} <= set(choices)
    for name, sub in choices.items():
        assert sub.description and "\n" not in sub.description, name


def test_missing_project_is_one_line_error_exit_2(tmp_path, capsys):
    code = main(["open", str(tmp_path / "nope.temnet")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "nope.temnet" in err and "Traceback" not in err


def test_bare_path_runs_default_open_command(tmp_path, capsys):
    code = main([str(tmp_path / "missing.temnet")])
    assert code == 2 and "temnet open: error" in capsys.readouterr().err


def test_unknown_option_is_usage_error():
    result = run_cli("demo", "--no-such-flag")
    assert result.returncode == 2 and "unrecognized arguments" in result.stderr


def test_info_prints_the_project_summary(tmp_path):
    from temnet_app.core.project import Project

    with Project.create(tmp_path / "p.temnet") as project:
        project.add_experiment("WT")
    result = run_cli("info", str(tmp_path / "p.temnet"))
    assert result.returncode == 0, result.stderr
    assert "WT: 0 micrographs" in result.stdout and "detection runs: 0" in result.stdout
    result = run_cli("info", str(tmp_path / "missing.temnet"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_open_refuses_a_folder_in_one_line(tmp_path, capsys):
    assert main(["open", str(tmp_path)]) == 2
    assert "is a folder, not a project file" in capsys.readouterr().err
