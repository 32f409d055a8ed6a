"""Redaction: personal data out of every question text the bot stores.

Why normalise first: people (their keyboards, phones and copy-paste) write the same number
with en dashes, non-breaking spaces, full-width digits or a zero-width space inside it, and a
pattern that misses one of these forms leaks the whole number. So the text is first brought to
one form: NFKC, invisible characters removed (format characters such as zero-width spaces,
variation selectors, combining marks on digits), every dash a hyphen, runs of spaces one
space, every decimal digit ASCII. The stored text is this normalised form.

Then each kind of personal data becomes a Danish marker that says what was there:

* e-mail addresses, also obfuscated ("anna (at) region.dk", "anna snabel-a region punktum dk",
  "anna at region.dk"), and Telegram links (t.me/...) -> ``[e-mail]`` / ``[bruger]``
* @usernames -> ``[bruger]``
* IBAN, payment card and (after "konto"/"reg.nr.") account numbers -> ``[kontonr.]``
* CPR numbers in every grouping (010203-1234, 01.02.03-1234, 01 02 03 1234, 0102031234,
  1.2.93-1234, 12 34 after "cpr"/"personnummer" in any grouping) -> ``[CPR-nr.]``
* phone numbers: with a country code (+45, 0045, (+45), +46 ...), or Danish 8 digits in any
  grouping people use (12345678, 12 34 56 78, 1234 5678, 123 45 678, 24 567 890, 12-34-56-78,
  12.34.56.78, 2456-7890), and 8 digits in any grouping after "tlf"/"mobil"/"ring"
  -> ``[telefonnr.]``
* a name after a clear marker: a role ("min kollega Anna Hansen", "patienten Jens", "fru
  Jensen") or "hedder" after a person ("hun hedder Mette") -> ``[navn]``
* a street address (a capitalised street name ending in vej/gade/allé/... and a house
  number) -> ``[adresse]``

What stays: dates (12.03.2024, 2024-03-12, 12-03-2024), years and year spans (2016-2017),
times and time spans (12.30, 10.00-12.00), amounts (1.234.567 kr., 12.500.000, 12 500 000),
case numbers after a year (2024-0123), item and section numbers (§ 56, punkt 4.2.1), short
numbers (112, 1813), and every ordinary word. A name without a marker ("Anna sagde ...")
cannot be told from an ordinary capitalised word without a dictionary of names, so it stays.

Each rule is a pattern that finds candidates plus, where the pattern alone cannot tell a phone
number from a date, a check that accepts or refuses each candidate.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

CPR = "[CPR-nr.]"
PHONE = "[telefonnr.]"
EMAIL = "[e-mail]"
USER = "[bruger]"
ACCOUNT = "[kontonr.]"
NAME = "[navn]"
ADDRESS = "[adresse]"

# --------------------------------------------------------------------------------------------
# Normalising
# --------------------------------------------------------------------------------------------

# Default-ignorable characters that are not format characters (Cf): Hangul fillers, the
# combining grapheme joiner, Mongolian variation selectors, variation selectors, and the
# invisible braille blank. Format characters (zero-width space and joiners, soft hyphen, word
# joiner, bidi controls, BOM, tag characters) are found by their category.
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
)
_DASHES = frozenset("\u2212\u2043\u02d7\ufe63\uff0d\u2e3a\u2e3b")
_DOTS = frozenset("\u00b7\u2024\u2027\u30fb\uff0e")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")


def _normalise(text: str) -> str:
    """NFKC, invisible characters out, one hyphen, one dot, one space, ASCII digits."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        kept: list[str] = []
        for char in text:
            category = unicodedata.category(char)
            if category == "Cf" or char in _INVISIBLE:
                continue
            if category in ("Mn", "Me") and (not kept or not kept[-1].isalpha()):
                continue  # a mark on a digit or a sign (keycaps): noise inside a number
            if category == "Pd" or char in _DASHES:
                kept.append("-")
            elif char in _DOTS:
                kept.append(".")
            elif category == "Nd":
                kept.append(str(unicodedata.decimal(char)))
            elif category in ("Zs", "Zl", "Zp") and char != "\n":
                kept.append(" ")
            else:
                kept.append(char)
        text = "".join(kept)
    return _HORIZONTAL_SPACE.sub(" ", text)


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """Replace ``group`` of every match of ``pattern`` that ``accept`` accepts with ``marker``."""

    pattern: re.Pattern[str]
    marker: str
    accept: Callable[[re.Match[str]], bool] | None = None
    group: int | str = 0

    def apply(self, text: str) -> str:
        # Scanning by hand (rather than re.sub) lets a refused candidate give way to a match
        # that starts inside it: "01.03.2024 010203-1234" must still find the CPR number.
        pieces: list[str] = []
        copied = search = 0
        while (match := self.pattern.search(text, search)) is not None:
            if self.accept is not None and not self.accept(match):
                search = match.start() + 1
                continue
            start, end = match.span(self.group)
            pieces += [text[copied:start], self.marker]
            copied = search = max(end, match.end())
        pieces.append(text[copied:])
        return "".join(pieces)


