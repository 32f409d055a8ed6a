"""`faqbot suggest`: a seeded question log in, proposals out (asserted exactly), and --apply on a
copy of a fixture knowledge base (only new lines, comments intact, still valid)."""

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from faqbot import cli, kb, suggest
from faqbot.matcher import Matcher
from faqbot.questionlog import QuestionLog
from faqbot.settings import KeepText

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "suggest_kb"
NOW = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(kb.load(FIXTURE))


def closest(matcher: Matcher, text: str) -> str:
    """The items the engine ranks closest (the engine's business, not the one under test)."""
    return ", ".join(item.id for item, _ in matcher.ranked(text, 3))


async def seed(path: Path) -> None:
    """A month of questions: every kind of row the suggestions look at or must leave out."""
    moment = NOW - timedelta(days=3)
    log = await QuestionLog.open(
        path, secret=b"test", keep_text=KeepText.ALL, retention_days=90, clock=lambda: moment
    )

    def ask(text: str, status: str, item: str | None, user: int = 1, kind: str = "private") -> str:
        return log.log_question(
            question=text,
            status=status,
            item_id=item,
            score=0.5,
            latency_ms=1.0,
            chat_kind=kind,
            user_id=user,
        )

    def pick(question_id: str, *items: str) -> None:
        for item in items:
            log.log_pick(question_id=question_id, item_id=item, user_id=1)

    # Alternates: answered twice, and resolved by a pick (twice, the second after two picks).
    ask("Er vores peer tit sygemeldt?", "answered", "peer-syg", user=1)
    ask("er vores peer tit sygemeldt", "answered", "peer-syg", user=2)
    pick(ask("peer syg igen hvad gør vi", "clarify", "peer-syg"), "peer-tilbagefald")
    pick(ask("peer syg eller tilbagefald", "clarify", "peer-syg"), "peer-syg", "peer-tilbagefald")
    pick(ask("peer og piller", "clarify", "peer-medicin"), "peer-medicin")
    # Left out: a thumbs down, close to a phrasing, an eval question, personal data, another
    # item's phrasing, the terminal chat, and a question from before the period.
    bad = ask("peer skal tie stille", "answered", "peer-tavshedspligt")
    ask("Er peers mere syge end os andre!!", "answered", "peer-syg")
    ask("bliver peers tit syge", "answered", "peer-syg")
    ask("må jeg ringe til peeren på 12345678", "answered", "peer-tavshedspligt")
    ask("peer tavshedspligt", "answered", "peer-oplysningspligt")
    ask("vores peer " + "og så videre " * 30, "answered", "peer-syg")
    ask("peer test fra terminalen", "answered", "peer-syg", kind="terminal")
    # Gaps: two alike, one alone; left out: off the subject, and answered by now.
    ask("kan vi få løntilskud til vores peer", "no_match", None)
    ask("kan peeren få løntilskud?", "no_match", None, user=2)
    ask("hvor mange timer arbejder en peer om ugen", "clarify", "peer-syg")
    ask("hvornår har kantinen åbent", "no_match", None)
    ask("Har peer-medarbejderen tavshedspligt?", "no_match", None)
    await log.record_vote(question_id=bad, user_id=1, helpful=False)
    moment = NOW - timedelta(days=40)
    ask("peer sygdom for længe siden", "answered", "peer-syg")
    await log.close()


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "faqbot.sqlite3"
    asyncio.run(seed(path))
    return path


def build(matcher: Matcher, log_path: Path, keep_text: KeepText) -> suggest.Suggestions:
    evalset = kb.load_eval(FIXTURE / "eval.yaml", matcher.kb)
    return asyncio.run(
        suggest.read_suggestions(
            log_path,
            matcher,
            days=30,
            keep_text=keep_text,
            eval_questions=[q.question for q in evalset.questions],
            now=NOW,
        )
    )


