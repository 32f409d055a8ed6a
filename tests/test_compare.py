"""`faqbot eval --compare REF` and `--save FILE`: what an edit changed, figure by figure and
question by question, against a git ref or a saved baseline."""

import shutil
import subprocess
from pathlib import Path

import pytest

from faqbot import cli, compare, kb
from faqbot.matcher import Matcher

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "suggest_kb"


def test_comparison_lists_every_figure_and_every_changed_question() -> None:
    before = compare.Snapshot(
        "HEAD",
        {"top1": 1.0, "clarify": 0.25},
        {
            ("question", "a"): compare.RIGHT,
            ("question", "b"): compare.RIGHT,
            ("crisis", "c"): "answered peer-syg",
            ("question", "gone"): compare.RIGHT,
        },
    )
    after = compare.Snapshot(
        "arbejdskopien",
        {"top1": 0.5, "clarify": 0.25, "new_figure": 0.1},
        {
            ("question", "a"): compare.RIGHT,
            ("question", "b"): "clarify peer-tilbagefald",
            ("crisis", "c"): compare.RIGHT,
            ("out_of_scope", "new"): "answered peer-syg",
        },
    )
    assert list(compare.comparison_lines(compare.compare(before, after))) == [
        "Tal: HEAD -> arbejdskopien",
        "  top1: 1.000 -> 0.500 (-0.500)",
        "  clarify: 0.250 -> 0.250",
        "  new_figure: - -> 0.100",
        "Eval-spørgsmål med et andet udfald (4):",
        "  - spørgsmål 'b': rigtigt -> clarify peer-tilbagefald",
        "  - krisebesked 'c': answered peer-syg -> rigtigt",
        "  - uden for emnet 'new': (ikke i HEAD) -> answered peer-syg",
        "  - spørgsmål 'gone': rigtigt -> (ikke i arbejdskopien)",
    ]
    same = compare.compare(before, before)
    assert list(compare.comparison_lines(same))[-1] == (
        "Ingen eval-spørgsmål har fået et andet udfald."
    )


def test_a_saved_snapshot_reads_back_under_its_file_name(tmp_path: Path) -> None:
    saved = compare.Snapshot("x", {"top1": 0.9}, {("question", "æøå?"): compare.RIGHT})
    compare.save_snapshot(tmp_path / "før.json", saved)
    assert compare.load_snapshot(tmp_path / "før.json") == compare.Snapshot(
        "før.json", {"top1": 0.9}, {("question", "æøå?"): compare.RIGHT}
    )


def test_a_file_that_is_not_a_snapshot_is_refused(tmp_path: Path) -> None:
    (tmp_path / "eval.yaml").write_text("floors: {}\n", encoding="utf-8")
    with pytest.raises(compare.CompareError) as caught:
        compare.load_snapshot(tmp_path / "eval.yaml")
    assert str(caught.value) == (
        f"{tmp_path / 'eval.yaml'} is not a baseline saved by 'faqbot eval --save FILE'."
    )


# --- the command, in a git repository -----------------------------------------------------------


def git(repo: Path, *arguments: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", *arguments],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository whose one commit holds the fixture as knowledge/."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo / "knowledge")
    git(repo, "init", "--quiet")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "knowledge")
    monkeypatch.chdir(repo)
    return repo


def test_eval_compare_with_head_shows_what_the_edit_changed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["eval", "--knowledge-dir", "knowledge", "--save", "../før.json"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Tallene er gemt i ../før.json."
    # The edit: a wrong expectation, a question dropped, a crisis message added.
    evalset = (repo / "knowledge" / "eval.yaml").read_text(encoding="utf-8")
    evalset = evalset.replace(
        '{q: "bliver peers tit syge", expect: peer-syg}',
        '{q: "bliver peers tit syge", expect: peer-medicin}',
    ).replace('  - {q: "er peeren imod medicin", expect: peer-medicin}\n', "")
    evalset += '  - "jeg kan ikke mere, jeg vil tage mit liv"\n'
    (repo / "knowledge" / "eval.yaml").write_text(evalset, encoding="utf-8")
    result = Matcher(kb.load(repo / "knowledge")).match("bliver peers tit syge")
    assert result.item is not None and result.item.id != "peer-medicin"
    changes = [
        "Eval-spørgsmål med et andet udfald (3):",
        f"  - spørgsmål 'bliver peers tit syge': rigtigt -> {result.status.value} {result.item.id}",
        "  - krisebesked 'jeg kan ikke mere, jeg vil tage mit liv': (ikke i {old}) -> rigtigt",
        "  - spørgsmål 'er peeren imod medicin': rigtigt -> (ikke i arbejdskopien)",
    ]
    for ref, label in (("HEAD", "HEAD"), ("../før.json", "før.json")):
        status = cli.main(["eval", "--knowledge-dir", "knowledge", "--compare", ref])
        out = capsys.readouterr().out.splitlines()
        assert status == 0
        assert out[0] == f"Tal: {label} -> arbejdskopien"
        assert out[1] == "  answered_right: 1.000 -> 0.750 (-0.250)"
        assert out[-5:] == [line.format(old=label) for line in changes] + ["Alle krav er nået."]


def test_eval_compare_outside_a_git_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURE, tmp_path / "kb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert cli.main(["eval", "--knowledge-dir", "kb", "--compare", "HEAD"]) == 1
    assert capsys.readouterr().err == (
        "Error: kb is not in a git repository; compare with a file saved by "
        "'faqbot eval --save FILE' instead.\n"
    )


def test_eval_compare_with_an_unknown_ref(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["eval", "--knowledge-dir", "knowledge", "--compare", "no-such-ref"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: git cannot read knowledge at 'no-such-ref': ")
    assert err.count("\n") == 1


def test_eval_compare_with_a_ref_whose_knowledge_no_longer_loads(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = repo / "knowledge" / "items" / "tavshed.yaml"
    fixed = items.read_text(encoding="utf-8")
    items.write_text(fixed.replace("    - peer oplysningspligt\n", "    - peer tavshedspligt\n"))
    git(repo, "commit", "--quiet", "-am", "a duplicate phrasing")
    items.write_text(fixed, encoding="utf-8")
    assert cli.main(["eval", "--knowledge-dir", "knowledge", "--compare", "HEAD"]) == 1
    assert capsys.readouterr().err == (
        "Error: the knowledge base at HEAD does not load with the current code (1 problem(s), "
        "the first: HEAD:knowledge/items/tavshed.yaml:17: item 'peer-oplysningspligt': phrasing "
        "'peer tavshedspligt' is already used by item 'peer-tavshedspligt' "
        "(HEAD:knowledge/items/tavshed.yaml:5)).\n"
    )
