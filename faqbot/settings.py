"""Every setting faqbot reads, from one injectable environ mapping.

Modelled on starlette's config: ``load_settings(environ)`` takes any mapping, so tests pass a
dict, and a missing or malformed value fails at start with one sentence naming the variable
and what it expected (``SettingsError``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, urlsplit

TELEGRAM_DEFAULT_BASE_URL = "https://api.telegram.org/bot"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one sentence for the user."""


class KeepText(StrEnum):
    """Which question texts the question log keeps (always redacted)."""

    NONE = "none"
    UNANSWERED = "unanswered"
    ALL = "all"


DatabaseKind = Literal["sqlite", "postgresql"]


@dataclass(frozen=True)
class DatabaseUrl:
    """Where the question log lives: a SQLite file or a PostgreSQL database.

    ``url`` is the libpq connection URL (with its password, if any); it never appears in
    ``str`` or ``repr``, which show ``display`` (the password masked), so a log line or an
    error message cannot leak it.
    """

    kind: DatabaseKind
    path: Path | None = None
    """The SQLite file (None for PostgreSQL)."""
    url: str = field(default="", repr=False)
    """The PostgreSQL connection URL, password included (empty for SQLite)."""

    @classmethod
    def sqlite(cls, path: Path) -> DatabaseUrl:
        return cls("sqlite", path=Path(path))

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "sqlite"

    @property
    def display(self) -> str:
        """The location for messages and logs: the file, or the URL with the password masked."""
        if self.path is not None:
            return str(self.path)
        return _masked(self.url)

    def __str__(self) -> str:
        return self.display

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.display!r})"


def _masked(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) as ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a malformed URL)"
    if "@" not in parts.netloc and "password=" not in parts.query.lower():
        return url
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment).geturl()


def _default_knowledge_dir() -> Path:
    """The repository's ``knowledge/`` next to the package, else ``./knowledge``."""
    beside_package = Path(__file__).resolve().parent.parent / "knowledge"
    return beside_package if beside_package.is_dir() else Path("knowledge")


@dataclass(frozen=True)
class Settings:
    """All settings, validated. Build it with ``load_settings``."""

    telegram_token: str | None = None
    data_dir: Path = Path("data")
    knowledge_dir: Path = field(default_factory=_default_knowledge_dir)
    admin_ids: frozenset[int] = frozenset()
    telegram_base_url: str = TELEGRAM_DEFAULT_BASE_URL
    secret: str | None = None
    keep_text: KeepText = KeepText.UNANSWERED
    retention_days: int = 90
    rate_limit_per_second: float = 30.0
    rate_limit_retries: int = 5
    webhook_secret: str | None = None
    log_level: str = "INFO"
    digest_time: time | None = time(8, 0)
    """When on Mondays (Danish time) leaders get the weekly digest; None switches it off."""
    proxy_url: str | None = None
    request_timeout: float = 5.0
    send_retries: int = 3
    replay_max_age_minutes: int = 10
    shutdown_seconds: float = 8.0
    database_url: DatabaseUrl | None = None
    """``FAQBOT_DATABASE_URL``; None means the SQLite file in the data directory."""

    @property
    def database_path(self) -> Path:
        """The default SQLite question log in the data directory."""
        return self.data_dir / "faqbot.sqlite3"

    @property
    def database(self) -> DatabaseUrl:
        """The question log's database: ``FAQBOT_DATABASE_URL``, else the SQLite file."""
        return self.database_url or DatabaseUrl.sqlite(self.database_path)


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _text(name: str, raw: str) -> str:
    value = raw.strip()
    if not value:
        raise SettingsError(f"{name} is set but empty; unset it or give a value.")
    return value


def _path(name: str, raw: str) -> Path:
    return Path(_text(name, raw)).expanduser()