def test_the_seeded_log_gives_these_proposals(matcher: Matcher, log_path: Path) -> None:
    found = build(matcher, log_path, KeepText.ALL)
    assert suggest.summary_lines(found) == [
        "Forslag fra spørgeloggen 31.1.2026–2.3.2026 (30 dage): 4 nye formuleringer til 3 emner, "
        "2 videnshuller, 1 forveksling.",
        "Ikke foreslået: 1 spørgsmål fik 👎 på svaret.",
        "Ikke foreslået: 1 spørgsmål ligner allerede en formulering af emnet.",
        "Ikke foreslået: 1 spørgsmål er allerede en formulering af et andet emne.",
        "Ikke foreslået: 1 spørgsmål er eval-spørgsmål (eval.yaml skal forblive en ærlig test).",
        "Ikke foreslået: 1 spørgsmål indeholder en anonymiseret personoplysning.",
        "Ikke foreslået: 1 spørgsmål er over 300 tegn (for lange til en formulering).",
        "Ikke foreslået: 1 spørgsmål var uden svar, men handler ikke om emnet (nævner fx ikke "
        "peer).",
        "Ikke foreslået: 1 spørgsmål var uden svar, men besvares nu.",
    ]
    expected: dict[str, list[str]] = {
        "items/sygdom.yaml": [
            "# Forveksling: peer-syg og peer-tilbagefald (valgt imellem 2 gange under "
            '"Mente du …?").\n'
            "# Gør spørgsmålene tydeligere forskellige, eller flyt formuleringer til det emne,\n"
            "# hvis svar passer.\n",
            "# Nye formuleringer til: Bliver en peer-medarbejder oftere syg end andre?\n"
            "- id: peer-syg\n"
            "  alternates:\n"
            '    - "Er vores peer tit sygemeldt?"  # 2 gange: 2 besvaret\n',
            "# Nye formuleringer til: Hvad gør vi, hvis vores peer får et tilbagefald?\n"
            "- id: peer-tilbagefald\n"
            "  alternates:\n"
            '    - "peer syg eller tilbagefald"  # 1 gang: 1 valgt under Mente du\n'
            '    - "peer syg igen hvad gør vi"  # 1 gang: 1 valgt under Mente du\n',
            "# Nye formuleringer til: Hvad mener peeren om medicin?\n"
            "- id: peer-medicin\n"
            "  alternates:\n"
            '    - "peer og piller"  # 1 gang: 1 valgt under Mente du\n',
        ]
    }
    # A gap goes to the file of the item the engine ranks closest (the engine's business).
    for count, question, alternates, new_id in (
        (
            2,
            "kan vi få løntilskud til vores peer",
            ["kan peeren få løntilskud?"],
            "nyt-kan-vi-fa-lontilskud-til-vores",
        ),
        (
            1,
            "hvor mange timer arbejder en peer om ugen",
            [],
            "nyt-hvor-mange-timer-arbejder-en-peer",
        ),
    ):
        ranked = [item for item, _ in matcher.ranked(question, 3)]
        target = f"items/{matcher.kb.item_files[ranked[0].id].name}"
        block = (
            f"# Videnshul: {count} gang{'e' if count > 1 else ''} uden svar, senest 27.2.2026.\n"
            f"# Nærmeste emner nu: {', '.join(item.id for item in ranked)}.\n"
            "# Et udkast: skriv svaret med egne ord ud fra en af guiderne, angiv kilden, og\n"
            "# tilføj eval-spørgsmål i eval.yaml.\n"
            f"- id: {new_id}\n"
            f'  category: "{ranked[0].category}"\n'
            f'  question: "{question}"  # 1 gang\n'
            + ("  alternates:\n" if alternates else "")
            + "".join(f'    - "{text}"  # 1 gang\n' for text in alternates)
            + '  answer: ""\n'
            "  sources:\n"
            '    - source: ""\n'
            '      section: ""\n'
        )
        expected.setdefault(target, []).append(block)
    files = suggest.suggestion_files(found, matcher.kb)
    assert files == {
        target: (
            f"# faqbot suggest: forslag til {target}\n"
            "# Fra spørgeloggen 31.1.2026–2.3.2026 (30 dage); kun de gemte, anonymiserede "
            "tekster.\n"
            "# Kommentaren efter hver linje: hvor mange gange det blev spurgt.\n"
            "\n" + "\n".join(blocks)
        )
        for target, blocks in sorted(expected.items())
    }
    for text in files.values():
        assert isinstance(yaml.safe_load(text), list)


def test_answered_texts_are_used_only_when_every_text_is_kept(
    matcher: Matcher, log_path: Path
) -> None:
    found = build(matcher, log_path, KeepText.UNANSWERED)
    assert [(a.item_id, a.text) for a in found.alternates] == [
        ("peer-tilbagefald", "peer syg eller tilbagefald"),
        ("peer-tilbagefald", "peer syg igen hvad gør vi"),
        ("peer-medicin", "peer og piller"),
    ]
    assert suggest.summary_lines(found)[1] == (
        "FAQBOT_KEEP_TEXT=unanswered: besvarede spørgsmål gemmes uden tekst, så nye formuleringer "
        'kommer kun fra spørgsmål, hvor nogen valgte et forslag under "Mente du …?". Med '
        "FAQBOT_KEEP_TEXT=all kommer de besvarede med."
    )
    header = next(iter(suggest.suggestion_files(found, matcher.kb).values())).splitlines()[3]
    assert header == (
        "# FAQBOT_KEEP_TEXT=unanswered: besvarede spørgsmål gemmes uden tekst, så nye "
        "formuleringer kommer"
    )


