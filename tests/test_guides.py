"""``faqbot validate --guides``: quotations word for word, and sections that exist.

The guides' texts are not ours to redistribute, so the rules are tested on small texts written
here, and the real knowledge base is checked against ``../shared/seeds`` (beside the repository,
as CI lays it out) when that folder is there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from faqbot import cli, guides, kb

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "kb"
SEEDS = Path(os.environ.get("FAQBOT_GUIDES_DIR") or REPO.parent / "shared" / "seeds")

GUIDE_A = """\
Guide A

Forord

Del 1. Sygdom

En peer kan blive syg som alle andre.

Del 2. Tavshedspligt

Peermedarbejderen er en ligeværdig kollega og har tavshedspligt som alle andre.
Det er uhen-sigtsmæssigt at pakke peers ind, og det gælder også Psykiatريفoreningernes folk.
Samtalen er et fortroligt rum, der kan være afgø-
rende for relationen.

Sammen hensyn som for enhver anden medarbejder

1. Frivillig eller lønnet beskæftigelse?

Peers bruger deres ’erfaringer’ åbent.
"""

GUIDE_B = """\
## GUIDE B

Nyt hæfte om peers: Vil du samarbejde med en peer? Det skal du vide først

- **Spørgsmål 2**

Svar: Behandl peer-medarbejderen som enhver anden kollega.

- **Spørgsmål 5**

Svar: Ja, peer-medarbejderen har **tavshedspligt** ligesom alle andre ansatte.

