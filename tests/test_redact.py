"""Redaction, table-driven in both directions: personal data in the forms people write goes,
ordinary text (dates, years, times, amounts, item numbers, words) stays untouched.

Every form from issue 14 is in the tables; so are the forms a person typing on a phone, pasting
from a journal system or hiding an address from spam filters would use.
"""

from __future__ import annotations

import time

import pytest

from faqbot import questionlog
from faqbot.redact import ACCOUNT, ADDRESS, CPR, EMAIL, NAME, PHONE, USER, redact

ZWSP = "\u200b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # -- CPR numbers: every grouping and separator ------------------------------------
        ("mit cpr er 010203-1234", f"mit cpr er {CPR}"),
        ("cpr 0102031234.", f"cpr {CPR}."),
        ("CPR: 311299 4321", f"CPR: {CPR}"),
        ("(010203-1234)", f"({CPR})"),
        ("hun har 2501851234 som nummer", f"hun har {CPR} som nummer"),
        ("cpr-nr.010203-1234", f"cpr-nr.{CPR}"),
        ("020290–5678", CPR),  # en dash (issue 14)
        ("020290—5678", CPR),  # em dash
        ("020290‐5678", CPR),  # Unicode hyphen
        ("020290‑5678", CPR),  # non-breaking hyphen
        ("020290−5678", CPR),  # minus sign
        ("03.03.93-9012", CPR),  # issue 14
        ("04 04 94-3456", CPR),  # issue 14
        (f"0102{ZWSP}03-1234", CPR),  # a zero-width space inside (issue 14)
        ("0102\u2060031234", CPR),  # word joiner
        ("010203\u00ad-1234", CPR),  # soft hyphen
        ("010203\u00a01234", CPR),  # non-breaking space
        ("010203\u202f1234", CPR),  # narrow no-break space
        ("010203 - 1234", CPR),
        ("010203/1234", CPR),
        ("01-02-03-1234", CPR),
        ("01/02/03-1234", CPR),
        ("01.02.03 1234", CPR),
        ("01 02 03 12 34", CPR),
        ("0102 03 1234", CPR),
        ("0102 031234", CPR),
        ("01 0203 1234", CPR),
        ("010203-12 34", CPR),
        ("1.2.93-1234", CPR),  # day and month without leading zeros
        ("0１0２0３-１２３４", CPR),  # full-width digits
        ("٠١٠٢٠٣-١٢٣٤", CPR),  # Arabic-Indic digits
        ("630290-1234", CPR),  # a replacement CPR number (day + 60)
        ("19930201-1234", CPR),  # the Swedish personnummer with a four-digit year
        ("cpr: 0 1 0 2 0 3 1 2 3 4", f"cpr: {CPR}"),  # any grouping after "cpr"
        ("personnummer 123456 7890", f"personnummer {CPR}"),  # no valid date, but a marker
        ("CPR-nummeret er 12 34 56 78 90", f"CPR-nummeret er {CPR}"),
        ("to cpr: 010203-1234 020304-2345", f"to cpr: {CPR} {CPR}"),
        ("den 01.03.2024 010203-1234", f"den 01.03.2024 {CPR}"),
        # -- phone numbers -------------------------------------------------------------------
        ("ring på 12345678", f"ring på {PHONE}"),
        ("ring på 12 34 56 78 i dag", f"ring på {PHONE} i dag"),
        ("tlf. 1234 5678", f"tlf. {PHONE}"),
        ("tlf 123 45 678", f"tlf {PHONE}"),
        ("+45 12 34 56 78", PHONE),
        ("+4512345678", PHONE),
        ("+45 1234 5678!", f"{PHONE}!"),
        ("0045 12345678", PHONE),
        ("004512345678", PHONE),
        ("(+45) 12345678", PHONE),
        ("(0045) 12 34 56 78", PHONE),
        ("+45-12-34-56-78", PHONE),
        ("45 12 34 56 78", PHONE),  # the country code without +
        ("4512345678", PHONE),
        ("ring: 70 10 20 30.", f"ring: {PHONE}."),
        ("to numre: 11223344, 55667788", f"to numre: {PHONE}, {PHONE}"),
        ("hendes nr. er 12-34-56-78", f"hendes nr. er {PHONE}"),
        ("ring 12.34.56.78 efter kl. 9", f"ring {PHONE} efter kl. 9"),
        ("tlf.12345678", f"tlf.{PHONE}"),
        ("2456-7890", PHONE),  # issue 14
        ("24 567 890", PHONE),  # issue 14
        ("71 203 405", PHONE),
        ("12 34 5678", PHONE),
        ("1234 56 78", PHONE),
        ("2456 - 7890", PHONE),
        ("2 34 56 789", PHONE),
        ("2 3 4 5 6 7 8 9", PHONE),
        ("der var 5 12 34 56 78", f"der var 5 {PHONE}"),
        ("12\u00a034\u00a056\u00a078", PHONE),  # non-breaking spaces
        (f"12 34{ZWSP} 56 78", PHONE),
        ("１２３４５６７８", PHONE),  # full-width digits
        ("1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣", PHONE),  # keycap emoji digits
        ("tlf 2016 2017", f"tlf {PHONE}"),  # looks like years, but after "tlf"
        ("mobil: 2 0 1 6 2 0 1 7", f"mobil: {PHONE}"),
        ("+46 70 123 45 67", PHONE),  # Swedish
        ("+49 30 1234567", PHONE),  # German
        ("+1 (555) 123-4567", PHONE),
        # -- e-mail addresses, plain and obfuscated --------------------------------------------
        ("skriv til anne.hansen@regionh.dk", f"skriv til {EMAIL}"),
        ("mail: peer+test@sub.example.co.uk!", f"mail: {EMAIL}!"),
        ("FORNAVN_EFTERNAVN@RN.DK?", f"{EMAIL}?"),
        ("jørgen.ø@psykiatri.dk", EMAIL),
        (f"anna{ZWSP}@region.dk", EMAIL),  # issue 14: was "anna\u200b[bruger].dk"
        (f"anna@{ZWSP}region.dk", EMAIL),
        ("anna＠region.dk", EMAIL),  # full-width @
        ("anna﹫region.dk", EMAIL),  # small commercial at
        ("x (at) region.dk", EMAIL),  # issue 14
        ("anna(at)region.dk", EMAIL),
        ("anna [at] region [dot] dk", EMAIL),
        ("anna {at} region.dk", EMAIL),
        ("anna (AT) region (DOT) dk", EMAIL),
        ("anna at region.dk", EMAIL),
        ("anna at region dot dk", EMAIL),
        ("anna [snabel-a] region.dk", EMAIL),
        ("anna snabel-a region.dk", EMAIL),
        ("anna snabel a region punktum dk", EMAIL),
        ("anna (snabel-a) region (punktum) dk", EMAIL),
        ("anna(a)region.dk", EMAIL),
        ("anna (@) region.dk", EMAIL),
        ("anna (a) region.dk", EMAIL),
        ("anna @ region.dk", EMAIL),
        ("anna @region.dk", EMAIL),
        ("anna@ region.dk", EMAIL),
        ("anna@region", EMAIL),  # an intranet address without a top-level domain
        ("o'brien@region.dk", EMAIL),
        ('"anna hansen"@region.dk', EMAIL),
        ("<anna@region.dk>", f"<{EMAIL}>"),
        ("mailto:anna@region.dk", f"mailto:{EMAIL}"),
        # -- usernames and Telegram links ----------------------------------------------------
        ("spørg @anna_peer om det", f"spørg {USER} om det"),
        ("@Lederen123 sagde nej", f"{USER} sagde nej"),
        ("hej @søren.", f"hej {USER}."),
        ("skriv til t.me/anna_peer", f"skriv til {USER}"),
        ("https://t.me/anna_peer", USER),
        # -- bank details --------------------------------------------------------------------
        ("DK50 0040 0440 1162 43", ACCOUNT),
        ("IBAN DK5000400440116243", f"IBAN {ACCOUNT}"),
        ("kort 1234 5678 9012 3456", f"kort {ACCOUNT}"),
        ("reg.nr. 1234 kontonr. 1234567890", f"reg.nr. {ACCOUNT} kontonr. {ACCOUNT}"),
        # -- names after a clear marker ------------------------------------------------------
        ("min kollega Anna Hansen er syg", f"min kollega {NAME} er syg"),
        ("patienten Jens vil ikke", f"patienten {NAME} vil ikke"),
        ("Kollegaen, Anna-Marie Holm, siger", f"Kollegaen, {NAME}, siger"),
        ("vores leder Birgitte", f"vores leder {NAME}"),
        ("afdelingslederen Ole Sørensen", f"afdelingslederen {NAME}"),
        ("borgeren Ahmad har", f"borgeren {NAME} har"),
        ("hun hedder Mette.", f"hun hedder {NAME}."),
        ("en bruger ved navn Søren", f"en bruger ved navn {NAME}"),
        ("fru Jensen og hr. Nielsen", f"fru {NAME} og hr. {NAME}"),
        # -- street addresses ----------------------------------------------------------------
        ("hun bor på Nørregade 12, 2. th", f"hun bor på {ADDRESS}"),
        ("Strandvejen 102B", ADDRESS),
        ("H.C. Andersens Boulevard 27", f"H.C. Andersens {ADDRESS}"),
        # -- several at once -----------------------------------------------------------------
        (
            "@bo har cpr 010203-1234, tlf 12345678 og bo@x.dk",
            f"{USER} har cpr {CPR}, tlf {PHONE} og {EMAIL}",
        ),
        (
            "Min kollega Anna (anna.h at rn.dk, 2345 6789) har cpr 120385-1234",
            f"Min kollega {NAME} ({EMAIL}, {PHONE}) har cpr {CPR}",
        ),
    ],
)
def test_personal_data_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hvad tjener en peer i 2024?",
        "Er 37 timer om ugen for meget?",
        "Mødet er kl. 12.30 den 3.4.2025",
        "Vi har 1234567 kr. i budget",  # seven digits
        "Løn på 123.456.789 kr.",
        "Budgettet er 12.500.000 kr.",
        "Budgettet er 12.500.000",
        "Budgettet er 12 500 000",
        "Det koster 12 345 678 kr.",
        "Løn 28.500,00 kr. om måneden",
        "Projektet kørte 2016-2017",
        "Mellem 2016-2017 og 2018-2019",
        "fra 2016 til 2017",
        "Dato 12-03-2024",
        "Dato 12.03.2024 og 1.2.3.4",
        "Dato 12/03/2024",
        "Dato 2024-03-12",
        "den 01.03.2024 12 deltagere",  # a date, then a count
        "den 01.03.24 kl. 12.30",
        "den 01.03.24 12.30",  # a date and a time
        "fra 01.03.24-01.04.24",  # a date span
        "fra 01.03.2024-01.04.2024",
        "Fik 01.05.24 1500 kr. udbetalt",
        "ring mellem 10.00-12.00",  # a time span after "ring"
        "åbent 8.00-16.00 og 10.00-12.00",
        "Version 1-22-33-44-55",  # nine digits: not a phone number
        "Punkt 1.2.3.4.5.6.7.8",
        "1 2 3 4 5 6 7",
        "Sagsnr. 2024-0123",  # a case number after a year
        "sag 2024-012345",
        "Se punkt 4.2.1 og § 56 i serviceloven",
        "Ring 112 eller 1813",
        "ISBN 978-87-7749-123-4",
        "EAN 5790000000000",
        "journalnr. 123456",
        "Tlf.-tid kl. 08.00-16.00 man-fre",
        "uge 12-14 og 15-16",
        "0,5 mg og 12,5 mg",
        "Paragraf 85-86 og 99-100",
        "Ring til Livslinien",
        "Hvad er en peer?",
        "Hvad betyder § 56?",
        "mail os",
        "a @ b",
        "svar (a) eller (b)",
        "Jeg synes at sundhed.dk er god",  # "at" the conjunction before a web site
        "Har du læst at borger.dk skriver det?",
        "Se www.sind.dk og sundhed.dk",
        "Alle 3 peers var med",
        "Parken 2 gange om året",
        "Min kollega er syg",
        "Min kollega Peer-medarbejderen",
        "Hvad hedder Psykiatrifondens rådgivning?",
        "Patienten I Region Hovedstaden",
        "PTSD og ADHD hos peers",
        "Det er 100% ok",
        "37,5 timer",
        "Anna sagde ja",  # a name without a marker is not recognised (see faqbot.redact)
    ],
)
def test_ordinary_text_stays(text: str) -> None:
    assert redact(text) == text


