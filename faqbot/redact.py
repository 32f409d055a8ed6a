"""Redaction: personal data out of every question text the bot stores.

Why normalise first: people (their keyboards, phones and copy-paste) write the same number
with en dashes, non-breaking spaces, full-width digits or a zero-width space inside it, and a
pattern that misses one of these forms leaks the whole number. So the text is first brought to
one form: NFKC, invisible characters removed (format characters such as zero-width spaces,
variation selectors, combining marks on digits), every dash a hyphen, runs of spaces one
space, every decimal digit ASCII. The stored text is this normalised form.

Then each kind of personal data becomes a Danish marker that says what was there:

* e-mail addresses, also obfuscated ("anna (at) region.dk", "anna snabel-a region punktum dk",
  "anna at region.dk", "jens . madsen @ gmail . com"), and Telegram links (t.me/...)
  -> ``[e-mail]`` / ``[bruger]``
* @usernames -> ``[bruger]``
* IBAN in any grouping ("DK 50 0040 0440 1162 43"), payment cards (4-4-4-4, 4-6-5, any grouping
  after "kort"/"visa"), a reg.nr. with an account number in any grouping ("1234 0012345678",
  "1234/0012345678", "1234.0012345678"), and numbers after "konto"/"kto"/"reg.nr."
  -> ``[kontonr.]``
* CPR numbers in every grouping (010203-1234, 01.02.03-1234, 01 02 03 1234, 0102031234,
  1.2.93-1234, 01.02.1993-1234, 12 34 after "cpr"/"personnummer" in any grouping) -> ``[CPR-nr.]``
* phone numbers: with a country code (+45, 0045, (+45), +46, +49 (0)30 ...), or Danish 8 digits
  in any grouping people use (12345678, 12 34 56 78, 1234 5678, 123 45 678, 24 567 890,
  12-34-56-78, 12.34.56.78), and 8 digits in any grouping after "tlf"/"mobil"/"ring"
  -> ``[telefonnr.]``
* street addresses -> ``[adresse]``: a postcode and town ("9000 Aalborg", "8000 aarhus c") is
  strong evidence, so the street and number before it go too whatever the street is called and
  in any case, with floor, side, flat and a locality ("Skovbrynet 24, 2. th, Hald, 8800 Viborg");
  without a postcode, a street word ending (-vej, -gade, -allé, Brygge, -parken ...) and a
  number, any street after "bor på"/"flyttet til"/"adresse", or a number with floor and side
  ("Vesterbro 87 3 th"); a postcode and town alone
* names -> ``[navn]``: after a marker whatever the name (a role: "min kollega", "peeren",
  "ny peer:", "patienten er", "hr", "fru", "c/o"; "hedder", "mit navn er", "jeg er", "mvh",
  "hej"; "det er/var X der ..."), and without one a name on the list in ``data/names.txt``
  (common first names and surnames in Denmark, also spelled without æøå or accents): capitalised
  anywhere ("Spørg Henriette"), in lower case too unless it is also a word ("med mette", not
  "line"), and a capitalised -sen/-gaard surname mid-sentence. Names that are also common
  words (Per, Hans, Bo, Kim, Else, Maj, Mark) are names only after a marker.

What stays: dates (12.03.2024, 2024-03-12, 12-03-2024), years and year spans (2016-2017),
times and time spans (12.30, 10.00-12.00), amounts (1.234.567 kr., 12.500.000, 12 500 000),
case numbers after a year (2024-0123, 2024-118734), item and section numbers (§ 56, punkt
4.2.1), room, ward and course numbers (stue 9, lokale 2.17, Del 3), short numbers (112, 1813),
place and organisation names (Region Nordjylland, Sundhedsstyrelsen), and every ordinary word.
Public services' numbers stay too: a listed number (Livslinien's 70 201 201, Psykiatrifonden's
39 25 25 25, Giftlinjen, the regions' Lægevagt ...) anywhere, and any number right after such a
service's name ("Headspace tlf. ...").

What cannot be caught: a name that is not on the list and has no marker ("snakkede med
Perrnille"), since it cannot be told from a place or an organisation; a name that is also a word
without a marker ("Per ringede"); a street without a number, postcode or street word ("hun bor
ved Kvickly"); personal data spelled out in words ("to tre fire fem ..."); a CPR number or an
account number split across messages. Some capitalised words are taken for names where they
are not ("det var Aalborg der vandt"): the markers say a person was named, nothing more.

Each rule is a pattern that finds candidates plus, where the pattern alone cannot tell a phone
number from a date, a check that accepts or refuses each candidate. Names come last and are
found word by word, so a marker from an earlier rule ("[adresse]") is never taken for one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources

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


def normalise(text: str) -> str:
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
_LOCAL_TOKEN = r"""[^\s@()\[\]{}<>,;:"]"""
_LOCAL = (
    r'(?<![^\s()\[\]{}<>,;:"])(?P<local>"[^"\n]{1,64}"'
    rf"|{_LOCAL_TOKEN}{{1,64}}(?: (?:\.|dot|punktum|prik) {_LOCAL_TOKEN}{{1,64}}){{1,3}}"
    r"(?=\s*(?:@|[(\[{<]|snabel|at\s))"
    rf"|{_LOCAL_TOKEN}{{1,256}})"
)
_OBFUSCATED_AT = (
    r"\s*[(\[{<]\s*(?:at|a|æt|@|snabel[\s-]?a|snabel)\s*[)\]}>]\s*"
    r"|\s+snabel[\s-]?a\s+"
    r"|\s+(?:at|AT)\s+"
)
_LABEL = r"[\w\u0300-\u036f-]+"
_OBFUSCATED_DOT = r"\s*[(\[{<]\s*(?:dot|punktum|prik|\.)\s*[)\]}>]\s*|\s+(?:dot|punktum|prik)\s+"
# "gmail . com": a dot with spaces around it only before a top-level domain, so a sentence
# after an address ("anna@rn.dk . Bakkevej 3") is not taken for its domain.
_SPACED_TLD = r"(?: \. (?:dk|com|org|net|se|no|de|eu|nu|info|io)\b)"
_EMAIL = re.compile(
    rf"{_LOCAL}(?P<at>@|\s+@\s+|\s@|@\s|{_OBFUSCATED_AT})"
    rf"(?P<domain>{_LABEL}(?:(?:\.|{_OBFUSCATED_DOT}){_LABEL})*{_SPACED_TLD}?)",
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
# A handle without its @ after the word for it: "brugernavn: anne_peer", "hans telegram er
# frej_k"; a plain word only after a colon ("telegram: jonasp"), not "hans telegram er god".
_USERNAME_AFTER_MARKER = re.compile(
    r"(?<!\[)(?i:\b(?:brugernavn|username|telegram|tg|instagram|insta|snapchat|snap|handle)\b)"
    r"(?: (?:er|hedder))?(?P<colon> ?:)? ?(?P<name>[A-Za-z][\w.]{2,31})(?![\w@])"
)


def _is_username(match: re.Match[str]) -> bool:
    """A handle has an underscore or a digit, or stands alone after a colon."""
    if any(char == "_" or char.isdigit() for char in match["name"]):
        return True
    rest = match.string[match.end() :]
    return match["colon"] is not None and not re.match(r" ?[^\W\d_]", rest)


# -- accounts and cards --------------------------------------------------------------------

# An IBAN in any grouping ("DK50 0040 0440 1162 43", "DK 80 3000 0012 3456 78").
_IBAN = re.compile(r"\b(?:[A-Z]{2}|dk) ?\d{2}(?:[ -]?[A-Z0-9]){10,30}\b")
_CARD = re.compile(
    r"(?<!\d)\d{4}([ -]?)\d{4}\1\d{4}\1\d{4}(?!\d)"
    r"|(?<!\d)\d{4}([ -]?)\d{6}\2\d{5}(?!\d)"  # American Express: 4-6-5
)
_CARD_AFTER_MARKER = re.compile(
    r"(?<!\[)(?i:\b(?:\w*kort|kortnummer|kortnr|visa|mastercard|amex|maestro)\b\.?)"
    r"[^\d\n]{0,10}?(?P<number>\d(?:[ -]?\d){12,18})(?!\d)"
)
_ACCOUNT_AFTER_MARKER = re.compile(
    r"(?<!\[)(?i:\b(?:bank|nem|løn)?(?:konto|kto)(?:nummer|nr)?\b\.?)[^\d\n]{0,15}?"
    r"(?P<number>\d(?:[ ./-]?\d){5,13})(?!\d)"
)
_BANK_AFTER_MARKER = re.compile(
    r"(?i:\breg(?:istrerings)?(?:\.?\s?-?(?:nr|nummer)\b)?\.?(?![a-zæøå]))"
    r"[^\d\n]{0,10}?(?P<number>\d{4}(?:\s?[-/.]\s?\d{6,10}|\s\d{6,10})?)(?!\d)"
)
# A bank's registration number and an account number without a word before them, in any
# grouping: "6460 0004178235", "2191/0724556781", "(9860-0001238745)", "3001.4123456789".
_REG_AND_ACCOUNT = re.compile(
    r"(?<![\d.,/+-])(?P<reg>\d{4})(?:\s?[-/.]\s?|\s)(?P<account>\d{6,10})(?!\d)(?![.,]\d)"
    r"|(?<![\d.,/+-])\d{14}(?!\d)"
)


def _is_reg_and_account(match: re.Match[str]) -> bool:
    """Not a case number after a year ("sag 2024-118734") and not an amount."""
    if match["reg"] is not None and _is_year(match["reg"]) and len(match["account"]) < 10:
        return False
    return not _money(match)


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
# The date with a four-digit year, then the four digits: "02.08.1990-3341", "02081990-3341".
_CPR_FULL_YEAR = re.compile(
    r"(?<![\d.])(?P<dd>\d\d?)(?P<s1>[./-]?)(?P<mm>\d\d?)(?P=s1)(?P<year>(?:19|20)\d\d)"
    r"\s?[-/]\s?(?P<serial>\d{4})(?!\d)(?![.,]\d)"
)
_CPR_AFTER_MARKER = re.compile(
    r"(?<!\[)(?i:\b(?:cpr|personnummer|personnr|person-nr|personnummeret|cpr-nummeret))"
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


def _is_cpr_full_year(match: re.Match[str]) -> bool:
    """Not a span of years ("01.08.2024-2025") and not an amount."""
    serial = match["serial"]
    if _is_year(serial) and int(serial) > int(match["year"]):
        return False
    return _is_cpr_short_date(match)


# -- phone numbers -------------------------------------------------------------------------

_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+(])(?<!\d[-/. ])\(?(?:\+|\b00)\s?\(?[1-9](?:\)?[\s./-]{0,2}\(?\d){7,14}(?!\d)"
)
_NATIONAL = r"(?:\d{8}|\d{1,4}(?:(?:\s?-\s?|[ ./])\d{1,4}){1,7})"
_PHONE_WITH_BARE_CODE = re.compile(
    rf"(?<![\d+])(?<!\d[.,/-])45[ .-]?(?P<national>{_NATIONAL})(?!\d)(?![.,]\d)"
)
_PHONE = re.compile(rf"(?<!\d)(?<!\d[.,/-])(?P<national>{_NATIONAL})(?!\d)(?![.,]\d)")
_PHONE_AFTER_MARKER = re.compile(
    r"(?<!\[)(?i:\b(?:tlf|telefon\w*|mobil\w*|mob|ring(?:e|er)?|sms|nummer|tel|phone)\b\.?)"
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
    if shape == [4, 4] and "-" in separators and 0 < int(groups[1]) - int(groups[0]) < 100:
        return False  # pages 1435-1441
    if (
        shape == [2, 2, 4]
        and _is_year(groups[2])
        and (_valid_day_month(groups[0], groups[1]) or number[2:3] == "-")
    ):  # 12-03-2024, uge 34-35 2025
        return False  # 12-03-2024
    if shape == [4, 2, 2] and _is_year(groups[0]) and _valid_day_month(groups[2], groups[1]):
        return False  # 2024-03-12
    return not (len(groups) >= 3 and shape[-2:] == [3, 3] and groups[-1] == "000")


def _is_phone(match: re.Match[str]) -> bool:
    return (
        _is_danish_phone(match["national"]) and not _money(match) and not _is_public_number(match)
    )


def _is_international_phone(match: re.Match[str]) -> bool:
    return not _is_public_number(match)


def _is_phone_after_marker(match: re.Match[str]) -> bool:
    """After "tlf", "mobil", "ring": any grouping of 8 digits but a date or a time span."""
    number = match["number"]
    if _is_public_number(match):
        return False
    separators = {s.strip() or s for s in _GROUP.split(number)[1:-1]}
    if separators & {".", "/"}:
        return _is_danish_phone(number)
    groups = _GROUP.findall(number)
    shape = [len(g) for g in groups]
    if (
        shape == [2, 2, 4]
        and _is_year(groups[2])
        and (_valid_day_month(groups[0], groups[1]) or number[2:3] == "-")
    ):  # 12-03-2024, uge 34-35 2025
        return False
    return not (shape == [4, 2, 2] and _is_year(groups[0]))


# -- public helplines ----------------------------------------------------------------------

# Numbers that services publish for anyone to call: never personal data, and staff ask about
# them ("står Livslinien 70 201 201 i guiden?"). Each as its services publish it.
_PUBLIC_NUMBERS = frozenset(
    {
        "70201201",  # Livslinien
        "39252525",  # Psykiatrifonden's telephone counselling
        "82121212",  # Giftlinjen
        "70150300",  # Lægevagten, Region Nordjylland
        "70113131",  # Lægevagten, Region Midtjylland
        "70110707",  # Lægevagten, Region Syddanmark
        "70150700",  # Lægevagten, Region Sjælland
        "80301030",  # Kræftlinjen
        "33968686",  # Ældre Sagen's counselling
    }
)
# A number right after one of these names is the service's own ("ring til Giftlinjen på ...").
_SERVICES = (
    r"livslinien|psykiatrifonden|giftlinjen|børnetelefonen|lægevagten|vagtlægen|akuttelefonen"
    r"|akutmodtagelsen|politiet|alkolinjen|kræftlinjen|headspace|sind|børns\s+vilkår"
    r"|ældre\s+sagen|lev\s+uden\s+vold|sundhed\.dk|borger\.dk|psykiatrilinjen|hjernelinjen"
    r"|borgerservice|skadestuen"
    r"|\w+lin(?:i|j)en|\w+foreningen|\w+rådgivning(?:en)?|bedre\s+psykiatri|røde\s+kors"
    r"|kirkens\s+korshær|kræftens\s+bekæmpelse|mødrehjælpen|(?:børne|unge|forældre|sorg)telefonen"
)
_SERVICE_BEFORE = re.compile(
    rf"(?i:\b(?:{_SERVICES})s?)\W*"
    r"(?:(?:på|tlf|telefon|telefonnummer|nr|nummer|nummeret|er|har|ring|ringe|kan|nås"
    r"|rådgivning|rådgivningen|linje|hotline|direkte)\W*){0,3}$"
)
_COUNTRY_CODE = re.compile(r"^(?:00)?45(?=\d{8}$)")


# Numbers of a company, a case, a document or a law ("CVR 12345678", "sagsnr. 12345678",
# "j.nr. 2345 6789", "projektnummer 12345678"): eight digits, but not a phone number. A
# number of a person (telefon-, mobil-, medlems-, kunde-, lønnummer) is none of these.
_REGISTER_BEFORE = re.compile(
    r"(?i:\b(?:(?:cvr|ean|gln)(?:[ -]?(?:nr|nummer))?"
    r"|(?:p|se|j|sags?|journal|faktura|ordre|bilags?|lov|bek|lbk|ref|reference|kursus)"
    r"\.?[ -]?(?:nr|nummer|nummeret)"
    r"|(?!(?:tlf|tele|mobil|mob|cpr|person|konto|kort|medlem|løn|medarbejder|kunde|patient"
    r"|borger|sygesikring|pas|reg|privat|hjem|arbejds|fastnet|direkte|nød|kontakt|vagt|sms"
    r"|whatsapp|signal|ny|gammel|gamle)[^\W\d_]*(?:nr|nummer))"
    r"[^\W\d_]+(?:nr|nummer|nummeret)\b)"
    r"\.?:?)\s*$"
)


def _is_public_number(match: re.Match[str]) -> bool:
    """Whether a phone-shaped number is a public service's (by itself, or right after its
    name), or a register's number (CVR, case, document)."""
    digits = _COUNTRY_CODE.sub("", re.sub(r"\D", "", match.group()))
    if digits in _PUBLIC_NUMBERS:
        return True
    text, start = match.string, match.start()
    return (
        _SERVICE_BEFORE.search(text, max(0, start - 60), start) is not None
        or _REGISTER_BEFORE.search(text, max(0, start - 20), start) is not None
    )


# -- addresses -----------------------------------------------------------------------------

# A street name ends in one of these; the first group in any case ("nørregade 4"), the second
# only capitalised, since they are also ordinary nouns ("i haven 2 timer").
_STREET_ENDINGS = _word_set(
    """
    vej vejen gade gaden allé alle stræde strædet plads pladsen torv torvet boulevard
    boulevarden vænge vænget brygge bryggen
    """
)
_STREET_ENDINGS_CAPITALISED = _word_set(
    """
    parken bakke bakken toft toften stien haven hegn hegnet højen lunden marken engen dalen
    skoven stranden kajen broen løkke løkken brynet vangen ageren holmen kæret mosen volden
    gyde sti brink krog kilde ager agre dal bjerg høj kær vang tofte park
    """
)
_ROOM_WORDS = (
    r"stue|stuen|afsnit|afsnittet|lokale|lokalet|lokal|værelse|seng|etage|hus|bygning|sal"
    r"|gang|rum|kontor|afdeling|team|uge|ugen|side|punkt|del|bilag|kapitel|dilemma|version"
    r"|trin|løntrin|nr|nummer|spørgsmål|kl|klokken|år|kursus|modul|gruppe|hold|kvartal"
    r"|dag|dage|time|timer|måned|fase|niveau|trappe|opgang|sag|j|paragraf|stk|lov|pkt|s"
)
_NOT_AFTER_NUMBER = (
    r"(?!\s*(?:år|dage|timer|uger|måneder|gange|kr|%|procent|min|minutter|km|m\b|meter"
    r"|personer|peers|stk|deltagere|pladser|medarbejdere|borgere|patienter)\b)"
)
# Prefix words of a street name: capitalised ("Peter Bangs", "H.C.", "Gl.") or the usual
# lower-case ones; never a word that starts a sentence or a name of a room.
_STREET_PREFIX = (
    r"(?:(?!(?:Hej|Jeg|Vi|Du|De|Det|Den|Der|Han|Hun|Hvad|Hvor|Hvem|Kan|Skal|Vil|Er|Har|Min"
    r"|Mit|Vores|Hans|Hendes|Adresse|Adr|Ny|Nye|Og|Men|Til|Fra|På|Kontakt)\b)"
    r"[A-ZÆØÅ][\wæøåÆØÅ.'’-]*|(?i:gl\.|gammel|gamle|nørre|norre|søndre|sondre|vestre|østre"
    r"|ostre|store|lille|sankt|skt\.))"
)
_STREET_WORD = rf"(?!(?i:{_ROOM_WORDS})\b)[^\W\d_][\wæøåÆØÅ.'’-]*"
# A house number (or two: "12-14"): up to three digits, since four would be a year ("i
# Esbjerg 2024").
_HOUSE = r"\d{1,3}(?:-\d{1,3})?(?:[A-Za-z]|\s[A-Z])?(?![\wæøå])(?![.,]\d\d)"
_SIDE = r"(?:th|tv|mf|t\.\s?h|t\.\s?v)\b\.?"
_FLOOR_SIDE = (
    rf"(?:\s*,?\s*(?:(?:st|stuen|kl|kld|\d{{1,2}})\s?\.?\s?(?:sal\b\.?)?\s?,?\s?{_SIDE}"
    rf"|\d{{1,2}}\.?\s?sal\b\.?|(?:st|stuen|kld)\b\.?|{_SIDE}))"
)
_FLAT_WORD = r"(?i:lejl(?:ighed)?\.?|værelse|vær\.|dør)\s*(?:nr\.?\s*)?\d{1,4}[a-z]?\b"
_FLAT = rf"(?:\s*,?\s*{_FLAT_WORD})"
_DISTRICT = r"(?:\s+(?i:c|k|n|s|v|ø|nv|nø|sv|sø|f|m|sj)\b\.?)"
_TOWN_PREFIX = r"(?:(?i:nørre|søndre|vester|øster|store|lille|kongens|ny|gl\.)\s+)"
_POSTCODE_TOWN = (
    rf"(?<!\d)(?<!\d[.,])[1-9]\d{{3}}\s+{_TOWN_PREFIX}?[^\W\d_][\wæøåÆØÅ.-]*{_DISTRICT}?"
)
_LOCALITY = r"(?:[A-ZÆØÅ][\wæøå-]+(?:\s+[A-ZÆØÅ][\wæøå-]+)?(?:\s*,\s*|\s+))"
_STREET = rf"(?:{_STREET_PREFIX}\s+){{0,3}}{_STREET_WORD}"
_STREET_TAIL = rf"\s+{_HOUSE}{_NOT_AFTER_NUMBER}{_FLOOR_SIDE}?{_FLAT}?"

# Each address pattern starts with a cheap look ahead for a number within five words, so the
# street grammar is tried only where a house number can follow.
_NUMBER_AHEAD = r"(?=(?:[^\s\d]+\s+){1,5}\d)"
# Postcode and town after a street and number: the strongest evidence, so any street word in
# any case ("Skovbrynet 24 8600 Silkeborg", "nørregade 4 st th, 8000 aarhus c").
_ADDRESS_WITH_POSTCODE = re.compile(
    rf"(?<![\w.]){_NUMBER_AHEAD}(?:{_FLAT_WORD}\s*,?\s*)?{_STREET}{_STREET_TAIL}"
    rf"(?:\s*,\s*|\s+){_LOCALITY}?{_POSTCODE_TOWN}"
)
_ADDRESS_STREET = re.compile(rf"(?<![\w.]){_NUMBER_AHEAD}(?P<street>{_STREET}){_STREET_TAIL}")
_ADDRESS_AFTER_MARKER = re.compile(
    r"(?i:\b(?:(?:bor|boede|bosat|flytter|flyttet|flyttede|flytte)(?:\s+[a-zæøå]+){0,3}?"
    r"\s+(?:på|paa|i|til|fra|ind\s+på)|adresse(?:n)?|adr|bopæl|hjem\s+til|ud\s+til"
    r"|\w*besøg\s+(?:på|hos))\b\.?:?)\s*"
    rf"(?P<address>{_STREET}{_STREET_TAIL})"
)
_ADDRESS_WITH_FLOOR = re.compile(
    rf"(?<![\w.]){_NUMBER_AHEAD}(?:{_STREET_PREFIX}\s+){{0,2}}"
    rf"(?!(?i:{_ROOM_WORDS})\b)[A-ZÆØÅ][\wæøå'’-]+"
    rf"\s+{_HOUSE}\s*,?\s*(?:(?:st|stuen|\d{{1,2}})\s?\.?\s?(?:sal\b\.?)?\s?,?\s?{_SIDE}"
    rf"|\d{{1,2}}\.?\s?sal\b\.?)"
)
_POSTCODE_ALONE = re.compile(
    rf"(?<!\d)(?<!\d[.,])(?P<code>[1-9]\d{{3}})\s+{_TOWN_PREFIX}?(?P<town>[A-ZÆØÅ][a-zæøå.-]+)"
    rf"(?P<district>{_DISTRICT})?"
)
_ADDRESS_RUN = re.compile(r"\[adresse\](?:\s*,?\s*\[adresse\])+")


def _is_street(match: re.Match[str]) -> bool:
    """A street name: a word ending in a street word ("Nørregade", "Rughaven"), or a street
    word after a capitalised name ("Lindholm Brygge", "Peter Bangs Vej")."""
    words = match["street"].split()
    last = words[-1].lower()
    capitalised = words[-1][0].isupper()
    endings = _STREET_ENDINGS | _STREET_ENDINGS_CAPITALISED if capitalised else _STREET_ENDINGS
    for ending in endings:
        if last.endswith(ending):
            return len(last) > len(ending) or (len(words) > 1 and capitalised)
    return False


def _is_postcode_and_town(match: re.Match[str]) -> bool:
    """ "9000 Aalborg": a town, not a year before a word ("i 2024 Region ...")."""
    if match["town"] in _NOT_NAMES or match["town"].lower() in {"kr", "kroner", "dkk", "stk"}:
        return False
    if _is_year(match["code"]) and not match["district"]:
        before = match.string[max(0, match.start() - 3) : match.start()]
        return "," in before or "]" in before
    return True


# -- names -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NameLists:
    """Names from ``faqbot/data/names.txt``: ``alone`` are caught capitalised without a marker,
    ``lower`` also in lower case ("snakkede med mette"), ``words`` (also ordinary words: Per,
    Hans, Bo, Kim, Maj) only after a marker."""

    alone: frozenset[str]
    lower: frozenset[str]
    words: frozenset[str]
    surnames: frozenset[str]


def _load_names() -> _NameLists:
    sections: dict[str, set[str]] = {}
    current: set[str] = set()
    text = (resources.files("faqbot") / "data" / "names.txt").read_text(encoding="utf-8")
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), set())
        else:
            current.update(line.split())
    words = _with_ascii_spellings(sections["names that are also words"])
    alone = _with_ascii_spellings(sections["first names"] | sections["surnames"]) - words
    lower_words = _with_ascii_spellings(sections["names that are also lower-case words"])
    surnames = _with_ascii_spellings(sections["surnames"]) - words
    return _NameLists(alone, alone - lower_words, words, surnames)


def _with_ascii_spellings(names: set[str]) -> frozenset[str]:
    """The names and their spellings without æ, ø, å: Søren, Soeren, Soren; Åse, Aase, Ase."""
    spelled = set(names)
    for old, new in (("æ", "ae"), ("æ", "a"), ("ø", "oe"), ("ø", "o"), ("å", "aa"), ("å", "a")):
        spelled |= {name.replace(old, new) for name in spelled}
    return frozenset(spelled)


_NAMES = _load_names()

_ROLE = (
    # a word ending in a role: "kollegaen", "afdelingssygeplejersken", "peer-medarbejderen"
    r"\w*(?:kolleg(?:a|aen|aer|aerne|er|erne)|kolega(?:en|er|erne)?|patient(?:en|er|erne)?"
    r"|borger(?:en|e|ne)?"
    r"|brugeren|brugere|brugerne|beboer(?:en|e|ne)?|klient(?:en|er|erne)?|lederen|ledere|lederne"
    r"|chef(?:en|er)?|medarbejder(?:en|e|ne)?|sygeplejerske(?:n|r)?|læge(?:n|r)?"
    r"|psykolog(?:en)?|psykiater(?:en)?|pædagog(?:en)?|rådgiver(?:en)?|terapeut(?:en)?"
    r"|assistent(?:en)?|koordinator(?:en)?|konsulent(?:en)?|vejleder(?:en)?|sekretær(?:en)?"
    r"|kontaktperson(?:en)?|mentor(?:en)?|praktikant(?:en)?|elev(?:en)?|studerende|vikar(?:en)?"
    r"|peer(?:en|s|ne)?|frivillig(?:e)?|tolk(?:en)?|værge(?:n)?|bisidder(?:en)?|advokat(?:en)?"
    r"|portør(?:en)?|sagsbehandler(?:en)?|behandleren|hjælperen)"
    # a compound or a determiner for the words that are also verbs ("vi bruger Teams")
    r"|\w+(?:bruger|leder|behandler|hjælper)"
    r"|(?:en|min|mit|vores|din|jeres|deres|ny|nye|den|denne|hans|hendes|sin) "
    r"(?:bruger|leder|behandler|hjælper)"
    # family and others
    r"|pårørende|mor(?:en)?|far(?:en)?|søster(?:en)?|bror(?:en)?|datter(?:en)?|søn(?:nen)?"
    r"|mand(?:en)?|kone(?:n)?|kæreste(?:n)?|ven(?:nen)?|veninde(?:n)?|nabo(?:en)?|moster"
    r"|faster|morbror|farbror|onkel|tante|svigermor|svigerfar|bedstemor|bedstefar|mormor"
    r"|farmor|morfar|farfar|fætter|kusine|ægtefælle(?:n)?|samlever(?:en)?|partner(?:en)?"
    r"|eksmand|ekskone|barn(?:et)?|pige(?:n)?|dreng(?:en)?|stedfar|stedmor|plejemor|plejefar"
    # titles, names, greetings and sign-offs
    r"|hr\.?|fru|frk\.?|dr\.?|c/o|colleague|named|kaldet|ved\s+navn|navngivet|mit\s+navn"
    r"|navnet|navn|mvh|vh|hilsen|kh|hej|hejsa|kære|hi|hello|dear"
    r"|(?:hun|han|hen|vedkommende|personen|som|der|jeg|de|du)\s+(?:hedder|hed)|jeg\s+er"
)
# A marker: a role and what may follow it before the name ("patienten er", "peeren hed").
_MARKER = re.compile(rf"(?i:{_ROLE})(?: (?i:er|var|hedder|hed|heder))?")
_OPENING = "\"“”„'«»("
# The last words of markers of several words that are no marker alone ("hun hedder", "jeg er",
# "en bruger", "patienten var").
_MARKER_ENDINGS = _word_set("er var hedder hed heder bruger leder behandler hjælper")
_IT_IS_BEFORE = re.compile(r"(?<!\w)(?i:det (?:er|var)) $")
_WHO_AFTER = re.compile(r"(?:\s+[A-ZÆØÅ][\wæøå-]*){0,2}\s+(?:der|som)\b")
_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_SURNAME_SHAPE = re.compile(r"[A-ZÆØÅ][a-zæøå]{2,}(?:sen|søn|gaard|gård)")
_NOT_SURNAME_ENDINGS = ("elsen", "ssen", "isen", "osen", "asen", "ysen", "jsen", "æsen")
_SENTENCE_END = frozenset('.!?:;\n"“”(')
# Capitalised words that are not names: sentence words after a missing full stop, places
# and organisations, days and months, the bot itself.
_NOT_NAMES = _word_set(
    """
    I De Den Det Der Dem Og Men Som Hvis Når Jeg Du Han Hun Hen Vi Hvad Hvem Hvor Hvordan
    Hvorfor Hvornår Har Er Kan Skal Vil Må Bør Ikke Også Så Nu Tak Hej Ja Nej Peer Peers
    Derfor Fordi Eller Efter Før Mens Selvom Altså Desuden Dog Bare Kun Hvilke Hvilken
    Hvilket Vores Min Mit Mine Din Dit Hendes Deres Jo Alle Ingen Nogle En Et Jer Dig Mig
    Os Sig Hende Ham Her Der Til Fra På Med Om Ved Region Regionen Kommune Kommunen
    Psykiatri Psykiatrien Danmark Sind Sundhed Recovery Mandag Tirsdag Onsdag Torsdag Fredag
    Lørdag Søndag Januar Februar Marts April Juni Juli August September Oktober November
    December Jul Påske OK The Bot Botten Faqbot Kollega Kollegaer Leder Team Teams Gruppe
    Alle Allesammen Venner Godmorgen Goddag Mvh Hilsen Kr Kroner Får Tager Giver Går Kommer
    Ser Siger Gør Bliver Blev Var Havde Skulle Kunne Ville Måtte Burde Findes Hedder Mener
    Tror Synes Vidste Selv Både Enten Ifølge Måske Nok Altid Aldrig Ofte Lige Især Under Over
    Mellem Uden Hos Af For Inden Siden Da Jamen Okay Ok Godt Fint Undskyld Spørgsmål Svar
    Hjælp Husk Vigtigt Obs Note Ny Nye Gamle Gammel Første Anden Tredje Sidste Næste Hele
    Ph Phd Cand Mag Scient
    """
)


# Words after a person's name that make it a place or an institution named after them.
_NAMED_AFTER = _word_set(
    """
    skole skolen hospital hospitalet sygehus sygehuset hus huset center centret centeret fond
    fonden stiftelse stiftelsen kollegium kollegiet gymnasium gymnasiet seminarium seminariet
    institut instituttet klinik klinikken bibliotek biblioteket museum museet kirke kirken
    teater teatret plads pladsen park parken vej vejen gade gaden allé have haven hjem hjemmet
    børnehave skolerne prisen pris
    """
)


def _is_title(word: str) -> bool:
    return all(part[:1].isupper() and part[1:].islower() for part in word.split("-"))


def _fold(word: str) -> str:
    """Without accents: "Ayşe" -> "ayse", "Yılmaz" -> "yilmaz" (names are listed without)."""
    decomposed = unicodedata.normalize("NFD", word.lower().replace("ı", "i"))
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


def _listed(word: str, names: frozenset[str], *, genitive: bool = False) -> bool:
    """Whether the word, its first part ("Anne-Mette") or, with ``genitive``, the word without
    its genitive s ("Lises") is listed, with or without its accents."""
    lower = word.lower()
    forms = [lower, lower.split("-")[0]]
    if genitive:
        forms += [form.removesuffix("s") for form in forms]
    if not lower.isascii():
        forms += [_fold(form) for form in forms]
    return any(form in names for form in forms)


def _sentence_start(text: str, start: int) -> bool:
    index = start - 1
    while index >= 0 and text[index] in " \t":
        index -= 1
    return index < 0 or text[index] in _SENTENCE_END


def _has_surname_shape(token: str) -> bool:
    """Jensen, Kragelund-Pedersen's shape, Bjerregaard: not a definite noun (Styrelsen,
    Krisen, Bussen)."""
    return _SURNAME_SHAPE.fullmatch(token) is not None and not token.endswith(_NOT_SURNAME_ENDINGS)


def _ends_before(pattern: re.Pattern[str], text: str, start: int) -> bool:
    """Whether ``pattern`` (anchored with $) matches right before ``start``."""
    return pattern.search(text, max(0, start - 60), start) is not None


_DEFINITE_ENDINGS = ("et", "erne", "ene")
_STANDS_AS_NAME = re.compile(r"[ ]?(?:[,.;:!?)\"”»'(]|$| [A-ZÆØÅ]| \[)", re.MULTILINE)


def _marker_before(text: str, start: int) -> str | None:
    """The punctuation ("", "," or ":") between a marker and the word at ``start`` on the same
    line ("min kollega Anna", "ny peer: Rikke", 'peeren "Malte"'), or None without a marker.

    The normalised text has single spaces, so the one to four words before the gap are matched
    whole against the marker grammar."""
    low = max(0, start - 60)
    newline = text.rfind("\n", low, start)
    window = text[newline + 1 if newline >= 0 else low : start]
    end = len(window) - 1 if window.endswith(tuple(_OPENING)) else len(window)
    gap = end - 1 if window[:end].endswith(" ") else end
    punct = window[gap - 1] if gap > 0 and window[gap - 1] in ",:" else ""
    before = gap - 1 if punct else gap
    if before == end:
        return None  # no space or punctuation before the word
    head = window[:before].removesuffix(" ").split(" ")
    if newline < 0 and low > 0:
        head = head[1:]  # the window's first word may be cut
    if not head:
        return None
    last = head[-1].lstrip(_OPENING).rsplit("-", 1)[-1]
    if last.lower() not in _MARKER_ENDINGS and not _is_marker(last):
        return None  # the word before is no marker and cannot end one ("i Region Nordjylland")
    for count in range(1, min(4, len(head)) + 1):
        words = head[-count:]
        first = words[0].lstrip(_OPENING).rsplit("-", 1)[-1]  # "(patienten", "sosu-assistenten"
        if _is_marker(" ".join([first, *words[1:]])):
            return punct
    return None


@functools.lru_cache(maxsize=4096)
def _is_marker(phrase: str) -> bool:
    """Whether these words are a marker (cached: the same few hundred words come again and
    again, and the grammar is long). A capitalised bare "Peer" starts a title or a name of an
    organisation ("Peer Support Workers", "Peer Netværket"), not a role."""
    return phrase not in ("Peer", "Peers") and _MARKER.fullmatch(phrase) is not None


def _starts_name(text: str, word: re.Match[str]) -> bool:
    """Whether this word is (the first word of) a person's name."""
    token = word.group()
    title = _is_title(token)
    if title and token.split("-")[0] in _NOT_NAMES:
        return False
    if not title and not _listed(token, _NAMES.alone):
        return False  # most words: lower case and no name ("medarbejdere per vagt")
    start = word.start()
    if (marker := _marker_before(text, start)) is not None:
        listed = _listed(token, _NAMES.alone) or (title and _listed(token, _NAMES.words))
        if not (title or listed) or (not listed and token.endswith(_DEFINITE_ENDINGS)):
            return False  # "peeren Netværket", "brugerne Projekterne": nouns, not names
        # After "role:" or "role," a new sentence may start ("Medarbejder: Tager vi ..."):
        # a name there is listed, or a whole name, or stands alone ("ny peer: Sascha, ...").
        return listed or not marker or _STANDS_AS_NAME.match(text, word.end()) is not None
    if not title:  # lower case, or capitals: "METTE", but not an acronym ("IDA", "EVA")
        return (len(token) > 3 or not token.isupper()) and _listed(token, _NAMES.lower)
    # A genitive ("Camillas mor") at a sentence's start only of a name that is no word: "Dans
    # og bevægelse" is not Dan's.
    mid_sentence = not _sentence_start(text, start)
    if _listed(token, _NAMES.alone, genitive=mid_sentence) or _listed(
        token, _NAMES.lower, genitive=True
    ):
        return True
    if _ends_before(_IT_IS_BEFORE, text, start):
        return _listed(token, _NAMES.words) or (
            _WHO_AFTER.match(text, word.end()) is not None
            and not token.endswith(("en", "et", "ne", "s"))
        )
    return mid_sentence and _has_surname_shape(token)


def _continues_name(
    text: str, previous: re.Match[str], word: re.Match[str], *, marked: bool
) -> bool:
    """Whether ``word`` is the next part of the name ending at ``previous`` ("Mette Jensen");
    without a marker, not a word that makes it a place ("Karen Blixen Parken")."""
    if text[previous.end() : word.start()] != " ":
        return False
    token = word.group()
    if _is_title(token):
        return token.split("-")[0] not in _NOT_NAMES and (
            marked or token.lower() not in _NAMED_AFTER
        )
    return _listed(token, _NAMES.lower)


_WORD_BEFORE = re.compile(r"([^\W\d_]+(?:-[^\W\d_]+)*) $")


def _first_name_before(text: str, word: re.Match[str], copied: int) -> int:
    """Where a name starting with a surname really starts: at an unlisted first name right
    before it ("med Sascha Hansen"), capitalised and mid-sentence."""
    token = word.group()
    if not (_listed(token, _NAMES.surnames, genitive=True) or _has_surname_shape(token)):
        return word.start()
    before = _WORD_BEFORE.search(text, max(copied, word.start() - 40), word.start())
    if before is None:
        return word.start()
    first = before.group(1)
    if (
        _is_title(first)
        and first.split("-")[0] not in _NOT_NAMES
        and first.lower() not in _NAMED_AFTER
        and not _sentence_start(text, before.start())
    ):
        return before.start()
    return word.start()


def _names_a_place(text: str, last: re.Match[str]) -> bool:
    """Whether the name ending at ``last`` names a place ("Kofoeds Skole", "Peter Sabroe
    Seminariet", "Karen Blixen Parken"), not a person."""
    following = _NAME_TOKEN.match(text, last.end() + 1)
    return (
        following is not None
        and text[last.end() : following.start()] == " "
        and following.group().lower() in _NAMED_AFTER
    )


_WORD = re.compile(r"[^\W\d_]+")
# Where a capitalised word may start (a superset: Latin, Greek and Cyrillic capitals and some
# small letters among them; ``_starts_name`` decides).
_CAPITAL = re.compile(r"(?<![^\W\d_])(?<![^\W\d_]-)[A-ZÀ-ÖØ-ÞĀ-ſͰ-ϿЀ-Я]")


def _redact_names(text: str) -> str:
    """Replace every name (after a marker, listed, or shaped like a surname) with ``[navn]``.

    A name starts at a capitalised word or at a listed name in lower case, so only those
    places are tried (the tests compare this with trying every word)."""
    starts = {capital.start() for capital in _CAPITAL.finditer(text)}
    if _NAMES.alone.intersection(_WORD.findall(text)):  # "patienten mads", "med mette"
        starts.update(word.start() for word in _NAME_TOKEN.finditer(text))
    return _redact_names_from(text, sorted(starts))


def _redact_names_from(text: str, starts: Iterable[int]) -> str:
    """``_redact_names`` trying a name at each of ``starts`` (ascending word starts)."""
    pieces: list[str] = []
    copied = 0
    for start in starts:
        word = _NAME_TOKEN.match(text, start)
        if (
            start < copied
            or word is None
            or text[start - 1 : start] == "["
            or not _starts_name(text, word)
        ):
            continue
        marked = _marker_before(text, start) is not None
        last, parts = word, 1
        while (
            parts < 4
            and (following := _NAME_TOKEN.match(text, last.end() + 1)) is not None
            and _continues_name(text, last, following, marked=marked)
        ):
            last, parts = following, parts + 1
        if not marked and _names_a_place(text, last):
            continue  # "Kofoeds Skole"; but "peeren Jens Hus" is a person
        if not marked:
            start = _first_name_before(text, word, copied)
        pieces += [text[copied:start], NAME]
        copied = last.end()
    pieces.append(text[copied:])
    return "".join(pieces)


_TEXT_RULES: tuple[_Rule, ...] = (
    _Rule(_EMAIL, EMAIL, _is_email),
    _Rule(_TELEGRAM_LINK, USER),
    _Rule(_USERNAME, USER),
    _Rule(_USERNAME_AFTER_MARKER, USER, _is_username, group="name"),
)
# Each of these needs a digit, so a text without one skips them.
_NUMBER_RULES: tuple[_Rule, ...] = (
    _Rule(_IBAN, ACCOUNT),
    _Rule(_CARD, ACCOUNT),
    _Rule(_CARD_AFTER_MARKER, ACCOUNT, group="number"),
    _Rule(_ACCOUNT_AFTER_MARKER, ACCOUNT, group="number"),
    _Rule(_BANK_AFTER_MARKER, ACCOUNT, group="number"),
    _Rule(_CPR_AFTER_MARKER, CPR, group="number"),
    _Rule(_PHONE_INTERNATIONAL, PHONE, _is_international_phone),
    _Rule(_CPR_LONG_YEAR, CPR),
    _Rule(_CPR_FULL_YEAR, CPR, _is_cpr_full_year),
    _Rule(_CPR, CPR, _is_cpr),
    _Rule(_CPR_SHORT_DATE, CPR, _is_cpr_short_date),
    _Rule(_REG_AND_ACCOUNT, ACCOUNT, _is_reg_and_account),
    _Rule(_PHONE_AFTER_MARKER, PHONE, _is_phone_after_marker, group="number"),
    _Rule(_PHONE_WITH_BARE_CODE, PHONE, _is_phone),
    _Rule(_PHONE, PHONE, _is_phone),
    _Rule(_ADDRESS_WITH_POSTCODE, ADDRESS),
    _Rule(_ADDRESS_STREET, ADDRESS, _is_street),
    _Rule(_ADDRESS_AFTER_MARKER, ADDRESS, group="address"),
    _Rule(_ADDRESS_WITH_FLOOR, ADDRESS),
    _Rule(_POSTCODE_ALONE, ADDRESS, _is_postcode_and_town),
)


_DIGIT = re.compile(r"\d")
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
    text = normalise(text)
    for rule in _TEXT_RULES:
        text = rule.apply(text)
    if _DIGIT.search(text):
        for rule in _NUMBER_RULES:
            text = rule.apply(text)
        text = _ADDRESS_RUN.sub(ADDRESS, text)
    text = _redact_names(text)
    return text if limit is None else text[:limit]
