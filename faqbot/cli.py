"""The ``faqbot`` command: one function per subcommand, each a thin layer over the core.

Each subcommand's docstring is its help text, with an example. The core raises named
exceptions; ``main`` turns them into one ``Error: ...`` line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from faqbot import __version__, kb
from faqbot.settings import Settings, SettingsError, load_settings


class CommandError(Exception):
    """A subcommand failed in a way the user can fix; the message is one sentence."""


@dataclass(frozen=True)
class _Command:
    function: Callable[[argparse.Namespace], int]
    arguments: tuple[tuple[tuple[str, ...], dict], ...]


COMMANDS: dict[str, _Command] = {}


def arg(*names: str, **options: object) -> tuple[tuple[str, ...], dict]:
    """One argparse argument, as ``add_argument`` takes it."""
    return names, options


def command(*arguments: tuple[tuple[str, ...], dict]) -> Callable:
    """Register a subcommand named after the function; its docstring is the help text."""

    def register(function: Callable[[argparse.Namespace], int]) -> Callable:
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


@command(KNOWLEDGE_DIR)
def validate(args: argparse.Namespace) -> int:
    """Check the whole knowledge base and print a summary, or every problem as path:line: message.

    Example: faqbot validate --knowledge-dir knowledge/
    """
    settings = settings_from(args)
    problems = kb.validate(settings.knowledge_dir)
    if problems:
        for problem in problems:
            print(problem)
        print(f"Error: the knowledge base has {len(problems)} problem(s).", file=sys.stderr)
        return 1
    knowledge = load_knowledge(settings)
    alternates = sum(len(item.alternates) for item in knowledge.items)
    print(
        f"OK: {len(knowledge.items)} items in {len(knowledge.categories)} categories, "
        f"{len(knowledge.sources)} sources, {alternates} alternates, "
        f"{len(knowledge.synonyms)} synonym groups."
    )
    return 0


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
        return args.function(args)
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
