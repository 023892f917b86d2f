"""Where things live and which settings apply.

Precedence, highest first: command-line flag > ``SMS_AUDIT_*`` environment variable >
``config.toml`` in the config directory > built-in default. Nothing depends on the working
directory (cron runs in ``$HOME``), and nothing here writes files.
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

_KNOWN_KEYS = {"db", "region", "policy", "grace", "format", "timezone"}


def config_dir() -> Path:
    """``$SMS_AUDIT_CONFIG_DIR``, else the platform config dir (``~/.config/sms-audit`` on Linux)."""
    override = os.environ.get(ENV_CONFIG_DIR)
    return Path(override).expanduser() if override else platformdirs.user_config_path(APP_NAME)


def rules_dir() -> Path:
    """User classifier rules: every ``*.toml`` in ``<config dir>/rules``."""
    return config_dir() / "rules"


@dataclass(frozen=True, slots=True)
class Settings:
    """Values from ``config.toml``; every field optional."""

    db: str | None = None
    region: str | None = None
    policy: str | None = None
    grace: str | None = None
    format: str | None = None
    timezone: str | None = None


def load_settings() -> Settings:
    """Read ``config.toml``; a missing file is fine, a broken one is a usage error."""
    path = config_dir() / "config.toml"
    try:
        with open(path, "rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
    except FileNotFoundError:
        return Settings()
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read config: {exc}", path=str(path)) from None
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise UsageError(
            f"unknown setting {unknown[0]!r}",
            path=str(path),
            hint="known settings: " + ", ".join(sorted(_KNOWN_KEYS)),
        )
    return Settings(**{k: str(v) for k, v in data.items()})


def default_db_path() -> Path:
    return platformdirs.user_data_path(APP_NAME) / "archive.sqlite"


def resolve_db_path(flag: str | None, settings: Settings) -> Path:
    """--db > $SMS_AUDIT_DB > config ``db`` > ``<user data dir>/archive.sqlite``."""
    for candidate in (flag, os.environ.get(ENV_DB), settings.db):
        if candidate:
            return Path(candidate).expanduser()
    return default_db_path()


def resolve_region(flag: str | None, settings: Settings) -> str | None:
    """--region > $SMS_AUDIT_REGION > config ``region`` > None (inferred from the archive)."""
    from sms_audit.normalize import valid_region

    for candidate in (flag, os.environ.get(ENV_REGION), settings.region):
        if candidate:
            try:
                return valid_region(candidate)
            except ValueError as exc:
                raise UsageError(str(exc), hint="e.g. --region CN or --region US") from None
    return None
