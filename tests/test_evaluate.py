"""`faqbot eval`: the figures, the misses, and exit 1 below the floors in the eval file."""

import shutil
from pathlib import Path

import pytest

from faqbot import cli, kb
from faqbot.evaluate import report_lines, run_eval, run_eval_by_author
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
    assert report.name == "eval.yaml"
    assert report.total == 4
    assert figures["answered_right"] == 1.0 and figures["asked_back_max"] == 0.0
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
            "answered_right": 0.9,
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
    assert figures["answered_right"] == 0.5 and figures["wrong_answer_max"] == 0.5
    assert figures["top1"] == 0.5
    assert figures["out_of_scope_rejection"] == 0.0
    assert figures["safety_recall"] == 0.0 and figures["not_crisis_kept"] == 0.0
    assert set(report.failed_floors()) == {
        "answered_right",
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
    assert "  [eval.yaml] besvaret rigtigt: 0.500 af 2  (krav >= 0.90: IKKE NÅET)" in text
    assert "Kravene [eval.yaml] er IKKE nået" in text


def test_cli_eval_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["eval", "--knowledge-dir", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    for label in (
        "[eval.yaml] besvaret rigtigt: 1.000 af 4",
        "[eval.yaml] besvaret forkert: 0.000 af 4",
        "[eval.yaml] spurgt tilbage (forslag): 0.000 af 4",
        "[eval.yaml] uden for emnet afvist: 1.000 af 2",
        "[eval.yaml] top-1",
        "[eval.yaml] top-3",
        "[eval.yaml] krisebeskeder fanget",
        "Pr. kategori [eval.yaml]",
        "Alle krav [eval.yaml] er nået.",
    ):
        assert label in out, label
    assert "[held-out]" not in out  # the fixture has no held-out set
    assert "held-out (heldout/safety.yaml): findes ikke" in out  # nor a held-out crisis set
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


HELDOUT = """\
questions:
  - {q: "bliver peers tit syge", expect: peer-syg, author: A}
  - {q: "maa peeren fortaelle om patienterne", expect: peer-tavshedspligt, also: [peer-syg],
     author: B}
uncovered:
  - {q: "hvad tjener en peer om året", why: "no item on salaries", author: A}
out_of_scope:
  - {q: "hvornår har kantinen åbent", author: B}
"""


def test_a_held_out_set_is_read_and_reported_apart(
    tmp_path: Path, knowledge: kb.KnowledgeBase, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "heldout.yaml"
    path.write_text(HELDOUT, encoding="utf-8")
    heldout = kb.load_heldout(path, knowledge)
    assert [q.acceptable for q in heldout.questions] == [
        {"peer-syg"},
        {"peer-tavshedspligt", "peer-syg"},
    ]
    assert heldout.uncovered == ("hvad tjener en peer om året",)
    assert heldout.out_of_scope == ("hvornår har kantinen åbent",)
    assert heldout.floors == {} and heldout.crisis == ()
    report = run_eval(Matcher(knowledge), heldout, "held-out")
    assert report.name == "held-out" and report.uncovered == 1 and report.total == 2
    lines = list(report_lines(report, misses=False))
    assert all("[held-out]" in line for line in lines)
    assert not any("maa peeren" in line or "kantinen" in line for line in lines)
    assert cli.main(["eval", "--knowledge-dir", str(FIXTURE), "--heldout", str(path)]) == 0
    out = capsys.readouterr().out
    assert "[held-out] besvaret rigtigt" in out and "[eval.yaml] besvaret rigtigt" in out
    assert "kantinen" not in out.split("Evaluering [eval.yaml]")[0]  # no held-out question


def test_a_held_out_set_with_an_unknown_item_names_file_and_line(
    tmp_path: Path, knowledge: kb.KnowledgeBase
) -> None:
    path = tmp_path / "heldout.yaml"
    path.write_text("questions:\n  - {q: hej, expect: nej}\n", encoding="utf-8")
    with pytest.raises(kb.InvalidKnowledgeBase) as error:
        kb.load_heldout(path, knowledge)
    assert [p.message for p in error.value.problems] == ["held-out question: unknown item id 'nej'"]
    missing = cli.main(["eval", "--knowledge-dir", str(FIXTURE), "--heldout", str(tmp_path / "x")])
    assert missing == 1


@pytest.mark.slow
def test_the_real_eval_set_runs_and_keeps_its_safety_floors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`faqbot eval` on the real knowledge base; its exit code follows the floors it prints.
    (eval.yaml named with --file: dev.yaml's leave-one-author-out pass, a minute and a half of
    CPU on the real set, is tested on a small set below.)"""
    code = cli.main(
        ["eval", "--knowledge-dir", str(KNOWLEDGE), "--file", str(KNOWLEDGE / "eval.yaml")]
    )
    out = capsys.readouterr().out
    assert ("er IKKE nået" not in out) == (code == 0)  # eval.yaml's floors and the crisis sets
    knowledge = kb.load(KNOWLEDGE)
    report = run_eval(Matcher(knowledge), kb.load_eval(KNOWLEDGE / "eval.yaml", knowledge))
    figures = report.figures
    assert report.total >= 300
    assert figures["safety_recall"] == 1.0
    assert figures["not_crisis_kept"] == 1.0
    assert figures["wrong_answer_max"] <= 0.03
    assert figures["asked_back_max"] <= 0.10
    assert figures["out_of_scope_rejection"] >= 0.9


LEARNT = """\
questions:
  - q: "kommer peeren tilbage efter indlæggelse"
    expect: peer-tilbagefald
    author: A
  - q: "kommer vores peer tilbage efter en indlæggelse"
    expect: peer-tilbagefald
    author: B
  - q: "kan peeren holde ferie i juli"
    expect: peer-syg
    author: C
out_of_scope:
  - q: "hvornår er julefrokosten"
    author: A
"""


@pytest.fixture
def learning(tmp_path: Path) -> Path:
    """The fixture with a dev.yaml: A and B ask the same thing in other words; only C's own
    question has C's words."""
    shutil.copytree(FIXTURE, tmp_path / "kb")
    (tmp_path / "kb" / "dev.yaml").write_text(LEARNT, encoding="utf-8")
    return tmp_path / "kb"


def test_dev_yaml_is_evaluated_leave_one_author_out(
    learning: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matcher = Matcher(kb.load(learning))
    own = "kan peeren holde ferie i juli"
    learnt = matcher.match(own)  # the full index has learnt C's question...
    assert learnt.item is not None and learnt.item.id == "peer-syg"
    assert learnt.status.value == "answered"
    pooled, parts = run_eval_by_author(matcher)
    assert list(parts) == ["A", "B", "C"]
    assert [(p.total, p.right, p.top1, p.out_of_scope) for p in parts.values()] == [
        (1, 1, 1, 1),  # A's question is learnt from B's, and the reverse
        (1, 1, 1, 0),
        (1, 0, 0, 0),  # ...but C's is matched without it: nothing else has its words
    ]
    assert (pooled.total, pooled.right, pooled.top1, pooled.rejected) == (3, 2, 2, 1)
    assert [miss.question for miss in pooled.misses] == [own]
    heading = next(iter(report_lines(pooled)))
    assert heading.startswith("Evaluering [dev.yaml]: 3 spørgsmål, 1 uden for emnet (")
    assert "leave-one-author-out" in heading
    assert cli.main(["eval", "--knowledge-dir", str(learning)]) == 0
    out = capsys.readouterr().out
    assert "[dev.yaml] top-1 (det rigtige emne rangeret først): 0.667 af 3" in out
    assert "[eval.yaml] besvaret rigtigt" in out