def test_no_part_of_a_redacted_address_or_number_survives() -> None:
    # The bug of issue 14: "anna\u200b@region.dk" became "anna\u200b[bruger].dk".
    text = (
        f"anna{ZWSP}@region.dk, ann\u034fa@region.dk, 0102{ZWSP}03-1234, "
        "+45\u200d12345678, jens\u2060.hansen (at) rn.dk"
    )
    redacted = redact(text)
    for fragment in ("anna", "ann", "region", "jens", "hansen", "rn.dk", "1234", "0102", "5678"):
        assert fragment not in redacted, redacted


def test_redaction_normalises_invisible_characters_away() -> None:
    assert redact("Hvad\u200b er\u00a0en\u2003 peer\ufeff?") == "Hvad er en peer?"


def test_redaction_is_fast_on_long_and_hostile_text() -> None:
    hostile = [
        "x" * 4096,
        "a@" * 2048,
        "1 " * 2048,
        "1-" * 2048,
        "kollega " * 512,
        ("anna (at) " * 400)[:4096],
        "cpr " + "1 " * 2000,
    ]
    started = time.perf_counter()
    for text in hostile:
        redact(text)
    assert time.perf_counter() - started < 2.0


def test_a_limit_cuts_the_result_and_never_leaves_half_a_number() -> None:
    assert redact("hej " * 1000, limit=100) == ("hej " * 25)
    # A number that a cut of the raw text at twice the limit would split in two.
    text = "x" * 1995 + " 12 34 56 78 og mere"
    assert redact(text, limit=1000) == "x" * 1000
    shrinking = "a.very.long.local.part.indeed@example.com " * 60 + "tlf 12 34 56 78"
    assert "12 34" not in redact(shrinking, limit=1000)
    started = time.perf_counter()
    redact("1 " * 10_000_000, limit=1000)  # a 20 MB message costs no more than a short one
    assert time.perf_counter() - started < 0.5


def test_the_question_log_stores_redacted_text_through_the_one_redact() -> None:
    assert questionlog.redact is redact
