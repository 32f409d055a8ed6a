"""``faqbot report`` and ``faqbot purge``: exit codes, exact error lines, each format."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from faqbot import cli, kb
from faqbot.questionlog import QuestionLog
from faqbot.settings import KeepText

FIXTURE_KB = Path(__file__).resolve().parent / "fixtures" / "kb"
NO_LOG = "it is created when the bot answers its first question"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("FAQBOT_") or name == "TELEGRAM_BOT_TOKEN":
            monkeypatch.delenv(name)
    directory = tmp_path / "data"
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(directory))
    monkeypatch.setenv("FAQBOT_KNOWLEDGE_DIR", str(FIXTURE_KB))
    monkeypatch.setenv("FAQBOT_SECRET", "s")  # the secret fill() writes the log with
    return directory


def fill(data_dir: Path, ages_in_days: tuple[float, ...] = ()) -> str:
    """Three answers, a no_match with a phone number, a safety message; returns an item id."""
    item_id = kb.load(FIXTURE_KB).items[0].id

    async def run() -> None:
        now = datetime.now(UTC)
        clock = [now]
        log = await QuestionLog.open(
            data_dir / "faqbot.sqlite3",
            secret=b"s",
            keep_text=KeepText.UNANSWERED,
            retention_days=90,
            clock=lambda: clock[0],
        )
        for status, item, text in (
            ("answered", item_id, "a"),
            ("answered", item_id, "b"),
            ("answered", item_id, "c"),
            ("no_match", None, "Hvem ringer jeg til på 12 34 56 78?"),
            ("safety", None, "jeg kan ikke mere"),
        ):
            log.log_question(
                question=text,
                status=status,
                item_id=item,
                score=0.5,
                latency_ms=1.0,
                chat_kind="private",
                user_id=1,
            )
        for age in ages_in_days:
            clock[0] = now - timedelta(days=age)
            log.log_question(
                question=f"{age} dage gammel",
                status="clarify",
                item_id=item_id,
                score=0.4,
                latency_ms=1.0,
                chat_kind="group",
                user_id=2,
            )
        await log.close()

    asyncio.run(run())
    return item_id


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("days", ["0", "-3", "abc", "1.5", ""])
def test_report_days_must_be_a_positive_whole_number(
    data_dir: Path, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    fill(data_dir)
    assert run(capsys, "report", f"--days={days}") == (
        1,
        "",
        f"Error: --days must be a whole number of at least 1, got {days!r}.\n",
    )


def test_report_format_must_be_known(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "report", "--format", "pdf") == (
        1,
        "",
        "Error: --format must be one of text, csv, html, png; got 'pdf'.\n",
    )


def test_report_png_needs_out(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "report", "--format", "png") == (
        1,
        "",
        "Error: --format png needs --out FILE.\n",
    )


def test_report_without_a_log(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = data_dir / "faqbot.sqlite3"
    assert run(capsys, "report") == (
        1,
        "",
        f"Error: there is no question log at {path} yet; {NO_LOG}.\n",
    )
    assert not path.exists()


def test_report_on_a_file_that_is_not_a_database(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir.mkdir()
    path = data_dir / "faqbot.sqlite3"
    path.write_bytes(b"this is not sqlite " * 100)
    assert run(capsys, "report") == (
        1,
        "",
        f"Error: cannot read the question log {path}: file is not a database.\n",
    )


def test_report_text_to_stdout(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    item_id = fill(data_dir)
    code, out, err = run(capsys, "report", "--days", "7")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "(1 dag)" in lines[1]  # the log is younger than 7 days
    assert "Loggen går kun 1 dag tilbage, så perioden er 1 dag (ikke 7)." in lines
    assert "  Spørgsmål: 5 (før 0, ny)" in lines
    assert "Krisebeskeder: 1 (før 0, ny)" in lines
    question = kb.load(FIXTURE_KB).item(item_id).question
    assert f"   1.     3  ny    {question}" in lines
    assert "    1 × Hvem ringer jeg til på [telefonnr.]?" in lines
    assert item_id not in out
    assert "12 34 56 78" not in out and "ikke mere" not in out


def test_report_csv_to_a_file(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item_id = fill(data_dir)
    out_file = tmp_path / "rapport.csv"
    assert run(capsys, "report", "--out", str(out_file)) == (
        0,
        f"Rapporten er gemt i {out_file}.\n",
        "",
    )
    table = list(csv.reader(io.StringIO(out_file.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert table[0][0] == "afsnit"
    assert table[2][:5] == ["overblik", "Spørgsmål", "5", "0", "5"]
    question = kb.load(FIXTURE_KB).item(item_id).question
    assert ["spørgsmål", question, "3", "0", "3", ""] in table


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("rapport.html", b"<!DOCTYPE html>"),
        ("RAPPORT.HTM", b"<!DOCTYPE html>"),
        ("rapport.csv", b'\xef\xbb\xbf"afsnit";"navn"'),
        ("rapport.png", b"\x89PNG\r\n\x1a\n"),
        ("rapport.txt", b"Rapport: hvad"),
        ("rapport", b"Rapport: hvad"),
    ],
)
def test_report_format_follows_the_file_name(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, start: bytes
) -> None:
    fill(data_dir)
    out_file = tmp_path / name
    assert run(capsys, "report", "--out", str(out_file))[0] == 0
    assert out_file.read_bytes().startswith(start)


def test_report_format_and_file_name_must_agree(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(data_dir)
    out_file = tmp_path / "rapport.html"
    assert run(capsys, "report", "--format", "csv", "--out", str(out_file)) == (
        1,
        "",
        "Error: --format csv does not match the file name rapport.html; "
        "drop --format or change the name.\n",
    )
    assert not out_file.exists()
    assert run(capsys, "report", "--out", str(tmp_path / "rapport.pdf")) == (
        1,
        "",
        "Error: cannot tell the format from the file name rapport.pdf; "
        "give --format (text, csv, html, png).\n",
    )
    assert run(capsys, "report", "--format", "text", "--out", str(tmp_path / "r.log"))[0] == 0


def test_report_leaves_out_the_terminal_chat_unless_asked(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(data_dir)

    async def chat() -> None:
        log = await QuestionLog.open(
            data_dir / "faqbot.sqlite3", secret=b"s", keep_text=KeepText.ALL, retention_days=90
        )
        log.log_question(
            question="en test i terminalen",
            status="no_match",
            item_id=None,
            score=0.1,
            latency_ms=1.0,
            chat_kind="terminal",
            user_id=None,
        )
        await log.close()

    asyncio.run(chat())
    out = run(capsys, "report")[1]
    assert "  Spørgsmål: 5 (før 0, ny)" in out and "en test i terminalen" not in out
    out = run(capsys, "report", "--include-terminal")[1]
    assert "  Spørgsmål: 6 (før 0, ny)" in out and "en test i terminalen" in out
    assert "Spørgsmål fra terminalchatten (test) er talt med." in out


def test_report_days_are_bounded_by_the_log(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(data_dir, ages_in_days=(20,))  # 20 days and part of a day: 21 whole days
    code, out, _ = run(capsys, "report", "--days", "100000")
    assert code == 0
    assert "Loggen går kun 21 dage tilbage, så perioden er 21 dage (ikke 100000)." in out
    assert len(out.splitlines()) < 120


def test_report_html_to_a_file(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(data_dir)
    out_file = tmp_path / "rapport.html"
    code, _, _ = run(capsys, "report", "--format", "HTML", "--out", str(out_file))
    assert code == 0
    html = out_file.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<script" not in html
    assert "Sygdom og fravær" in html or "Tavshedspligt" in html  # categories from the KB


def test_report_png_to_a_file(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(data_dir)
    out_file = tmp_path / "rapport.png"
    assert run(capsys, "report", "--format", "png", "--out", str(out_file))[0] == 0
    assert out_file.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_report_out_into_a_missing_directory(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(data_dir)
    target = tmp_path / "nowhere" / "r.txt"
    assert run(capsys, "report", "--out", str(target)) == (
        1,
        "",
        f"Error: cannot write {target}: No such file or directory.\n",
    )


def test_report_with_a_broken_knowledge_base_still_reports(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item_id = fill(data_dir)
    empty = tmp_path / "empty-kb"
    empty.mkdir()
    code, out, err = run(capsys, "report", "--knowledge-dir", str(empty))
    assert code == 0
    assert err.startswith("Advarsel: vidensbasen har ") and "vises med deres id" in err
    assert f"   1.     3  ny    {item_id}\n" in out


def test_purge_deletes_old_texts(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(data_dir, ages_in_days=(120, 95, 40))
    assert run(capsys, "purge") == (
        0,
        "Slettede 2 spørgsmålstekster ældre end 90 dage.\n",
        "",
    )
    assert run(capsys, "purge")[1] == "Slettede 0 spørgsmålstekster ældre end 90 dage.\n"
    monkeypatch.setenv("FAQBOT_RETENTION_DAYS", "30")
    assert run(capsys, "purge")[1] == "Slettede 1 spørgsmålstekst ældre end 30 dage.\n"
    with sqlite3.connect(data_dir / "faqbot.sqlite3") as db:
        texts = [t for (t,) in db.execute("SELECT text FROM questions WHERE status = 'clarify'")]
        (total,) = db.execute("SELECT COUNT(*) FROM questions").fetchone()
    db.close()
    assert texts == [None, None, None]
    assert total == 8  # the counts stay


def test_purge_without_a_log(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = data_dir / "faqbot.sqlite3"
    assert run(capsys, "purge") == (0, f"Der er ingen spørgelog i {path}; intet at slette.\n", "")
    assert not path.exists()


def test_purge_with_a_bad_retention_setting(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAQBOT_RETENTION_DAYS", "0")
    code, out, err = run(capsys, "purge")
    assert (code, out) == (1, "")
    assert err == ("Error: FAQBOT_RETENTION_DAYS must be a whole number of at least 1, got '0'.\n")


def test_console_script_reports_bad_days(data_dir: Path) -> None:
    script = Path(sys.executable).with_name("faqbot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "faqbot"]
    done = subprocess.run(
        [*command, "report", "--days", "0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr == "Error: --days must be a whole number of at least 1, got '0'.\n"
    assert done.stdout == ""