def test_confusions_need_no_text(matcher: Matcher, log_path: Path) -> None:
    found = build(matcher, log_path, KeepText.NONE)
    assert found.alternates == ()
    assert found.confusions == (suggest.Confusion("peer-syg", "peer-tilbagefald", 2),)
    assert suggest.keep_text_note(KeepText.NONE) == (
        "FAQBOT_KEEP_TEXT=none: ingen spørgsmålstekster gemmes, så der kan kun foreslås "
        "forvekslinger."
    )


def test_similar_texts_group_by_their_terms() -> None:
    def terms(text: str) -> list[str]:
        return text.split()

    day = datetime(2026, 1, 1, tzinfo=UTC)
    groups = suggest.group_similar(
        [
            (day, "peer løn tilskud"),
            (day + timedelta(hours=1), "peer tilskud løn"),
            (day, "peer ferie"),
            (day, "???"),
            (day + timedelta(hours=2), "???"),
        ],
        terms=lambda text: terms(text) if "?" not in text else [],
    )
    assert [(g.text, g.count, g.wordings) for g in groups] == [
        ("???", 2, (("???", 2),)),
        ("peer løn tilskud", 2, (("peer løn tilskud", 1), ("peer tilskud løn", 1))),
        ("peer ferie", 1, (("peer ferie", 1),)),
    ]


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def environment(tmp_path: Path, log_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The log in FAQBOT_DATA_DIR, every text kept, the clock at NOW, a copy of the fixture."""
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(log_path.parent))
    monkeypatch.setenv("FAQBOT_KEEP_TEXT", "all")
    monkeypatch.setattr(suggest, "utc_now", lambda: NOW)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(FIXTURE, tmp_path / "kb")
    return tmp_path / "kb"


def test_suggest_prints_the_summary_and_each_file(
    environment: Path, matcher: Matcher, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["suggest", "--knowledge-dir", "kb"]) == 0
    out = capsys.readouterr().out
    found = build(matcher, environment.parent / "data" / "faqbot.sqlite3", KeepText.ALL)
    summary = "\n".join(suggest.summary_lines(found))
    files = suggest.suggestion_files(found, kb.load(environment))
    assert out == summary + "\n" + "".join("\n" + text for text in files.values())
    assert (environment / "items" / "sygdom.yaml").read_text(encoding="utf-8") == (
        FIXTURE / "items" / "sygdom.yaml"
    ).read_text(encoding="utf-8")


def test_suggest_out_writes_one_file_per_item_file(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["suggest", "--knowledge-dir", "kb", "--days", "7", "--out", "forslag"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "Skrev forslag/sygdom.yaml (forslag til items/sygdom.yaml)." in out
    assert out[0].startswith("Forslag fra spørgeloggen 23.2.2026–2.3.2026 (7 dage): 4 nye")
    written = (environment.parent / "forslag" / "sygdom.yaml").read_text(encoding="utf-8")
    assert written.startswith("# faqbot suggest: forslag til items/sygdom.yaml")


def test_suggest_apply_inserts_only_new_lines_and_reports_the_eval(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (environment / "items" / "sygdom.yaml").read_text(encoding="utf-8")
    assert cli.main(["suggest", "--knowledge-dir", "kb", "--apply"]) == 0
    out = capsys.readouterr().out.splitlines()
    after = (environment / "items" / "sygdom.yaml").read_text(encoding="utf-8")
    assert after == before.replace(
        '    - "Skal vi regne med mere fravær, når vi ansætter en peer?"\n',
        '    - "Skal vi regne med mere fravær, når vi ansætter en peer?"\n'
        '    - "Er vores peer tit sygemeldt?"\n',
    ).replace(
        "    - Hvad hvis peeren får det dårligt igen?\n",
        "    - Hvad hvis peeren får det dårligt igen?\n"
        '    - "peer syg eller tilbagefald"\n'
        '    - "peer syg igen hvad gør vi"\n',
    ).replace(
        "  question: Hvad mener peeren om medicin?\n",
        '  question: Hvad mener peeren om medicin?\n  alternates:\n    - "peer og piller"\n',
    )
    assert "    # More alternates go above this line.\n" in after
    assert (environment / "items" / "tavshed.yaml").read_text(encoding="utf-8") == (
        FIXTURE / "items" / "tavshed.yaml"
    ).read_text(encoding="utf-8")
    assert kb.validate(environment) == []
    note = (
        "Videnshuller og forvekslinger skal en redaktør tage sig af: se dem med faqbot suggest "
        "uden --apply."
    )
    at = out.index(note)
    assert out[at + 1 : at + 4] == [
        "Indsatte 4 i items/sygdom.yaml: peer-syg, peer-tilbagefald, peer-medicin.",
        "faqbot validate: OK.",
        "Tal: før -> efter",
    ]
    assert all(line.startswith("  ") for line in out[at + 4 : -3])
    assert out[-3:] == [
        "Ingen eval-spørgsmål har fået et andet udfald.",
        "Alle krav er nået.",
        "Send /genindlaes til botten, så den bruger de nye formuleringer.",
    ]
    assert "  top1: 1.000 -> 1.000" in out
    # Applied once: the next run proposes them no more.
    assert cli.main(["suggest", "--knowledge-dir", "kb", "--apply"]) == 0
    assert "Ingen nye formuleringer at indsætte." in capsys.readouterr().out


def test_suggest_apply_puts_the_files_back_when_validation_fails(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (environment / "rules.yaml").write_text("min_alternates: 2\n", encoding="utf-8")
    before = (environment / "items" / "sygdom.yaml").read_text(encoding="utf-8")
    assert cli.main(["suggest", "--knowledge-dir", "kb", "--apply"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-2:] == [
        "kb/items/sygdom.yaml:37: item 'peer-medicin': 1 alternates; rules.yaml asks for at "
        "least 2",
        "kb/items/tavshed.yaml:16: item 'peer-oplysningspligt': 1 alternates; rules.yaml asks "
        "for at least 2",
    ]
    assert captured.err == (
        "Error: with the new alternates the knowledge base has 2 problem(s), so the item files "
        "were put back as they were.\n"
    )
    assert (environment / "items" / "sygdom.yaml").read_text(encoding="utf-8") == before


def test_suggest_without_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(tmp_path / "nothing"))
    assert cli.main(["suggest", "--knowledge-dir", str(FIXTURE)]) == 1
    assert capsys.readouterr().err == (
        f"Error: there is no question log at {tmp_path / 'nothing' / 'faqbot.sqlite3'} yet; it "
        "is created when the bot answers its first question.\n"
    )
    assert not (tmp_path / "nothing").exists()


def test_suggest_days_must_be_a_whole_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["suggest", "--knowledge-dir", str(FIXTURE), "--days", "en uge"]) == 1
    assert capsys.readouterr().err == (
        "Error: --days must be a whole number of at least 1, got 'en uge'.\n"
    )


# --- inserting alternates ---------------------------------------------------------------------

ODD_FILE = """\
# Top comment
- id: a   # the id
  category: X
  question: Q?
  alternates:
    - one  # first
    - >-
      folded
      two
    # a comment about the answer
  answer: A.

- id: b
  question: >-
    Q2
    long?
  answer: B.
- id: c
  question: Q3?
  alternates:
  answer: C.
- id: d
  question: Q4?
  alternates: [x, y]
  answer: D."""


def test_insertion_keeps_every_other_byte() -> None:
    result = suggest.insert_alternates(
        ODD_FILE, {"a": ["tre: 3 # ikke en kommentar"], "b": ["ja"], "c": ["no"]}
    )
    assert result == (
        "# Top comment\n"
        "- id: a   # the id\n"
        "  category: X\n"
        "  question: Q?\n"
        "  alternates:\n"
        "    - one  # first\n"
        "    - >-\n"
        "      folded\n"
        "      two\n"
        '    - "tre: 3 # ikke en kommentar"\n'
        "    # a comment about the answer\n"
        "  answer: A.\n"
        "\n"
        "- id: b\n"
        "  question: >-\n"
        "    Q2\n"
        "    long?\n"
        "  alternates:\n"
        '    - "ja"\n'
        "  answer: B.\n"
        "- id: c\n"
        "  question: Q3?\n"
        "  alternates:\n"
        '    - "no"\n'
        "  answer: C.\n"
        "- id: d\n"
        "  question: Q4?\n"
        "  alternates: [x, y]\n"
        "  answer: D."
    )
    assert yaml.safe_load(result)[2]["alternates"] == ["no"]  # a string, not false


def test_insertion_refuses_a_list_it_cannot_extend_line_by_line() -> None:
    with pytest.raises(suggest.SuggestError) as caught:
        suggest.insert_alternates(ODD_FILE, {"d": ["z"]})
    assert str(caught.value) == "item 'd': its alternates are not a list of lines '- ...'"


def test_insertion_into_every_real_item_file_keeps_it_byte_for_byte() -> None:
    """The real files' layout: each gets two alternates per item; only those lines are new."""
    for path in sorted((FIXTURE.parent.parent.parent / "knowledge" / "items").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        items = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        result = suggest.insert_alternates(text, {i["id"]: ['ny: "x"', "yes"] for i in items})
        new_lines = result.splitlines()
        kept = [line for line in new_lines if line not in ('    - "ny: \\"x\\""', '    - "yes"')]
        assert kept == text.splitlines(), path.name
        assert len(new_lines) == len(text.splitlines()) + 2 * len(items), path.name
