"""The ``faqbot`` command: one function per subcommand, each a thin layer over the core.

Each subcommand's docstring is its help text, with an example. The core raises named
exceptions; ``main`` turns them into one ``Error: ...`` line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faqbot import __version__, kb
from faqbot.settings import TELEGRAM_DEFAULT_BASE_URL, Settings, SettingsError, load_settings


class CommandError(Exception):
    """A subcommand failed in a way the user can fix; the message is one sentence."""


Argument = tuple[tuple[str, ...], dict[str, Any]]
"""One argparse argument: its names and ``add_argument``'s keyword options."""


@dataclass(frozen=True)
class _Command:
    function: Callable[[argparse.Namespace], int]
    arguments: tuple[Argument, ...]


COMMANDS: dict[str, _Command] = {}


def arg(*names: str, **options: Any) -> Argument:
    """One argparse argument, as ``add_argument`` takes it."""
    return names, options


Handler = Callable[[argparse.Namespace], int]


def command(*arguments: Argument) -> Callable[[Handler], Handler]:
    """Register a subcommand named after the function; its docstring is the help text."""

    def register(function: Handler) -> Handler:
        COMMANDS[function.__name__.rstrip("_").replace("_", "-")] = _Command(function, arguments)
        return function

    return register


KNOWLEDGE_DIR = arg(
    "--knowledge-dir",
    type=Path,
    default=None,
    help="knowledge directory (default: FAQBOT_KNOWLEDGE_DIR or the repository's knowledge/)",
)


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings from the environment, with the command line's overrides."""
    settings = load_settings()
    knowledge_dir = getattr(args, "knowledge_dir", None)
    if knowledge_dir is not None:
        from dataclasses import replace

        settings = replace(settings, knowledge_dir=knowledge_dir)
    return settings


def load_knowledge(settings: Settings) -> kb.KnowledgeBase:
    """Load the knowledge base or raise ``InvalidKnowledgeBase`` with every problem."""
    return kb.load(settings.knowledge_dir)


@command(
    KNOWLEDGE_DIR,
    arg(
        "--guides",
        type=Path,
        default=None,
        metavar="DIR",
        help="also check quotations and cited sections against the guides' texts in DIR "
        "(one .txt file per guide; they are not part of the repository)",
    ),
)
def validate(args: argparse.Namespace) -> int:
    """Check the whole knowledge base and print a summary, or every problem as path:line: message.

    With --guides DIR it also checks that every quote, and every text in quotation marks in an
    answer, occurs word for word in the text of a guide the item cites, that every cited section
    is a heading of its guide, and that no answer copies ten words from a guide unquoted.
    Example: faqbot validate --knowledge-dir knowledge/
    Example: faqbot validate --guides ../shared/seeds/
    """
    settings = settings_from(args)
    problems = kb.validate(settings.knowledge_dir)
    if not problems and args.guides is not None:
        from faqbot import guides

        try:
            problems = guides.check(load_knowledge(settings), args.guides)
        except guides.GuidesError as error:
            raise CommandError(str(error)) from error
    if problems:
        for problem in problems:
            print(problem)
        print(f"Error: the knowledge base has {len(problems)} problem(s).", file=sys.stderr)
        return 1
    knowledge = load_knowledge(settings)
    alternates = sum(len(item.alternates) for item in knowledge.items)
    checked = " Every quotation and cited section is in its guide." if args.guides else ""
    print(
        f"OK: {len(knowledge.items)} items in {len(knowledge.categories)} categories, "
        f"{len(knowledge.sources)} sources, {alternates} alternates, "
        f"{len(knowledge.synonyms)} synonym groups.{checked}"
    )
    return 0


_WEBHOOK_SECRET_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
)