_CURRENCY_AFTER = re.compile(
    r"\s?(?:kr\b|kr\.|kroner|dkk|,-|,\d|euro|eur\b|€|\$|%|procent|mio|mia|timer|t\.|år\b)",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"(?:kr\.?|dkk|€|\$)\s?$", re.IGNORECASE)


def _money(match: re.Match[str]) -> bool:
    """Whether the number is an amount (or a count of hours, years, percent)."""
    text = match.string
    return bool(
        _CURRENCY_AFTER.match(text, match.end())
        or _CURRENCY_BEFORE.search(text[max(0, match.start() - 5) : match.start()])
    )


# -- e-mail addresses and Telegram handles ---------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_KNOWN_TLDS = _word_set(
    "dk com org net se no de eu nu io info gov edu uk fi is fo gl nl be fr es it at ch pl co me biz"
)
# Danish words that are followed by the conjunction/infinitive "at" ("jeg synes at sundhed.dk
# ..."), so "<word> at <domain>" is a sentence, not an address written "anna at region.dk".
_WORDS_BEFORE_AT = _word_set(
    """
    synes tror mener ved vidste viser vist sagt sagde siger sige skrev skriver skrevet står stod
    læst læste hørt hørte oplyser oplyste fortæller fortalte påstår håber betyder vide husk huske
    glemt glemte glemmer vigtigt muligt svært nemt godt nødt klar lov tid nok bare fordi end for
    om ud ind op så og men eller også ikke kun blot derfor efter uden med til lært anbefaler
    anbefalede foreslår foreslog valgt besluttet prøve prøvet prøver begynde startet holdt undgå
    kan skal vil må bør plejer ønsker ønsket beder bedt bedes forstå forstår forstået sikre
    sikker vigtig tænke tænker mente troede følte føler fik får gør gjorde lader lod hjælpe
    hjælper spørge spørger interesseret glad ked bange lyst evne ret pligt krav mulighed
    chance måde grund behov brug svar tegn ok okay
    """
)

# A local part starts a token and is at most 256 characters, so a long run of text costs
# linear time and a local part is never cut short (which would leak its first characters).
_LOCAL = r"""(?<![^\s()\[\]{}<>,;:"])(?P<local>"[^"\n]{1,64}"|[^\s@()\[\]{}<>,;:"]{1,256})"""
_OBFUSCATED_AT = (
    r"\s*[(\[{<]\s*(?:at|a|æt|@|snabel[\s-]?a|snabel)\s*[)\]}>]\s*"
    r"|\s+snabel[\s-]?a\s+"
    r"|\s+(?:at|AT)\s+"
)
_LABEL = r"[\w\u0300-\u036f-]+"
_OBFUSCATED_DOT = r"\s*[(\[{<]\s*(?:dot|punktum|prik|\.)\s*[)\]}>]\s*|\s+(?:dot|punktum|prik)\s+"
_EMAIL = re.compile(
    rf"{_LOCAL}(?P<at>@|\s+@\s+|\s@|@\s|{_OBFUSCATED_AT})"
    rf"(?P<domain>{_LABEL}(?:(?:\.|{_OBFUSCATED_DOT}){_LABEL})*)",
    re.IGNORECASE,
)
_TLD = re.compile(r"(?:\.|[)\]}>]\s*|\s)([A-Za-z]{2,24})$")