def _admin_ids(name: str, raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            ids.add(int(part))
        except ValueError:
            raise SettingsError(
                f"{name} must be comma-separated Telegram user ids (whole numbers), "
                f"but contains {part!r}."
            ) from None
    return frozenset(ids)


def _url(name: str, raw: str) -> str:
    value = _text(name, raw)
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http:// or https:// URL, got {value!r}.")
    return value


def _keep_text(name: str, raw: str) -> KeepText:
    try:
        return KeepText(raw.strip().lower())
    except ValueError:
        raise SettingsError(f"{name} must be one of none, unanswered, all; got {raw!r}.") from None


def _int_at_least(minimum: int, wording: str) -> Callable[[str, str], int]:
    """A parser for whole numbers of at least ``minimum`` (``wording`` names the range)."""

    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise SettingsError(f"{name} must be a whole number {wording}, got {raw!r}.")
        return value

    return parse


_positive_int = _int_at_least(1, "of at least 1")
_non_negative_int = _int_at_least(0, "of 0 or more")


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a number greater than 0, got {raw!r}.") from None
    if not value > 0 or value == float("inf"):
        raise SettingsError(f"{name} must be a number greater than 0, got {raw!r}.")
    return value


PROXY_SCHEMES = ("http", "https", "socks5", "socks5h", "socks4")


def _proxy_url(name: str, raw: str) -> str:
    value = _text(name, raw)
    scheme, separator, rest = value.partition("://")
    if not separator or scheme.lower() not in PROXY_SCHEMES or not rest.strip("/"):
        raise SettingsError(
            f"{name} must be a proxy URL such as http://proxy.example.org:3128 "
            f"(schemes: {', '.join(PROXY_SCHEMES)}), got {value!r}."
        )
    return value


def _seconds_up_to(limit: float) -> Callable[[str, str], float]:
    """A parser for a number of seconds above 0 and at most ``limit``."""

    def parse(name: str, raw: str) -> float:
        value = _positive_float(name, raw)
        if value > limit:
            raise SettingsError(f"{name} must be at most {limit:g} seconds, got {raw!r}.")
        return value

    return parse


def _log_level(name: str, raw: str) -> str:
    value = raw.strip().upper()
    if value not in _LOG_LEVELS:
        raise SettingsError(f"{name} must be one of {', '.join(_LOG_LEVELS)}; got {raw!r}.")
    return value


_OFF = ("off", "fra", "no", "nej", "false", "0")


def _time_or_off(name: str, raw: str) -> time | None:
    value = raw.strip().lower()
    if value in _OFF:
        return None
    match = re.fullmatch(r"([01]?[0-9]|2[0-3])[:.]([0-5][0-9])", value)
    if match:
        return time(int(match[1]), int(match[2]))
    raise SettingsError(f"{name} must be a time of day as HH:MM (e.g. 08:00) or off; got {raw!r}.")


_DATABASE_URL_FORMS = (
    "sqlite:///RELATIVE/PATH, sqlite:////ABSOLUTE/PATH or "
    "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
)


def _database_url(name: str, raw: str) -> DatabaseUrl:
    value = _text(name, raw)
    scheme = value.partition("://")[0].lower() if "://" in value else ""
    problem = ""
    if scheme == "sqlite":
        path = value[len("sqlite:///") :] if value.lower().startswith("sqlite:///") else ""
        path = path.split("?", 1)[0]
        if path and path != ":memory:" and not path.endswith("/"):
            return DatabaseUrl.sqlite(Path(path).expanduser())
        problem = "names no SQLite file"
    elif scheme in ("postgresql", "postgres"):
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (a malformed port raises here)
        except ValueError:
            problem = "has a malformed host or port"
        else:
            if not parts.hostname and "host=" not in parts.query:
                problem = "names no host"
            elif not parts.path.strip("/"):
                problem = "names no database"
            else:
                return DatabaseUrl("postgresql", url=value)
    else:
        problem = "is neither a sqlite:// nor a postgresql:// URL"
    raise SettingsError(
        f"{name} {problem}; expected {_DATABASE_URL_FORMS}, got {_masked(value)!r}."
    )


@dataclass(frozen=True)
class _Spec:
    env: str
    attribute: str
    parse: Callable[[str, str], object]
    description: str


SPECS: tuple[_Spec, ...] = (
    _Spec(
        "TELEGRAM_BOT_TOKEN",
        "telegram_token",
        _text,
        "Bot token from @BotFather. Without it `make run` starts the terminal chat.",
    ),
    _Spec(
        "FAQBOT_DATA_DIR",
        "data_dir",
        _path,
        "Directory for the SQLite question log and the generated secret. Default `./data`.",
    ),
    _Spec(
        "FAQBOT_DATABASE_URL",
        "database_url",
        _database_url,
        "Where the question log and the inbox live: `sqlite:///PATH` or "
        "`postgresql://USER:PASSWORD@HOST/DATABASE` (needed for several replicas). Default: "
        "`faqbot.sqlite3` in `FAQBOT_DATA_DIR`.",
    ),
    _Spec(
        "FAQBOT_KNOWLEDGE_DIR",
        "knowledge_dir",
        _path,
        "Directory with the knowledge base YAML. Default: the repository's `knowledge/`.",
    ),
    _Spec(
        "FAQBOT_ADMIN_IDS",
        "admin_ids",
        _admin_ids,
        "Comma-separated Telegram user ids of leaders allowed the leaders' commands.",
    ),
    _Spec(
        "FAQBOT_TELEGRAM_BASE_URL",
        "telegram_base_url",
        _url,
        "Bot API base URL (a self-hosted Bot API server). Default Telegram's own.",
    ),
    _Spec(
        "FAQBOT_SECRET",
        "secret",
        _text,
        "Key for pseudonymous user keys (HMAC-SHA256). Generated into the data dir if unset.",
    ),
    _Spec(
        "FAQBOT_KEEP_TEXT",
        "keep_text",
        _keep_text,
        "Which question texts are stored (redacted): `none`, `unanswered` (default), `all`.",
    ),
    _Spec(
        "FAQBOT_RETENTION_DAYS",
        "retention_days",
        _positive_int,
        "Days before stored question texts are deleted. Default 90.",
    ),
    _Spec(
        "FAQBOT_RATE_LIMIT_PER_SECOND",
        "rate_limit_per_second",
        _positive_float,
        "Messages per second the bot sends at most (Telegram allows about 30). Default 30.",
    ),
    _Spec(
        "FAQBOT_RATE_LIMIT_RETRIES",
        "rate_limit_retries",
        _non_negative_int,
        "How often a request is retried after Telegram's flood control (429). Default 5.",
    ),
    _Spec(
        "FAQBOT_WEBHOOK_SECRET",
        "webhook_secret",
        _text,
        "Secret token Telegram sends with webhook updates; required in webhook mode.",
    ),
    _Spec(
        "FAQBOT_LOG_LEVEL",
        "log_level",
        _log_level,
        "Logging level: DEBUG, INFO (default), WARNING, ERROR.",
    ),
    _Spec(
        "FAQBOT_DIGEST_TIME",
        "digest_time",
        _time_or_off,
        "When leaders get last week's report every Monday (HH:MM, Danish time), or `off`. "
        "Default 08:00.",
    ),
    _Spec(
        "FAQBOT_PROXY_URL",
        "proxy_url",
        _proxy_url,
        "Proxy for the Bot API (http://, https:// or socks5://). Default: `HTTPS_PROXY`, "
        "`HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` from the environment.",
    ),
    _Spec(
        "FAQBOT_REQUEST_TIMEOUT",
        "request_timeout",
        _seconds_up_to(120),
        "Seconds to connect, send and wait for an answer per Bot API request (uploads get "
        "four times as long). Default 5.",
    ),
    _Spec(
        "FAQBOT_SEND_RETRIES",
        "send_retries",
        _non_negative_int,
        "How often a request is retried after a transient failure (5xx, dropped connection, "
        "timeout), with backoff. Default 3.",
    ),
    _Spec(
        "FAQBOT_REPLAY_MAX_AGE_MINUTES",
        "replay_max_age_minutes",
        _positive_int,
        "Unanswered messages younger than this are answered after a restart; older ones in a "
        "private chat get a short apology instead. Default 10.",
    ),
    _Spec(
        "FAQBOT_SHUTDOWN_SECONDS",
        "shutdown_seconds",
        _seconds_up_to(300),
        "On SIGTERM the bot exits within this many seconds; unfinished updates are answered "
        "after the next start. Default 8 (docker stop waits 10).",
    ),
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting from ``environ`` (default ``os.environ``).

    Raises ``SettingsError`` with one sentence for the first malformed value.
    Unset variables keep their defaults.
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for spec in SPECS:
        raw = env.get(spec.env)
        if raw is None:
            continue
        values[spec.attribute] = spec.parse(spec.env, raw)
    return Settings(**values)  # type: ignore[arg-type]


def settings_table() -> str:
    """The settings as a Markdown table, for the README (kept in step by a test)."""
    rows = ["| variable | meaning |", "| --- | --- |"]
    rows += [f"| `{spec.env}` | {spec.description} |" for spec in SPECS]
    return "\n".join(rows)