Tjekliste – onboarding af peer-medarbejder
"""


def write_guides(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "001_x.txt").write_text(GUIDE_A, encoding="utf-8")
    (directory / "002_y.txt").write_text(GUIDE_B, encoding="utf-8")
    return directory


@pytest.fixture
def guide(tmp_path: Path) -> guides.Guide:
    return guides.read_guide("guide-a", write_guides(tmp_path) / "001_x.txt")


@pytest.mark.parametrize(
    "passage",
    [
        "har tavshedspligt som alle andre",
        "Det er uhensigtsmæssigt at pakke peers ind",  # an in-line break, fixed
        "Psykiatriforeningernes folk",  # the garbled word, fixed
        "kan være afgørende for relationen",  # hyphenated across a line break
        "ligeværdig kollega … som alle andre.",  # an omission, parts in order
        "Ligeværdig kollega",  # a quotation may capitalise its first letter
        "bruger deres 'erfaringer' åbent",  # typographic quotation marks
        "Samme hensyn som for enhver anden medarbejder",  # the guide's own typo, fixed
    ],
)
def test_passages_found_after_the_known_fixes(guide: guides.Guide, passage: str) -> None:
    assert guide.contains(passage)


@pytest.mark.parametrize(
    "passage",
    [
        "har tavshedspligt ligesom alle andre",  # one word changed
        "som alle andre. Peermedarbejderen",  # right words, wrong order
        "pakke peers ind … ligeværdig kollega",  # omission parts out of order
        "Peermedarbejder",  # part of a word is not a quotation
        "medarbejderen er",
    ],
)
def test_changed_passages_are_not_found(guide: guides.Guide, passage: str) -> None:
    assert not guide.contains(passage)


@pytest.mark.parametrize(
    ("label", "exists"),
    [
        ("Del 2. Tavshedspligt", True),
        ("Forord – Del 2. Tavshedspligt", True),  # two headings joined by " – "
        ("Dilemma 1: Frivillig eller lønnet beskæftigelse?", True),  # "1. Frivillig ..."
        ("Samme hensyn som for enhver anden medarbejder", True),
        ("Forside (citat)", True),  # a page without a heading
        ("Bagside", True),
        ("Del 3. Uddannelse", False),
        ("Del 2. Tavshedspligt – Oplysningspligt", False),
        ("Dilemma 2: Frivillig eller lønnet beskæftigelse?", False),
    ],
)
def test_section_labels(guide: guides.Guide, label: str, exists: bool) -> None:
    assert guide.has_section(label) is exists


def test_headings_ignore_markup_and_allow_a_title_before_its_subtitle(tmp_path: Path) -> None:
    guide = guides.read_guide("guide-b", write_guides(tmp_path) / "002_y.txt")
    assert guide.has_section("Guide B")
    assert guide.has_section("Spørgsmål 5")
    assert guide.has_section("Tjekliste – onboarding af peer-medarbejder")
    assert guide.has_section("Nyt hæfte om peers: Vil du samarbejde med en peer?")
    assert not guide.has_section("Nyt hæfte om peers")  # cut mid-title: no
    assert guide.contains("har tavshedspligt ligesom alle andre ansatte")  # bold removed


def test_ten_copied_words_must_stand_in_quotation_marks(tmp_path: Path) -> None:
    guide = guides.read_guide("guide-a", write_guides(tmp_path) / "001_x.txt")
    copied = "Peermedarbejderen er en ligeværdig kollega og har tavshedspligt som alle andre."
    assert guide.copied_run(copied) == (
        "peermedarbejderen er en ligeværdig kollega og har tavshedspligt som alle"
    )
    assert guide.copied_run("Den er en ligeværdig kollega og har tavshedspligt som alle") is None
    item = kb.Item(
        id="x",
        category="c",
        question="q",
        answer=f"Ja: »{copied}« Og så: {copied}",
        sources=(kb.SourceRef("guide-a", "Del 2. Tavshedspligt"),),
    )
    problems = list(guides.item_problems(item, {"guide-a": guide}))
    assert problems == [
        "copies 'peermedarbejderen er en ligeværdig kollega og har tavshedspligt som alle' "
        "from guide-a outside quotation marks"
    ]
    quoted_only = kb.Item("y", "c", "q", f"Ja: »{copied}«", item.sources)
    assert list(guides.item_problems(quoted_only, {"guide-a": guide})) == []


def test_quoted_passages_of_every_style_and_no_apostrophes() -> None:
    answer = (
        'Guiden kalder det "fejlcasting", »håbet på to ben« og „to ord“; '
        "”lort til guld”, “noget andet” og 'peerdrift'. SOSU'er og Q & A's er ikke citater, "
        "heller ikke peers' tid."
    )
    assert guides.quoted_passages(answer) == [
        "fejlcasting",
        "håbet på to ben",
        "to ord",
        "lort til guld",
        "noget andet",
        "peerdrift",
    ]


def test_guides_are_found_by_their_titles(tmp_path: Path) -> None:
    knowledge = kb.load(FIXTURE)
    found, missing = guides.load_guides(write_guides(tmp_path / "g"), knowledge.sources)
    assert {source: g.path.name for source, g in found.items()} == {
        "guide-a": "001_x.txt",
        "guide-b": "002_y.txt",
    }
    assert missing == []
    (tmp_path / "g" / "002_y.txt").unlink()
    _, missing = guides.load_guides(tmp_path / "g", knowledge.sources)
    assert missing == [f"no text in {tmp_path / 'g'} has the title of source 'guide-b'"]


def test_a_missing_or_empty_directory_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(guides.GuidesError, match=r"^the guides directory .* does not exist\.$"):
        guides.load_guides(tmp_path / "nowhere", ())
    with pytest.raises(guides.GuidesError, match=r"has no \.txt files\.$"):
        guides.load_guides(tmp_path, ())


def _copy_fixture(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE, target)
    return target


def test_validate_with_guides_passes_on_a_faithful_knowledge_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _copy_fixture(tmp_path)
    seeds = write_guides(tmp_path / "seeds")
    assert cli.main(["validate", "--knowledge-dir", str(directory), "--guides", str(seeds)]) == 0
    assert capsys.readouterr().out.endswith("Every quotation and cited section is in its guide.\n")


def test_validate_with_guides_names_each_unfaithful_quotation_and_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _copy_fixture(tmp_path)
    write_guides(tmp_path / "seeds")
    tavshed = directory / "items" / "tavshed.yaml"
    text = tavshed.read_text(encoding="utf-8")
    text = text.replace(
        "answer: Ja, peer-medarbejderen har tavshedspligt ligesom alle andre ansatte.",
        "answer: Ja, guiden siger, at peeren »har tavshedspligt præcis som alle andre«, og at "
        "man ikke skal »pakke peers ind«.",
    ).replace('section: "Spørgsmål 5"', 'section: "Spørgsmål 6"')
    tavshed.write_text(text, encoding="utf-8")
    sygdom = directory / "items" / "sygdom.yaml"
    text = sygdom.read_text(encoding="utf-8").replace(
        "Ikke nødvendigvis.", "Ikke nødvendigvis; peeren »har tavshedspligt ligesom alle andre«."
    )
    sygdom.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", "--knowledge-dir", "kb", "--guides", "seeds"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "kb/items/sygdom.yaml:1: item 'peer-syg': \"har tavshedspligt ligesom alle andre\" is not "
        "word for word in guide-a (it is in guide-b, which the item does not cite)",
        "kb/items/tavshed.yaml:1: item 'peer-tavshed': section 'Spørgsmål 6' is not a heading "
        "in guide-b",
        "kb/items/tavshed.yaml:1: item 'peer-tavshed': \"har tavshedspligt præcis som alle "
        'andre" is not word for word in guide-a or guide-b',
    ]
    assert captured.err == "Error: the knowledge base has 3 problem(s).\n"


def test_validate_with_a_missing_guides_directory_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "seeds"
    assert cli.main(["validate", "--knowledge-dir", str(FIXTURE), "--guides", str(missing)]) == 1
    assert capsys.readouterr().err == f"Error: the guides directory {missing} does not exist.\n"


@pytest.mark.skipif(
    not SEEDS.is_dir(),
    reason=f"the guides' texts are not in the repository; CI checks against {SEEDS} (absent here)",
)
def test_the_real_knowledge_base_is_faithful_to_its_guides() -> None:
    knowledge = kb.load(REPO / "knowledge")
    assert [str(problem) for problem in guides.check(knowledge, SEEDS)] == []