@command(
    KNOWLEDGE_DIR,
    arg(
        "--webhook-url",
        default=None,
        metavar="URL",
        help="receive updates by webhook at this public https URL instead of long polling "
        "(needs FAQBOT_WEBHOOK_SECRET)",
    ),
    arg(
        "--listen",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="webhook mode: address to listen on (default 127.0.0.1; 0.0.0.0 in a container)",
    ),
    arg("--port", type=int, default=8443, help="webhook mode: port to listen on (default 8443)"),
    arg(
        "--url-path",
        default=None,
        metavar="PATH",
        help="webhook mode: local path to serve (default: the path of --webhook-url)",
    ),
)
def run(args: argparse.Namespace) -> int:
    """Run the Telegram bot: long polling by default, or a webhook with --webhook-url.

    Needs TELEGRAM_BOT_TOKEN and a valid knowledge base; leaders are FAQBOT_ADMIN_IDS.
    FAQBOT_TELEGRAM_BASE_URL points it at a self-hosted Bot API server. Ctrl-C or SIGTERM
    stops it cleanly and flushes the question log.

    Example: faqbot run
    Example: faqbot run --webhook-url https://bot.example.org/faqbot --listen 0.0.0.0
    """
    from urllib.parse import urlsplit

    settings = settings_from(args)
    if not settings.telegram_token:
        raise CommandError(
            "TELEGRAM_BOT_TOKEN is not set; get a token from @BotFather "
            "(or try the bot without one: faqbot chat)."
        )
    if args.webhook_url is not None:
        if not args.webhook_url.startswith(("https://", "http://")):
            # Telegram itself insists on https; a self-hosted Bot API server also takes http.
            raise CommandError(f"--webhook-url must be an https:// URL, got {args.webhook_url!r}.")
        secret = settings.webhook_secret or ""
        if not secret:
            raise CommandError(
                "webhook mode needs FAQBOT_WEBHOOK_SECRET, so forged updates are refused."
            )
        if len(secret) > 256 or not set(secret) <= _WEBHOOK_SECRET_CHARS:
            raise CommandError(
                "FAQBOT_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -."
            )
        if not 1 <= args.port <= 65535:
            raise CommandError(f"--port must be from 1 to 65535, got {args.port}.")
    knowledge = load_knowledge(settings)  # an invalid knowledge base refuses to start

    from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

    from faqbot.bot import app
    from faqbot.bot.tokenfilter import configure_logging
    from faqbot.questionlog import QuestionLogError

    configure_logging(settings.log_level, settings.telegram_token)
    url_path = args.url_path
    if url_path is None and args.webhook_url:
        url_path = urlsplit(args.webhook_url).path
    token = settings.telegram_token
    try:
        app.run(
            settings,
            knowledge,
            webhook_url=args.webhook_url,
            listen=args.listen,
            port=args.port,
            url_path=(url_path or "").lstrip("/"),
        )
    except InvalidToken:
        server = settings.telegram_base_url
        also = "" if server == TELEGRAM_DEFAULT_BASE_URL else f", and that {server} is a Bot API"
        raise CommandError(
            f"Telegram rejected TELEGRAM_BOT_TOKEN; check the token with @BotFather{also}."
        ) from None
    except BadRequest as error:  # at start-up only setWebhook can be refused
        raise CommandError(f"the Bot API refused to start the bot: {error}.") from None
    except NetworkError as error:
        message = str(error).replace(token, "<token>") or error.__class__.__name__
        raise CommandError(
            f"cannot reach the Bot API at {settings.telegram_base_url} ({message}); check the "
            "network, the proxy (HTTPS_PROXY or FAQBOT_PROXY_URL) and FAQBOT_TELEGRAM_BASE_URL."
        ) from None
    except TelegramError as error:
        message = str(error).replace(token, "<token>")
        raise CommandError(
            f"the Bot API at {settings.telegram_base_url} answered in a way faqbot cannot use "
            f"({message}); check FAQBOT_TELEGRAM_BASE_URL."
        ) from None
    except (QuestionLogError, app.StartupError) as error:
        raise CommandError(str(error)) from None
    return 0


REPORT_FORMATS = ("text", "csv", "html", "png")
REPORT_EXTENSIONS = {".txt": "text", ".csv": "csv", ".html": "html", ".htm": "html", ".png": "png"}


