"""The one normaliser: the same terms for a phrasing and for the fast, informal way it is typed."""

import unicodedata

import pytest

from faqbot.text import STOP_WORDS, Normalizer, clean, fold, normalize, tokenise, words


@pytest.mark.parametrize(
    "variants",
    [
        ("spørgsmål", "spoergsmaal", "sporgsmal", "SPØRGSMÅL"),
        ("sygefravær", "sygefravaer", "sygefravar"),
        ("tavshedspligt", "Tavshedspligt", "TAVSHEDSPLIGT"),
        ("skånehensyn", "skaanehensyn", "skanehensyn"),
    ],
)
def test_aeoeaa_spellings_and_case_are_the_same_terms(variants: tuple[str, ...]) -> None:
    forms = {normalize(variant) for variant in variants}
    assert len(forms) == 1, forms
    assert forms.pop()  # and not empty


def test_nfc_composed_and_decomposed_letters_are_the_same() -> None:
    decomposed = unicodedata.normalize("NFD", "skånehensyn på arbejdet")
    assert decomposed != "skånehensyn på arbejdet"
    assert normalize(decomposed) == normalize("skånehensyn på arbejdet")


def test_punctuation_emoji_and_control_characters_are_removed() -> None:
    assert normalize("Tavshedspligt?!! 🙂👍 \x00\x07\u200b...") == normalize("tavshedspligt")
    assert clean("«peer» — (medicin)\t\n") == "peer medicin"


def test_stop_words_are_dropped_but_not_ikke() -> None:
    assert normalize("hvad er en peer") == normalize("peer")
    assert "ikk" in normalize("hvad må peeren ikke").split()
    assert "ikke" not in STOP_WORDS
    assert {"og", "jeg", "hvad", "er"} <= STOP_WORDS


def test_danish_stems_join_inflections() -> None:
    assert normalize("peermedarbejderen") == normalize("peermedarbejdere")
    assert normalize("uddannelsen") == normalize("uddannelser")


def test_hyphenated_compounds_are_joined() -> None:
    assert words("peer-medarbejder") == ["peermedarbejder"]
    assert normalize("peer-støtte") == normalize("peerstøtte")


def test_synonyms_map_every_member_onto_the_first() -> None:
    groups = [("peermedarbejder", "peer-medarbejder", "peer medarbejder", "peerstøttemedarbejder")]
    normalizer = Normalizer(groups)
    canonical = normalizer.terms("peermedarbejder")
    assert len(canonical) == 1
    for member in ("peer-medarbejder", "peer medarbejder", "Peerstøttemedarbejderen"):
        assert normalizer.terms(member) == canonical
    assert normalizer.terms("vores peer medarbejder er syg")[0] == canonical[0]


def test_split_compounds_are_joined_into_known_terms() -> None:
    normalizer = Normalizer(compounds={"peerstot"})
    assert normalizer.terms("peer støtte") == ("peerstot",)
    assert Normalizer().terms("peer støtte") == ("peer", "stot")


def test_only_words_written_side_by_side_make_a_compound() -> None:
    normalizer = Normalizer(compounds={"peeruddan"})
    assert normalizer.terms("peer uddannelse") == ("peeruddan",)
    assert normalizer.terms("hvor mange peers har uddannelse") == ("peer", "uddan")
    assert normalizer.terms("ansat som peer, skal man have en uddannelse") == (
        "ansat",
        "peer",
        "uddan",
    )


def test_fold_treats_ae_oe_aa_like_the_letters() -> None:
    assert fold("æble") == fold("aeble") == "able"
    assert fold("øre") == fold("oere") == "ore"
    assert fold("år") == fold("aar") == "ar"


@pytest.mark.parametrize(
    "text",
    ["", "   \t\n ", "🙂🙂🙂", "\x00\x01\x02", "精神科の同僚", "Коллега", "زميل", "a" * 20_000],
)
def test_bad_input_never_raises(text: str) -> None:
    terms = Normalizer().terms(text)
    assert isinstance(terms, tuple)
    if not any(ch.isalnum() for ch in text):
        assert terms == ()


def test_other_scripts_become_terms_not_errors() -> None:
    (term,) = Normalizer().terms("Коллега")
    assert term.startswith("коллег")


def test_a_second_word_is_never_swallowed_by_compound_joining() -> None:
    normalizer = Normalizer(compounds={"syg", "peerstot"})
    assert normalizer.terms("syg igen") == ("syg", "igen")  # "sygigen" stems to "syg"
    assert normalizer.terms("peer støtte") == ("peerstot",)


def test_reading_many_texts_at_once_gives_each_text_its_own_words_and_terms() -> None:
    normalizer = Normalizer(
        [("sygefravær", "melde syg"), ("peermedarbejder", "peer medarbejder")],
        compounds={"peerstot"},
    )
    texts = [
        "Vores peer",  # a compound or a synonym phrase must not reach into the next text
        "støtte er god",
        "hun vil melde",
        "syg i morgen",
        "",
        "peer-støtte, peer støtte og peer medarbejder",
        "ord-\x00-ord \x00 slut-",  # the separator inside a text is only a space
        "\ud800 ÆØÅ aeoeaa é – “citat” 🙂",
        "peer medarbejder melde syg peer støtte",
    ]
    words_of_all = tokenise(texts)
    assert words_of_all.texts() == [words(text) for text in texts]
    assert normalizer.analyse(words_of_all) == [normalizer.terms(text) for text in texts]
    assert normalizer.analyse(tokenise(texts[:2])) == [("peer",), ("stot", "god")]
    assert normalizer.terms(texts[0] + " " + texts[1]) == ("peerstot", "god")


def test_words_join_hyphens_and_apostrophes_only_between_letters() -> None:
    assert words("peer-støtte") == ["peerstotte"]
    assert words("peer's") == ["peers"]
    assert words("peer’s") == ["peers"]
    assert words("a--b -c d- _e_") == ["a", "b", "c", "d", "e"]
    assert words("ord–ord") == ["ord", "ord"]  # an en dash is punctuation, not a hyphen


def test_the_caches_hold_single_words_never_texts_and_are_capped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import faqbot.text as text_module

    monkeypatch.setattr(text_module, "_CACHE_MAX", 20)
    normalizer = Normalizer()
    for number in range(40):
        normalizer.terms(f"Jens Hansen spurgte om peer nummer{number} i går")
    cached = list(normalizer._words)
    assert len(cached) <= 20
    assert all(" " not in word for word in cached)  # folded single words, never a message
    assert not hasattr(normalizer, "_cache")
