"""Settings come from an injectable mapping; every bad value fails with one precise sentence."""

from datetime import time
from pathlib import Path

import pytest

from faqbot.settings import (
    SPECS,
    TELEGRAM_DEFAULT_BASE_URL,
    DatabaseUrl,
    KeepText,
    SettingsError,
    load_settings,
    settings_table,
)

DATABASE_URL_FORMS = (
    "sqlite:///RELATIVE/PATH, sqlite:////ABSOLUTE/PATH or postgre"
    "sql://USER:PASSWORD@HOST:PORT/DATABASE"
)


def test_defaults_from_an_empty_mapping() -> None:
    settings = load_settings({})
    assert settings.telegram_token is None
    assert settings.data_dir == Path("data")
    assert settings.knowledge_dir.name == "knowledge"
    assert settings.admin_ids == frozenset()
    assert settings.telegram_base_url == TELEGRAM_DEFAULT_BASE_URL
    assert settings.keep_text is KeepText.UNANSWERED
    assert settings.retention_days == 90
    assert settings.rate_limit_per_second == 30.0
    assert settings.database_path == Path("data") / "faqbot.sqlite3"
    assert settings.proxy_url is None  # httpx then reads HTTPS_PROXY and friends
    assert (settings.request_timeout, settings.send_retries) == (5.0, 3)
    assert (settings.replay_max_age_minutes, settings.shutdown_seconds) == (10, 8.0)


