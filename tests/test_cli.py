"""The command line: every subcommand has help text, and validate's exit codes and messages."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from faqbot import cli

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "kb"


def test_every_subcommand_has_a_docstring_with_an_example() -> None:
    assert "validate" in cli.COMMANDS
    for name, spec in cli.COMMANDS.items():
        doc = (spec.function.__doc__ or "").strip()
        assert doc, f"{name} has no help text"
        assert f"Example: faqbot {name}" in doc, f"{name}'s help text has no example"


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_help_prints_the_docstring(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main([name, "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    first_line = (cli.COMMANDS[name].function.__doc__ or "").strip().splitlines()[0]
    assert first_line in out
    assert "Example:" in out


def test_validate_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--knowledge-dir", str(FIXTURE)]) == 0
    assert capsys.readouterr().out == (
        "OK: 3 items in 2 categories, 2 sources, 4 alternates, 2 synonym groups.\n"
    )


def test_validate_prints_every_problem_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURE, tmp_path / "kb")
    monkeypatch.chdir(tmp_path)
    text = (tmp_path / "kb" / "items" / "tavshed.yaml").read_text(encoding="utf-8")
    text = text.replace("source: guide-b", "source: guide-q").replace("answer:", "answr:")
    (tmp_path / "kb" / "items" / "tavshed.yaml").write_text(text, encoding="utf-8")
    assert cli.main(["validate", "--knowledge-dir", "kb"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "kb/items/tavshed.yaml:1: item 'peer-tavshed': missing required field 'answer'",
        "kb/items/tavshed.yaml:6: item 'peer-tavshed': unknown key 'answr' "
        "(did you mean 'answer'?)",
        "kb/items/tavshed.yaml:10: item 'peer-tavshed': unknown source id 'guide-q' "
        "(did you mean 'guide-b'?)",
    ]
    assert captured.err == "Error: the knowledge base has 3 problem(s).\n"


def test_malformed_setting_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAQBOT_RETENTION_DAYS", "never")
    assert cli.main(["validate", "--knowledge-dir", str(FIXTURE)]) == 1
    assert capsys.readouterr().err == (
        "Error: FAQBOT_RETENTION_DAYS must be a whole number of at least 1, got 'never'.\n"
    )


def test_python_dash_m_and_console_script_work() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "faqbot", "validate", "--knowledge-dir", str(FIXTURE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 3 items")