def _is_email(match: re.Match[str]) -> bool:
    at, domain = match["at"], match["domain"]
    if at == "@":
        return True
    tld = _TLD.search(domain)
    if tld is None:
        return False  # "a @ b", "svar (a) eller (b)": an address needs a domain with a dot
    if at.strip() == "@":
        # One-sided spaces ("anna @region.dk") only for a real top-level domain, so a
        # "hej @anna.peer" mention is not taken for an address.
        return at == " @ " or tld.group(1).lower() in _KNOWN_TLDS
    if at.strip().lower() == "at" and not at.strip().startswith("("):
        return match["local"].lower() not in _WORDS_BEFORE_AT
    return True


_TELEGRAM_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/[\w+-]+|tg://\S+", re.IGNORECASE
)
_USERNAME = re.compile(r"(?<![\w@])@\w+(?:\.\w+)*")

# -- accounts and cards --------------------------------------------------------------------

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")
_CARD = re.compile(r"(?<!\d)\d{4}([ -]?)\d{4}\1\d{4}\1\d{4}(?!\d)")
_ACCOUNT_AFTER_MARKER = re.compile(
    r"(?i:\bkonto(?:nummer|nr)?\b\.?)[^\d\n]{0,15}?(?P<number>\d(?:[ .-]?\d){5,13})(?!\d)"
)
_BANK_AFTER_MARKER = re.compile(
    r"(?i:\breg(?:istrerings)?\.?\s?(?:nr|nummer)\b\.?)[^\d\n]{0,10}?(?P<number>\d{4})(?!\d)"
)

# -- CPR numbers ---------------------------------------------------------------------------

_SEPARATOR = r"(?:\s?[-./]\s?|\s)"
_CPR = re.compile(
    rf"(?<!\d)(?P<dd>\d\d)(?P<s1>{_SEPARATOR}?)(?P<mm>\d\d)(?P<s2>{_SEPARATOR}?)(?P<yy>\d\d)"
    rf"(?P<s3>{_SEPARATOR}?)(?P<a>\d\d)(?P<s4>{_SEPARATOR}?)(?P<b>\d\d)(?!\d)"
)
_CPR_SHORT_DATE = re.compile(
    r"(?<![\d.])(?P<dd>\d\d?)(?P<s1>[./-])(?P<mm>\d\d?)(?P=s1)(?P<yy>\d\d)\s?-\s?\d{4}(?!\d)"
)
_CPR_LONG_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?:0[1-9]|1[0-2])\d\d[-+]\d{4}(?!\d)")
_CPR_AFTER_MARKER = re.compile(
    r"(?i:\b(?:cpr|personnummer|personnr|person-nr|personnummeret|cpr-nummeret))"
    r"[^\d\n]{0,30}?(?P<number>\d(?:[\s./-]{0,3}\d){9})(?!\d)"
)


def _valid_day_month(day: str, month: str) -> bool:
    """A CPR date: day 1-31 (61-91 for a replacement number), month 1-12."""
    dd, mm = int(day), int(month)
    return (1 <= dd <= 31 or 61 <= dd <= 91) and 1 <= mm <= 12


def _is_cpr(match: re.Match[str]) -> bool:
    if not _valid_day_month(match["dd"], match["mm"]):
        return False
    s1, s2, s3, s4 = (match[name].strip() or match[name] for name in ("s1", "s2", "s3", "s4"))
    if s1 and s2 and not s3:
        return False  # "01.03.2024 12": a date with a four-digit year, then a number
    if s4 and s4 != " " and not (s1 == s2 == s3 == s4):
        return False  # "01.03.24 12.30": a date and a time
    return not _money(match)


def _is_cpr_short_date(match: re.Match[str]) -> bool:
    return _valid_day_month(match["dd"], match["mm"]) and not _money(match)


# -- phone numbers -------------------------------------------------------------------------