def test_every_value_is_read_from_the_mapping(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": " 123:abc ",
            "FAQBOT_DATA_DIR": str(tmp_path / "d"),
            "FAQBOT_KNOWLEDGE_DIR": str(tmp_path / "k"),
            "FAQBOT_ADMIN_IDS": "12, 34,,56",
            "FAQBOT_TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
            "FAQBOT_SECRET": "s3cret",
            "FAQBOT_KEEP_TEXT": "ALL",
            "FAQBOT_RETENTION_DAYS": "30",
            "FAQBOT_RATE_LIMIT_PER_SECOND": "1000",
            "FAQBOT_RATE_LIMIT_RETRIES": "0",
            "FAQBOT_WEBHOOK_SECRET": "hook",
            "FAQBOT_LOG_LEVEL": "debug",
            "FAQBOT_PROXY_URL": "socks5://proxy.example.org:1080",
            "FAQBOT_REQUEST_TIMEOUT": "2.5",
            "FAQBOT_SEND_RETRIES": "0",
            "FAQBOT_REPLAY_MAX_AGE_MINUTES": "30",
            "FAQBOT_SHUTDOWN_SECONDS": "25",
        }
    )
    assert settings.telegram_token == "123:abc"
    assert settings.data_dir == tmp_path / "d"
    assert settings.knowledge_dir == tmp_path / "k"
    assert settings.admin_ids == frozenset({12, 34, 56})
    assert settings.telegram_base_url == "http://127.0.0.1:8081/bot"
    assert settings.secret == "s3cret"
    assert settings.keep_text is KeepText.ALL
    assert settings.retention_days == 30
    assert settings.rate_limit_per_second == 1000.0
    assert settings.rate_limit_retries == 0
    assert settings.webhook_secret == "hook"
    assert settings.log_level == "DEBUG"
    assert settings.proxy_url == "socks5://proxy.example.org:1080"
    assert (settings.request_timeout, settings.send_retries) == (2.5, 0)
    assert (settings.replay_max_age_minutes, settings.shutdown_seconds) == (30, 25.0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "TELEGRAM_BOT_TOKEN",
            "  ",
            "TELEGRAM_BOT_TOKEN is set but empty; unset it or give a value.",
        ),
        ("FAQBOT_DATA_DIR", "", "FAQBOT_DATA_DIR is set but empty; unset it or give a value."),
        (
            "FAQBOT_KNOWLEDGE_DIR",
            " ",
            "FAQBOT_KNOWLEDGE_DIR is set but empty; unset it or give a value.",
        ),
        (
            "FAQBOT_ADMIN_IDS",
            "12,anna",
            "FAQBOT_ADMIN_IDS must be comma-separated Telegram user ids (whole numbers), "
            "but contains 'anna'.",
        ),
        (
            "FAQBOT_TELEGRAM_BASE_URL",
            "api.telegram.org",
            "FAQBOT_TELEGRAM_BASE_URL must be an http:// or https:// URL, got 'api.telegram.org'.",
        ),
        ("FAQBOT_SECRET", "", "FAQBOT_SECRET is set but empty; unset it or give a value."),
        (
            "FAQBOT_KEEP_TEXT",
            "some",
            "FAQBOT_KEEP_TEXT must be one of none, unanswered, all; got 'some'.",
        ),
        (
            "FAQBOT_RETENTION_DAYS",
            "ninety",
            "FAQBOT_RETENTION_DAYS must be a whole number of at least 1, got 'ninety'.",
        ),
        (
            "FAQBOT_RETENTION_DAYS",
            "0",
            "FAQBOT_RETENTION_DAYS must be a whole number of at least 1, got '0'.",
        ),
        (
            "FAQBOT_RATE_LIMIT_PER_SECOND",
            "-1",
            "FAQBOT_RATE_LIMIT_PER_SECOND must be a number greater than 0, got '-1'.",
        ),
        (
            "FAQBOT_RATE_LIMIT_PER_SECOND",
            "fast",
            "FAQBOT_RATE_LIMIT_PER_SECOND must be a number greater than 0, got 'fast'.",
        ),
        (
            "FAQBOT_RATE_LIMIT_RETRIES",
            "-2",
            "FAQBOT_RATE_LIMIT_RETRIES must be a whole number of 0 or more, got '-2'.",
        ),
        (
            "FAQBOT_WEBHOOK_SECRET",
            " ",
            "FAQBOT_WEBHOOK_SECRET is set but empty; unset it or give a value.",
        ),
        (
            "FAQBOT_LOG_LEVEL",
            "loud",
            "FAQBOT_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL; got 'loud'.",
        ),
        (
            "FAQBOT_DIGEST_TIME",
            "25:00",
            "FAQBOT_DIGEST_TIME must be a time of day as HH:MM (e.g. 08:00) or off; got '25:00'.",
        ),
        (
            "FAQBOT_DIGEST_TIME",
            "8",
            "FAQBOT_DIGEST_TIME must be a time of day as HH:MM (e.g. 08:00) or off; got '8'.",
        ),
        (
            "FAQBOT_DIGEST_TIME",
            "０８:００",
            "FAQBOT_DIGEST_TIME must be a time of day as HH:MM (e.g. 08:00) or off; "
            "got '０８:００'.",
        ),
        (
            "FAQBOT_PROXY_URL",
            "proxy.example.org:3128",
            "FAQBOT_PROXY_URL must be a proxy URL such as http://proxy.example.org:3128 "
            "(schemes: http, https, socks5, socks5h, socks4), got 'proxy.example.org:3128'.",
        ),
        (
            "FAQBOT_PROXY_URL",
            "ftp://proxy:21",
            "FAQBOT_PROXY_URL must be a proxy URL such as http://proxy.example.org:3128 "
            "(schemes: http, https, socks5, socks5h, socks4), got 'ftp://proxy:21'.",
        ),
        (
            "FAQBOT_REQUEST_TIMEOUT",
            "0",
            "FAQBOT_REQUEST_TIMEOUT must be a number greater than 0, got '0'.",
        ),
        (
            "FAQBOT_REQUEST_TIMEOUT",
            "600",
            "FAQBOT_REQUEST_TIMEOUT must be at most 120 seconds, got '600'.",
        ),
        (
            "FAQBOT_SEND_RETRIES",
            "many",
            "FAQBOT_SEND_RETRIES must be a whole number of 0 or more, got 'many'.",
        ),
        (
            "FAQBOT_REPLAY_MAX_AGE_MINUTES",
            "0",
            "FAQBOT_REPLAY_MAX_AGE_MINUTES must be a whole number of at least 1, got '0'.",
        ),
        (
            "FAQBOT_SHUTDOWN_SECONDS",
            "-5",
            "FAQBOT_SHUTDOWN_SECONDS must be a number greater than 0, got '-5'.",
        ),
        (
            "FAQBOT_SHUTDOWN_SECONDS",
            "3600",
            "FAQBOT_SHUTDOWN_SECONDS must be at most 300 seconds, got '3600'.",
        ),
        (
            "FAQBOT_DATABASE_URL",
            "mysql://faqbot:hemmeligt@db/faqbot",
            "FAQBOT_DATABASE_URL is neither a sqlite:// nor a postgresql:// URL; expected "
            f"{DATABASE_URL_FORMS}, got 'mysql://faqbot:***@db/faqbot'.",
        ),
        (
            "FAQBOT_DATABASE_URL",
            "postgresql://faqbot:hemmeligt@db:5432",
            "FAQBOT_DATABASE_URL names no database; expected "
            f"{DATABASE_URL_FORMS}, got 'postgresql://faqbot:***@db:5432'.",
        ),
        (
            "FAQBOT_DATABASE_URL",
            "postgresql://faqbot:hemmeligt@db:port/faqbot",
            "FAQBOT_DATABASE_URL has a malformed host or port; expected "
            f"{DATABASE_URL_FORMS}, got 'postgresql://faqbot:***@db:port/faqbot'.",
        ),
        (
            "FAQBOT_DATABASE_URL",
            "sqlite://",
            f"FAQBOT_DATABASE_URL names no SQLite file; expected {DATABASE_URL_FORMS}, "
            "got 'sqlite://'.",
        ),
        (
            "FAQBOT_DATABASE_URL",
            "/var/lib/faqbot/faqbot.sqlite3",
            "FAQBOT_DATABASE_URL is neither a sqlite:// nor a postgresql:// URL; expected "
            f"{DATABASE_URL_FORMS}, got '/var/lib/faqbot/faqbot.sqlite3'.",
        ),
    ],
)
def test_malformed_values_fail_with_one_sentence(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value})
    assert str(caught.value) == message