def _report_days(raw: str) -> int:
    """``--days`` as a whole number of at least 1, or one ``Error:`` sentence."""
    try:
        days = int(raw.strip())
    except ValueError:
        days = 0
    if days < 1:
        raise CommandError(f"--days must be a whole number of at least 1, got {raw!r}.")
    return days


def _report_format(raw: str | None, out: Path | None) -> str:
    """``--format``, or the one ``--out``'s extension names; they must agree when both given."""
    named = REPORT_EXTENSIONS.get(out.suffix.lower()) if out is not None else None
    if raw is None:
        if out is None or not out.suffix:
            return "text"
        if named is None:
            raise CommandError(
                f"cannot tell the format from the file name {out.name}; "
                f"give --format ({', '.join(REPORT_FORMATS)})."
            )
        return named
    form = raw.strip().lower()
    if form not in REPORT_FORMATS:
        raise CommandError(f"--format must be one of {', '.join(REPORT_FORMATS)}; got {raw!r}.")
    if out is not None and named is not None and named != form:
        raise CommandError(
            f"--format {form} does not match the file name {out.name}; "
            "drop --format or change the name."
        )
    return form


@command(
    KNOWLEDGE_DIR,
    arg("--days", default="30", metavar="N", help="the last N days, against the N before (30)"),
    arg(
        "--format",
        default=None,
        metavar="FORMAT",
        help="text, csv, html or png (default: from --out's extension, else text)",
    ),
    arg("--out", type=Path, default=None, metavar="FILE", help="write to FILE, not stdout"),
    arg(
        "--include-terminal",
        action="store_true",
        help="count the questions typed in the terminal chat (a test channel) too",
    ),
)
def report(args: argparse.Namespace) -> int:
    """The leaders' report: what colleagues ask, knowledge gaps, off-topic and crisis counts.

    Reads the question log in FAQBOT_DATA_DIR; the period is shortened to what the log holds.
    The format follows --out's extension (.txt, .csv, .html, .png); html is one self-contained
    file to open or e-mail, png the chart the bot sends. Questions from the terminal chat are
    left out unless --include-terminal.
    Example: faqbot report --days 30 --out rapport.html
    Example: faqbot report --days 7
    """
    import asyncio
    import sqlite3

    from faqbot import report as reporting
    from faqbot.questionlog import QuestionLogError

    days = _report_days(args.days)
    form = _report_format(args.format, args.out)
    if form == "png" and args.out is None:
        raise CommandError("--format png needs --out FILE.")
    settings = settings_from(args)
    try:
        knowledge: kb.KnowledgeBase | None = load_knowledge(settings)
    except kb.InvalidKnowledgeBase as error:
        print(
            f"Advarsel: vidensbasen har {len(error.problems)} fejl; spørgsmål vises med deres id.",
            file=sys.stderr,
        )
        knowledge = None
    try:
        built = asyncio.run(
            reporting.build_report(
                settings.database,
                days=days,
                kb=knowledge,
                include_terminal=args.include_terminal,
            )
        )
    except (reporting.ReportError, QuestionLogError) as error:
        raise CommandError(str(error)) from None
    except sqlite3.DatabaseError as error:
        raise CommandError(f"cannot read the question log {settings.database}: {error}.") from None
    if form == "png":
        content: str | bytes = reporting.report_png(built)
    else:
        render = {
            "text": reporting.report_text,
            "csv": reporting.report_csv,
            "html": reporting.report_html,
        }[form]
        content = render(built)
    if args.out is None:
        sys.stdout.write(str(content))
        return 0
    try:
        if isinstance(content, bytes):
            args.out.write_bytes(content)
        else:
            args.out.write_text(content, encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot write {args.out}: {error.strerror or error}.") from None
    print(f"Rapporten er gemt i {args.out}.")
    return 0


@command()
def purge(args: argparse.Namespace) -> int:
    """Delete stored question texts older than FAQBOT_RETENTION_DAYS (90); the counts stay.

    The bot does this daily by itself; run it by hand after lowering FAQBOT_RETENTION_DAYS.
    Example: faqbot purge
    """
    import asyncio

    from faqbot.questionlog import QuestionLog, QuestionLogError, load_or_create_secret, log_exists

    settings = settings_from(args)
    location = settings.database
    if not log_exists(location):
        print(f"Der er ingen spørgelog i {location}; intet at slette.")
        return 0

    async def run() -> int:
        log = await QuestionLog.open(
            location,
            secret=load_or_create_secret(settings),
            keep_text=settings.keep_text,
            retention_days=settings.retention_days,
        )
        try:
            return await log.purge()
        finally:
            await log.close()

    try:
        removed = asyncio.run(run())
    except QuestionLogError as error:
        raise CommandError(str(error)) from None
    noun = "spørgsmålstekst" if removed == 1 else "spørgsmålstekster"
    print(f"Slettede {removed} {noun} ældre end {settings.retention_days} dage.")
    return 0


@command(
    arg(
        "--from",
        dest="source",
        type=Path,
        default=None,
        metavar="SQLITE_FILE",
        help="the SQLite question log to copy (default: faqbot.sqlite3 in FAQBOT_DATA_DIR)",
    ),
)
def migrate(args: argparse.Namespace) -> int:
    """Copy the SQLite question log into the PostgreSQL database FAQBOT_DATABASE_URL names.

    Copies questions, votes, picks, the leaders' chats and the inbox (updates not yet answered
    are answered by the bot on PostgreSQL), then checks that every row is there and prints
    each table's counts. Safe to run again: rows already there are skipped. Stop the bot first;
    both logs must have the same secret (FAQBOT_SECRET or the secret file in FAQBOT_DATA_DIR).
    Example: FAQBOT_DATABASE_URL=postgresql://faqbot:PASSWORD@db/faqbot faqbot migrate
    Example: faqbot migrate --from /srv/faqbot/data/faqbot.sqlite3
    """
    import asyncio

    from faqbot.questionlog import QuestionLogError, load_or_create_secret
    from faqbot.storage.transfer import migrate_to

    settings = settings_from(args)
    target = settings.database
    if target.is_sqlite:
        raise CommandError(
            "faqbot migrate copies into PostgreSQL; set FAQBOT_DATABASE_URL to a postgresql:// URL."
        )
    source = args.source or settings.database_path
    if not source.is_file():
        raise CommandError(f"there is no SQLite question log at {source} to copy.")
    try:
        counts = asyncio.run(migrate_to(source, target, load_or_create_secret(settings)))
    except QuestionLogError as error:
        raise CommandError(str(error)) from None
    for count in counts:
        print(
            f"{count.table}: {count.source} i SQLite, {count.target} i PostgreSQL "
            f"({count.copied} kopieret nu)."
        )
    print("Alle rækker fra SQLite findes i PostgreSQL.")
    return 0


@command(
    KNOWLEDGE_DIR,
    arg("question", metavar="QUESTION", help="the question, or - to read one question per line"),
    arg("--json", action="store_true", help="one JSON object per question, one per line"),
)
def ask(args: argparse.Namespace) -> int:
    """Answer one question as the bot would: the answer and its source, suggestions, or no match.

    With - in place of the question, reads questions from standard input, one per line.
    A message about acute danger gets the safety text alone (status safety); one that touches
    on danger but reads as a question gets its normal reply with a short safety note first.
    --json prints one object per question with the keys question, status, item_id, answer
    (for status safety: the safety text), score, source, suggestions, small_talk (the kind of
    small talk, "foreign" for another language, or null; answer then holds the reply or the
    note), safety_note (true when the safety note goes first), off_topic (true when the
    question is outside the guides' subject) and not_covered (when the nearest items do not hold
    what is asked, or it asks for a task: the name or kind of fact they lack, the question's
    words that ask it, the task, the nearest item's question offered instead, and the reason
    as the reply says it; else null).
    Example: faqbot ask "Har peeren tavshedspligt?"
    Example: printf 'peer og medicin\\nhvad er recovery\\n' | faqbot ask --json -
    """
    import json

    from faqbot import render
    from faqbot.matcher import Matcher

    knowledge = load_knowledge(settings_from(args))
    matcher = Matcher(knowledge)
    if args.question == "-":
        questions = [line.rstrip("\r\n") for line in sys.stdin]
    else:
        questions = [args.question]
    for index, question in enumerate(questions):
        result = matcher.match(question)
        if args.json:
            print(json.dumps(ask_json(result, knowledge), ensure_ascii=False))
            continue
        if index:
            print()
        print(render.result_plain(result, knowledge))
    return 0


def ask_json(result: object, knowledge: kb.KnowledgeBase) -> dict[str, Any]:
    """The ``faqbot ask --json`` object for one matcher result."""
    from faqbot.matcher import Result, Status

    assert isinstance(result, Result)
    item = result.item
    answered = result.status is Status.ANSWERED and item is not None
    source = None
    if answered and item is not None:
        ref = item.sources[0]
        guide = knowledge.source(ref.source)
        source = {
            "title": guide.title,
            "publisher": guide.publisher,
            "year": guide.year,
            "section": ref.section,
            "url": guide.url,
        }
    if answered and item is not None:
        answer: str | None = item.answer
    elif result.status is Status.SAFETY:
        from faqbot import render

        answer = render.safety_text(result, knowledge)
    elif result.small_talk is not None:
        answer = result.small_talk.reply  # small talk's reply, or another language's note
    else:
        answer = None
    return {
        "question": result.question,
        "status": result.status.value,
        "item_id": item.id if item is not None else None,
        "answer": answer,
        "score": round(float(result.score), 4),
        "source": source,
        "suggestions": [
            {"item_id": s.item.id, "question": s.item.question, "score": round(s.score, 4)}
            for s in result.suggestions
        ][:3],
        "small_talk": result.small_talk.kind if result.small_talk is not None else None,
        "safety_note": result.safety_note,
        "off_topic": result.off_topic,
        "not_covered": not_covered_json(result.not_covered),
    }


def not_covered_json(gap: object) -> dict[str, str | None] | None:
    """What the nearest items lack (``Result.not_covered``) for ``faqbot ask --json``."""
    from faqbot import render
    from faqbot.matcher.answerable import Gap

    if not isinstance(gap, Gap):
        return None
    return {
        "name": gap.name,
        "fact": gap.fact,
        "asked": gap.asked,
        "task": gap.task,
        "nearest": gap.nearest,
        "reason": render.not_covered(gap),
    }


@command(KNOWLEDGE_DIR)
def chat(args: argparse.Namespace) -> int:
    """Chat with the bot in the terminal (what `make run` starts without a Telegram token).

    /emner browses the categories, /kilder lists the guides, numbers pick a suggestion,
    Ctrl-D leaves. With standard input not a terminal, answers one question per line.
    Questions are logged to the question log in FAQBOT_DATA_DIR, like the bot does.
    Example: faqbot chat
    Example: printf 'Har peeren tavshedspligt?\\n' | faqbot chat
    """
    import asyncio

    from faqbot.chat import run_chat
    from faqbot.matcher import Matcher
    from faqbot.questionlog import QuestionLog, load_or_create_secret

    settings = settings_from(args)
    matcher = Matcher(load_knowledge(settings))

    async def open_log() -> QuestionLog:
        return await QuestionLog.open(
            settings.database,
            secret=load_or_create_secret(settings),
            keep_text=settings.keep_text,
            retention_days=settings.retention_days,
        )

    asyncio.run(run_chat(matcher, open_log=open_log))
    return 0


@command(
    KNOWLEDGE_DIR,
    arg(
        "--file",
        type=Path,
        default=None,
        metavar="EVAL_YAML",
        help="the tuning set (default: eval.yaml in the knowledge directory)",
    ),
    arg(
        "--heldout",
        type=Path,
        default=None,
        metavar="HELDOUT_YAML",
        help="the held-out set (default: heldout/questions.yaml in the knowledge directory, "
        "when it exists)",
    ),
    arg(
        "--compare",
        default=None,
        metavar="REF",
        help="compare with a git ref (HEAD, main, a commit) or a file saved with --save",
    ),
    arg("--save", type=Path, default=None, metavar="FILE", help="save the figures to FILE"),
)
def eval_(args: argparse.Namespace) -> int:
    """Run the tuning set and the held-out set; print each one's figures; exit 1 below floors.

    The tuning set (eval.yaml) was tuned on; the development set (dev.yaml, colleagues'
    labelled questions, which the matcher learns from) is reported apart, figures only, and
    leave-one-author-out (each author's questions against an index built without them); the
    held-out set (written blind, never tuned on) says how the bot does on new questions. Each
    figure is
    labelled with its set: answered right, answered wrong, asked back, out-of-scope rejected,
    top-1, top-3, safety recall. The tuning set's figures per category and misses follow; the
    held-out set's questions are never printed (looking at them would make it a tuning set).
    Floors are the tuning set's.
    Then the crisis check's figures, acute recall and false alarms apart: on the safety
    examples (learnt from), per author with the classifier trained without that author
    (cross-validation), on eval.yaml's crisis lines, and on the held-out crisis set
    heldout/safety.yaml when it exists (floors: recall >= 0.97, false alarms <= 0.05; its
    messages are never printed).
    --save FILE keeps the tuning set's figures and each question's outcome as a baseline.
    --compare REF prints instead how they changed since REF: a git ref (its knowledge
    directory, eval.yaml included, is evaluated with the CURRENT engine, so the difference
    shows what the knowledge edit changed; with --file, that eval set serves both sides) or a
    file saved with --save.
    Example: faqbot eval --knowledge-dir knowledge/
    Example: faqbot eval --compare HEAD
    Example: faqbot eval --save before.json
    """
    from faqbot import compare
    from faqbot.evaluate import report_lines, run_eval, run_eval_by_author
    from faqbot.matcher import Matcher

    settings = settings_from(args)
    heldout = args.heldout or settings.knowledge_dir / "heldout" / "questions.yaml"
    if args.heldout is not None and not heldout.is_file():
        raise CommandError(f"no held-out set at {heldout}.")
    matcher = Matcher(kb.load(settings.knowledge_dir))
    knowledge = matcher.kb
    report, current = _evaluate(settings.knowledge_dir, args.file, "arbejdskopien", matcher)
    if args.save is not None:
        try:
            compare.save_snapshot(args.save, current)
        except OSError as error:
            raise CommandError(f"cannot write {args.save}: {error.strerror or error}.") from None
    if args.file is None and knowledge.asked:  # dev.yaml: learnt from, so leave-one-author-out
        fresh, _ = run_eval_by_author(matcher, kb.DEV_FILE)
        for line in report_lines(fresh, misses=False):
            print(line)
    if heldout.is_file():
        blind = run_eval(matcher, kb.load_heldout(heldout, knowledge), "held-out")
        for line in report_lines(blind, misses=False):
            print(line)
    crisis_failed: list[str] = []
    if args.compare is None:
        for line in report_lines(report):
            print(line)
        crisis_failed = _crisis(settings.knowledge_dir, matcher, report)
    else:
        baseline = _baseline(args.compare, settings.knowledge_dir, args.file)
        for line in compare.comparison_lines(compare.compare(baseline, current)):
            print(line)
        failed = report.failed_floors()
        print("Kravene er IKKE nået: " + ", ".join(failed) if failed else "Alle krav er nået.")
    if args.save is not None:
        print(f"Tallene er gemt i {args.save}.")
    return 1 if report.failed_floors() or crisis_failed else 0


def _crisis(knowledge_dir: Path, matcher: Any, evaluation: Any) -> list[str]:
    """Print the crisis check's figures (the held-out crisis set's too, where it exists);
    return the crisis floors not reached."""
    from faqbot.evaluate import crisis_lines, run_crisis
    from faqbot.safety import HELDOUT_SAFETY

    knowledge = matcher.kb
    path = knowledge_dir / HELDOUT_SAFETY
    heldout = kb.load_safety_examples(path) if path.is_file() else None
    ordinary: list[str] = []
    if (knowledge_dir / "eval.yaml").is_file():
        evalset = kb.load_eval(knowledge_dir / "eval.yaml", knowledge)
        ordinary = [entry.question for entry in evalset.questions] + list(evalset.out_of_scope)
    crisis = run_crisis(matcher.safety, heldout, ordinary)
    for line in crisis_lines(crisis, evaluation):
        print(line)
    return crisis.failed_floors()


def _evaluate(
    knowledge_dir: Path, eval_file: Path | None, label: str, matcher: Any = None
) -> tuple[Any, Any]:
    """Run the eval set on one knowledge directory (with ``matcher``, its engine when the
    caller has built it already): the report and its snapshot."""
    from faqbot import compare
    from faqbot.evaluate import run_eval
    from faqbot.matcher import Matcher

    matcher = matcher or Matcher(kb.load(knowledge_dir))
    path = eval_file or knowledge_dir / "eval.yaml"
    if not path.is_file():
        raise CommandError(f"no eval set at {path}.")
    evalset = kb.load_eval(path, matcher.kb)
    report = run_eval(matcher, evalset, path.name)
    return report, compare.snapshot(report, evalset, label)


def _baseline(ref: str, knowledge_dir: Path, eval_file: Path | None) -> Any:
    """The snapshot to compare with: a file saved with --save, or the knowledge at a git ref."""
    from faqbot import compare

    try:
        if Path(ref).is_file():
            return compare.load_snapshot(Path(ref))
        with compare.knowledge_at(ref, knowledge_dir) as old_dir:
            try:
                return _evaluate(old_dir, eval_file, ref)[1]
            except kb.InvalidKnowledgeBase as error:
                first = str(error.problems[0]).replace(f"{old_dir.parent}/", f"{ref}:")
                raise CommandError(
                    f"the knowledge base at {ref} does not load with the current code "
                    f"({len(error.problems)} problem(s), the first: {first})."
                ) from None
    except compare.CompareError as error:
        raise CommandError(str(error)) from None


@command(
    KNOWLEDGE_DIR,
    arg("--days", default="30", metavar="N", help="read the last N days of the log (30)"),
    arg("--out", type=Path, default=None, metavar="DIR", help="write one YAML file per item file"),
    arg(
        "--apply",
        action="store_true",
        help="write the new alternates into the item files, then validate and eval",
    ),
)
def suggest(args: argparse.Namespace) -> int:
    """Proposals for the knowledge base from the question log: alternates, gaps, confusions.

    Reads the question log in FAQBOT_DATA_DIR (its stored, redacted texts only) and proposes,
    per item file, as YAML to paste: new alternates (questions answered or resolved under
    "Mente du ...?", no thumbs down, not close to the item's phrasings), knowledge gaps (similar
    unanswered questions as a draft item, with the closest items) and confusions (items people
    keep choosing between). Read-only unless --apply: that writes the alternates into the item
    files (new lines after each item's last alternate; nothing else in a file changes), runs
    validate (putting the files back if it fails) and eval, and shows what changed. Then send
    /genindlaes to the bot.
    Example: faqbot suggest --days 7
    Example: faqbot suggest --out forslag/
    Example: faqbot suggest --apply
    """
    import asyncio

    from faqbot import suggest as suggesting
    from faqbot.matcher import Matcher
    from faqbot.questionlog import QuestionLogError

    days = _report_days(args.days)
    settings = settings_from(args)
    knowledge = load_knowledge(settings)
    eval_path = settings.knowledge_dir / "eval.yaml"
    eval_questions = (
        [q.question for q in kb.load_eval(eval_path, knowledge).questions]
        if eval_path.is_file()
        else []
    )
    # dev.yaml's questions are indexed already: never proposed as alternates
    eval_questions += [q.text for q in knowledge.asked if q.kind == "question"]
    matcher = Matcher(knowledge)
    try:
        found = asyncio.run(
            suggesting.read_suggestions(
                settings.database,
                matcher,
                days=days,
                keep_text=settings.keep_text,
                eval_questions=eval_questions,
            )
        )
    except (suggesting.SuggestError, QuestionLogError) as error:
        raise CommandError(str(error)) from None
    files = suggesting.suggestion_files(found, knowledge)
    for line in suggesting.summary_lines(found):
        print(line)
    if args.out is not None:
        _write_suggestions(args.out, files)
    elif not args.apply:
        for text in files.values():
            print()
            print(text, end="")
    if args.apply:
        if (found.gaps or found.confusions) and args.out is None:
            print(
                "Videnshuller og forvekslinger skal en redaktør tage sig af: se dem med "
                "faqbot suggest uden --apply."
            )
        return _apply_suggestions(settings.knowledge_dir, knowledge, found)
    return 0


def _write_suggestions(directory: Path, files: dict[str, str]) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for target, text in files.items():
            path = directory / Path(target).name
            path.write_text(text, encoding="utf-8")
            print(f"Skrev {path} (forslag til {target}).")
    except OSError as error:
        raise CommandError(f"cannot write to {directory}: {error.strerror or error}.") from None


def _apply_suggestions(knowledge_dir: Path, knowledge: kb.KnowledgeBase, found: Any) -> int:
    """suggest --apply: insert, validate (or put the files back), eval before and after."""
    from faqbot import compare
    from faqbot import suggest as suggesting

    if not found.alternates:
        print("Ingen nye formuleringer at indsætte.")
        return 0
    has_eval = (knowledge_dir / "eval.yaml").is_file()
    before = _evaluate(knowledge_dir, None, "før")[1] if has_eval else None
    try:
        applied = suggesting.apply_alternates(knowledge, found.alternates)
    except suggesting.SuggestError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot write the item files: {error.strerror or error}.") from None
    problems = kb.validate(knowledge_dir)
    if problems:
        suggesting.restore(applied)
        for problem in problems:
            print(problem)
        raise CommandError(
            "with the new alternates the knowledge base has "
            f"{len(problems)} problem(s), so the item files were put back as they were."
        )
    for entry in applied:
        items = ", ".join(dict.fromkeys(a.item_id for a in entry.added))
        shown = (
            entry.path.relative_to(knowledge_dir)
            if entry.path.is_relative_to(knowledge_dir)
            else entry.path
        )
        print(f"Indsatte {len(entry.added)} i {shown}: {items}.")
    print("faqbot validate: OK.")
    status = 0
    if before is not None:
        report, after = _evaluate(knowledge_dir, None, "efter")
        for line in compare.comparison_lines(compare.compare(before, after)):
            print(line)
        failed = report.failed_floors()
        print("Kravene er IKKE nået: " + ", ".join(failed) if failed else "Alle krav er nået.")
        status = 1 if failed else 0
    print("Send /genindlaes til botten, så den bruger de nye formuleringer.")
    return status


def build_parser() -> argparse.ArgumentParser:
    """The parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="faqbot",
        description="Answers staff's questions about peer colleagues, citing the guides.",
    )
    parser.add_argument("--version", action="version", version=f"faqbot {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, spec in COMMANDS.items():
        doc = (spec.function.__doc__ or "").strip()
        summary = doc.splitlines()[0] if doc else name
        sub = subparsers.add_parser(
            name,
            help=summary,
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        for names, options in spec.arguments:
            sub.add_argument(*names, **options)
        sub.set_defaults(function=spec.function)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; turn the core's named exceptions into one ``Error: ...`` line."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.function(args)
        return status
    except kb.InvalidKnowledgeBase as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(
            f"Error: the knowledge base is invalid ({len(error.problems)} problem(s)); "
            "fix it and run 'faqbot validate'.",
            file=sys.stderr,
        )
        return 1
    except (SettingsError, CommandError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``faqbot eval | head``): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