_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+(])\(?(?:\+|\b00)\s?\(?[1-9](?:\)?[\s./-]{0,2}\(?\d){7,14}(?!\d)"
)
_NATIONAL = r"(?:\d{8}|\d{1,4}(?:(?:\s?-\s?|[ ./])\d{1,4}){1,7})"
_PHONE_WITH_BARE_CODE = re.compile(
    rf"(?<![\d+])(?<!\d[.,/-])45[ .-]?(?P<national>{_NATIONAL})(?!\d)(?![.,]\d)"
)
_PHONE = re.compile(rf"(?<!\d)(?<!\d[.,/-])(?P<national>{_NATIONAL})(?!\d)(?![.,]\d)")
_PHONE_AFTER_MARKER = re.compile(
    r"(?i:\b(?:tlf|telefon\w*|mobil\w*|mob|ring(?:e|er)?|sms|nummer|tel|phone)\b\.?)"
    r"[^\d\n]{0,15}?(?P<number>\d(?:[\s./-]{0,3}\d){7})(?![\d])(?![\s./-]{0,3}\d)"
)
_GROUP = re.compile(r"\d+")
_YEAR = re.compile(r"(?:19|20)\d\d")


def _is_year(group: str) -> bool:
    return bool(_YEAR.fullmatch(group))


def _is_danish_phone(number: str) -> bool:
    """Whether 8 digits in this grouping are a phone number, not a date, span or amount."""
    groups = _GROUP.findall(number)
    if sum(map(len, groups)) != 8:
        return False
    separators = {s.strip() or s for s in _GROUP.split(number)[1:-1]}
    if "/" in separators:
        return False  # 12/03/2024
    shape = [len(g) for g in groups]
    if "." in separators:
        # Only 12.34.56.78: dots also make dates (12.03.2024), amounts (12.500.000), time
        # spans (10.00-12.00) and section numbers (1.2.3.4).
        return separators == {"."} and shape == [2, 2, 2, 2]
    if shape == [4, 4] and _is_year(groups[0]) and ("-" in separators or _is_year(groups[1])):
        return False  # 2016-2017, 2016 2017, sag 2024-0123
    if shape == [2, 2, 4] and _valid_day_month(groups[0], groups[1]) and _is_year(groups[2]):
        return False  # 12-03-2024
    if shape == [4, 2, 2] and _is_year(groups[0]) and _valid_day_month(groups[2], groups[1]):
        return False  # 2024-03-12
    return not (len(groups) >= 3 and shape[-2:] == [3, 3] and groups[-1] == "000")


def _is_phone(match: re.Match[str]) -> bool:
    return _is_danish_phone(match["national"]) and not _money(match)


def _is_phone_after_marker(match: re.Match[str]) -> bool:
    """After "tlf", "mobil", "ring": any grouping of 8 digits but a date or a time span."""
    number = match["number"]
    separators = {s.strip() or s for s in _GROUP.split(number)[1:-1]}
    if separators & {".", "/"}:
        return _is_danish_phone(number)
    groups = _GROUP.findall(number)
    shape = [len(g) for g in groups]
    if shape == [2, 2, 4] and _valid_day_month(groups[0], groups[1]) and _is_year(groups[2]):
        return False
    return not (shape == [4, 2, 2] and _is_year(groups[0]))


# -- names and addresses -------------------------------------------------------------------

_ROLE = (
    r"kolleg(?:a|aen|aer|aerne|er|erne)|patient(?:en|er|erne)?|borger(?:en|e|ne)?"
    r"|bruger(?:en|e|ne)?|beboer(?:en|e|ne)?|klient(?:en|er|erne)?|\w*leder(?:en|e|ne)?"
    r"|\w*chef(?:en|er)?|medarbejder(?:en|e|ne)?|sygeplejerske(?:n|r)?|overlæge(?:n)?|læge(?:n)?"
    r"|psykolog(?:en)?|psykiater(?:en)?|pædagog(?:en)?|socialrådgiver(?:en)?|terapeut(?:en)?"
    r"|kontaktperson(?:en)?|mentor(?:en)?|praktikant(?:en)?|elev(?:en)?|pårørende"
    r"|mor(?:en)?|far(?:en)?|søster(?:en)?|bror(?:en)?|datter(?:en)?|søn(?:nen)?"
    r"|mand(?:en)?|kone(?:n)?|kæreste(?:n)?|ven(?:nen)?|veninde(?:n)?|nabo(?:en)?"
    r"|hr\.|fru|frk\.|dr\.|colleague|named|kaldet|ved\s+navn|navngivet"
    r"|(?:hun|han|hen|vedkommende|personen|som|jeg|de)\s+hedder"
)
_NAME_WORD = r"[A-ZÆØÅ][a-zæøåäöüéèáàíóúñç'’]+(?:-[A-ZÆØÅ][a-zæøåäöüéèáàíóúñç]+)*(?![\w-])"
_NAME_AFTER_MARKER = re.compile(
    rf"(?<![\w\[])(?i:{_ROLE})(?![\w-]),?\s+(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})"
)
# Capitalised words that are not names: sentence words after a missing full stop, places
# and organisations, days and months.
_NOT_NAMES = _word_set(
    """
    I De Den Det Der Dem Og Men Som Hvis Når Jeg Du Han Hun Hen Vi Hvad Hvem Hvor Hvordan
    Hvorfor Hvornår Har Er Kan Skal Vil Må Bør Ikke Også Så Nu Tak Hej Ja Nej Peer Peers
    Derfor Fordi Eller Efter Før Mens Selvom Altså Desuden Dog Bare Kun Hvilke Hvilken
    Hvilket Vores Min Mit Mine Din Dit Hans Hendes Deres Jo Alle Ingen Nogle En Et
    Region Regionen Kommune Kommunen Psykiatri Psykiatrien Danmark Sind Sundhed Recovery
    Mandag Tirsdag Onsdag Torsdag Fredag Lørdag Søndag Januar Februar Marts April Maj Juni Juli
    August September Oktober November December Jul Påske OK The
    """
)


def _is_name(match: re.Match[str]) -> bool:
    return match["name"].split()[0].split("-")[0] not in _NOT_NAMES


_STREET = (
    r"vej|vejen|gade|gaden|allé|stræde|strædet|plads|pladsen|torv|torvet|boulevard"
    r"|vænge|vænget|parken|bakke|bakken|toft|toften|stien|haven|hegn|højen"
    r"|lunden|marken|engen|dalen|skoven|stranden|kajen|broen|løkke|løkken"
)
_ADDRESS = re.compile(
    rf"\b(?=[A-ZÆØÅ])[\wæøå.'-]*(?i:{_STREET})\s+\d{{1,4}}(?:\s?[A-Z]|[a-z])?\b"
    r"(?:,?\s*(?:st|kl|\d{1,2})\.?(?:\s*(?:sal|th|tv|mf)\b\.?)?)?"
    r"(?!\s*(?:år|dage|timer|uger|måneder|gange|kr|%|procent))"
)

_RULES: tuple[_Rule, ...] = (
    _Rule(_EMAIL, EMAIL, _is_email),
    _Rule(_TELEGRAM_LINK, USER),
    _Rule(_USERNAME, USER),
    _Rule(_IBAN, ACCOUNT),
    _Rule(_CARD, ACCOUNT),
    _Rule(_ACCOUNT_AFTER_MARKER, ACCOUNT, group="number"),
    _Rule(_BANK_AFTER_MARKER, ACCOUNT, group="number"),
    _Rule(_CPR_AFTER_MARKER, CPR, group="number"),
    _Rule(_PHONE_INTERNATIONAL, PHONE),
    _Rule(_CPR_LONG_YEAR, CPR),
    _Rule(_CPR, CPR, _is_cpr),
    _Rule(_CPR_SHORT_DATE, CPR, _is_cpr_short_date),
    _Rule(_PHONE_AFTER_MARKER, PHONE, _is_phone_after_marker, group="number"),
    _Rule(_PHONE_WITH_BARE_CODE, PHONE, _is_phone),
    _Rule(_PHONE, PHONE, _is_phone),
    _Rule(_NAME_AFTER_MARKER, NAME, _is_name, group="name"),
    _Rule(_ADDRESS, ADDRESS),
)


_PARTIAL_TAIL = re.compile(r"\S{0,64}[\d\s.,/()+-]*$")


def redact(text: str, *, limit: int | None = None) -> str:
    """The text normalised, with every piece of personal data replaced by its marker.

    With ``limit``, the result is at most that long. A longer text is first cut (at twice the
    limit) before the word the cut would split, so half a number is never left to slip past
    the patterns, and the time spent stays bounded whatever arrives.

    >>> redact("Ring til min kollega Anna på 23 45 67 89 eller anna (at) region.dk")
    'Ring til min kollega [navn] på [telefonnr.] eller [e-mail]'
    """
    if limit is not None and len(text) > 2 * limit:
        text = _PARTIAL_TAIL.sub("", text[: 2 * limit])
    text = _normalise(text)
    for rule in _RULES:
        text = rule.apply(text)
    return text if limit is None else text[:limit]