def test_every_setting_has_an_error_case_above() -> None:
    """Keeps the parametrised table above in step with SPECS when a setting is added."""
    tested = {
        "TELEGRAM_BOT_TOKEN",
        "FAQBOT_DATA_DIR",
        "FAQBOT_KNOWLEDGE_DIR",
        "FAQBOT_ADMIN_IDS",
        "FAQBOT_TELEGRAM_BASE_URL",
        "FAQBOT_SECRET",
        "FAQBOT_KEEP_TEXT",
        "FAQBOT_RETENTION_DAYS",
        "FAQBOT_RATE_LIMIT_PER_SECOND",
        "FAQBOT_RATE_LIMIT_RETRIES",
        "FAQBOT_WEBHOOK_SECRET",
        "FAQBOT_LOG_LEVEL",
        "FAQBOT_DIGEST_TIME",
        "FAQBOT_PROXY_URL",
        "FAQBOT_REQUEST_TIMEOUT",
        "FAQBOT_SEND_RETRIES",
        "FAQBOT_REPLAY_MAX_AGE_MINUTES",
        "FAQBOT_SHUTDOWN_SECONDS",
        "FAQBOT_DATABASE_URL",
    }
    assert {spec.env for spec in SPECS} == tested


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, time(8, 0)),
        ("07:30", time(7, 30)),
        (" 7:05 ", time(7, 5)),
        ("23.59", time(23, 59)),
        ("off", None),
        ("OFF", None),
        ("fra", None),
    ],
)
def test_digest_time_or_off(raw: str | None, expected: time | None) -> None:
    settings = load_settings({} if raw is None else {"FAQBOT_DIGEST_TIME": raw})
    assert settings.digest_time == expected


def test_readme_documents_every_setting() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme


@pytest.mark.parametrize(
    ("raw", "kind", "path"),
    [
        ("sqlite:///data/log.sqlite3", "sqlite", Path("data/log.sqlite3")),
        ("sqlite:////var/lib/faqbot/log.sqlite3", "sqlite", Path("/var/lib/faqbot/log.sqlite3")),
        ("postgresql://faqbot:pw@db.example.org:5433/faqbot", "postgresql", None),
        ("postgres://faqbot@/faqbot?host=/run/postgresql", "postgresql", None),
    ],
)
def test_database_url(raw: str, kind: str, path: Path | None) -> None:
    database = load_settings({"FAQBOT_DATABASE_URL": raw, "FAQBOT_DATA_DIR": "/x"}).database
    assert (database.kind, database.path) == (kind, path)
    assert database.url == ("" if path else raw)


def test_the_default_database_is_the_file_in_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings({"FAQBOT_DATA_DIR": str(tmp_path)})
    assert settings.database == DatabaseUrl.sqlite(tmp_path / "faqbot.sqlite3")


def test_a_database_password_is_never_shown() -> None:
    url = "postgresql://faqbot:s3cr3t-pw@db/faqbot?sslmode=require&password=other-pw"
    database = load_settings({"FAQBOT_DATABASE_URL": url}).database
    shown = (str(database), repr(database), database.display, f"{database}")
    for text in shown:
        assert "s3cr3t-pw" not in text and "other-pw" not in text
    assert database.display == "postgresql://faqbot:***@db/faqbot?sslmode=require&password=***"
