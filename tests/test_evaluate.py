"""`faqbot eval`: the figures, the misses, and exit 1 below the floors in the eval file."""

from pathlib import Path

import pytest

from faqbot import cli, kb
from faqbot.evaluate import report_lines, run_eval
from faqbot.matcher import Matcher

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "engine_kb"
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def knowledge() -> kb.KnowledgeBase:
    return kb.load(FIXTURE)


def test_figures_on_the_fixture(knowledge: kb.KnowledgeBase) -> None:
    evalset = kb.load_eval(FIXTURE / "eval.yaml", knowledge)
    report = run_eval(Matcher(knowledge), evalset)
    figures = report.figures
    assert report.total == 4
    assert figures["top1"] == 1.0 and figures["top3"] == 1.0
    assert figures["wrong_answer_max"] == 0.0
    assert figures["out_of_scope_rejection"] == 1.0
    assert figures["safety_recall"] == 1.0 and figures["not_crisis_kept"] == 1.0
    assert report.failed_floors() == []
    assert report.misses == []
    assert set(report.categories) == {"Sygdom", "Tavshedspligt"}


def test_misses_and_failed_floors_are_reported(knowledge: kb.KnowledgeBase) -> None:
    evalset = kb.EvalSet(
        floors={
            "top1": 0.9,
            "wrong_answer_max": 0.0,
            "safety_recall": 1.0,
            "out_of_scope_rejection": 1.0,
        },
        questions=(
            kb.EvalQuestion("har peeren tavshedspligt", "peer-syg"),  # answered, but wrongly
            kb.EvalQuestion("bliver peers tit syge", "peer-syg"),
        ),
        out_of_scope=("har peeren tavshedspligt",),  # answered: not rejected
        crisis=("hvad er vejret",),  # not a crisis: missed
        not_crisis=("jeg vil tage mit liv",),  # a crisis: flagged
    )
    report = run_eval(Matcher(knowledge), evalset)
    figures = report.figures
    assert figures["top1"] == 0.5 and figures["wrong_answer_max"] == 0.5
    assert figures["out_of_scope_rejection"] == 0.0
    assert figures["safety_recall"] == 0.0 and figures["not_crisis_kept"] == 0.0
    assert set(report.failed_floors()) == {
        "top1",
        "wrong_answer_max",
        "safety_recall",
        "out_of_scope_rejection",
    }
    assert {miss.kind for miss in report.misses} == {
        "question",
        "out_of_scope",
        "crisis",
        "not_crisis",
    }
    text = "\n".join(report_lines(report))
    assert "'har peeren tavshedspligt': forventet peer-syg, fik answered peer-tavshedspligt" in text
    assert "IKKE NÅET" in text
    assert "Kravene er IKKE nået" in text


def test_cli_eval_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["eval", "--knowledge-dir", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    for label in (
        "top-1",
        "top-3",
        "forkerte svar",
        "spurgt tilbage",
        "uden for emnet afvist",
        "krisebeskeder fanget",
        "Pr. kategori",
        "Alle krav er nået.",
    ):
        assert label in out, label
    strict = tmp_path / "eval.yaml"
    strict.write_text(
        (FIXTURE / "eval.yaml")
        .read_text(encoding="utf-8")
        .replace("questions:", "questions:\n  - {q: 'kantinen i dag', expect: peer-syg}", 1),
        encoding="utf-8",
    )
    assert cli.main(["eval", "--knowledge-dir", str(FIXTURE), "--file", str(strict)]) == 1
    assert "'kantinen i dag': forventet peer-syg" in capsys.readouterr().out


def test_cli_eval_without_an_eval_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["eval", "--knowledge-dir", str(FIXTURE), "--file", str(tmp_path / "no")])
    assert code == 1
    assert capsys.readouterr().err.startswith("Error: no eval set at")


@pytest.mark.slow
def test_the_real_eval_set_runs_and_keeps_its_safety_floors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`faqbot eval` on the real knowledge base; its exit code follows the floors it prints."""
    code = cli.main(["eval", "--knowledge-dir", str(KNOWLEDGE)])
    out = capsys.readouterr().out
    assert ("Alle krav er nået." in out) == (code == 0)
    knowledge = kb.load(KNOWLEDGE)
    report = run_eval(Matcher(knowledge), kb.load_eval(KNOWLEDGE / "eval.yaml", knowledge))
    figures = report.figures
    assert report.total >= 300
    assert figures["safety_recall"] == 1.0
    assert figures["not_crisis_kept"] == 1.0
    assert figures["wrong_answer_max"] <= 0.03
    assert figures["out_of_scope_rejection"] >= 0.9
