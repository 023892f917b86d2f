"""Where things live and which settings apply — one precedence, applied in one place.

Every setting is looked up by :func:`resolve`, highest first: the command-line option >
``SMS_AUDIT_<NAME>`` environment variable > ``<name> = …`` in ``config.toml`` in the config directory >
the built-in default. Nothing depends on the working directory (cron runs in ``$HOME``), and nothing
here writes files.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from sms_audit.errors import UsageError

APP_NAME = "sms-audit"
ENV_DB = "SMS_AUDIT_DB"
ENV_CONFIG_DIR = "SMS_AUDIT_CONFIG_DIR"
ENV_REGION = "SMS_AUDIT_REGION"
ENV_FORMAT = "SMS_AUDIT_FORMAT"
ENV_BACKUP_PASSWORD = "SMS_AUDIT_BACKUP_PASSWORD"
ENV_POLICY = "SMS_AUDIT_POLICY"
ENV_GRACE = "SMS_AUDIT_GRACE"
ENV_TIMEZONE = "SMS_AUDIT_TIMEZONE"

#: The settings ``config.toml`` may hold; each also has an ``SMS_AUDIT_<NAME>`` variable and an option.
SETTINGS = ("db", "region", "policy", "grace", "format", "timezone")


def config_dir() -> Path:
    """``$SMS_AUDIT_CONFIG_DIR``, else the platform config dir (``~/.config/sms-audit`` on Linux)."""
    override = os.environ.get(ENV_CONFIG_DIR)
    return Path(override).expanduser() if override else platformdirs.user_config_path(APP_NAME)


def rules_dir() -> Path:
    """User classifier rules: every ``*.toml`` in ``<config dir>/rules``."""
    return config_dir() / "rules"


def config_file() -> Path:
    return config_dir() / "config.toml"


@dataclass(frozen=True, slots=True)
class Settings:
    """Values from ``config.toml``; every field optional."""

    db: str | None = None
    region: str | None = None
    policy: str | None = None
    grace: str | None = None
    format: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Resolved:
    """A setting's value and where it came from (``--grace``, ``$SMS_AUDIT_GRACE``, ``config.toml``,
    ``default``): reports say which, so a value from the config file is never called a flag."""

    value: str | None
    source: str


def load_settings() -> Settings:
    """Read ``config.toml``; a missing file is fine, a broken one is a usage error."""
    path = config_file()
    try:
        with open(path, "rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
    except FileNotFoundError:
        return Settings()
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read config: {exc}", path=str(path)) from None
    unknown = sorted(set(data) - set(SETTINGS))
    if unknown:
        raise UsageError(
            f"unknown setting {unknown[0]!r}", path=str(path), hint="known settings: " + ", ".join(SETTINGS)
        )
    return Settings(**{k: str(v) for k, v in data.items()})


def resolve(name: str, option: str | None, settings: Settings, default: str | None = None) -> Resolved:
    """The one precedence: option > ``SMS_AUDIT_<NAME>`` > ``config.toml`` > ``default``."""
    if option not in (None, ""):
        return Resolved(option, f"--{name}")
    env = f"SMS_AUDIT_{name.upper()}"
    if os.environ.get(env):
        return Resolved(os.environ[env], f"${env}")
    configured = getattr(settings, name)
    if configured not in (None, ""):
        return Resolved(configured, "config.toml")
    return Resolved(default, "default")


def source_text(source: str) -> str:
    """Where a setting came from, for an error: ``$SMS_AUDIT_GRACE``, or config.toml's full path."""
    return str(config_file()) if source == "config.toml" else source


def default_db_path() -> Path:
    return platformdirs.user_data_path(APP_NAME) / "archive.sqlite"


def resolve_db_path(flag: str | None, settings: Settings) -> Path:
    """--db > $SMS_AUDIT_DB > config ``db`` > ``<user data dir>/archive.sqlite``."""
    chosen = resolve("db", flag, settings).value
    return Path(chosen).expanduser() if chosen else default_db_path()


def resolve_region(flag: str | None, settings: Settings) -> Resolved:
    """--region > $SMS_AUDIT_REGION > config ``region`` > None (inferred from the archive)."""
    chosen = resolve("region", flag, settings)
    if chosen.value is None:
        return chosen
    from sms_audit.normalize import valid_region  # phonenumbers: only when a region is given

    try:
        return Resolved(valid_region(chosen.value), chosen.source)
    except ValueError:
        where = "" if chosen.source == "--region" else f" (from {source_text(chosen.source)})"
        raise UsageError(
            f"unknown region {chosen.value!r}{where}",
            hint="use an ISO 3166 code such as CN, US or GB (e.g. --region CN)",
        ) from None
