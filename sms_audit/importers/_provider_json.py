"""Field access for Android telephony-provider rows exported as JSON (sms-ie, TelephonyBackupAgent).

Both exports write provider columns whose values may be JSON strings or numbers ("date": "1709647200123"
in sms-ie, "date": 1709647200123 elsewhere) and the literal "null" for absent values.
"""

from __future__ import annotations

from typing import Any


def text_field(record: dict[str, Any], key: str) -> str | None:
    """The value as text, or None when the key is missing or null."""
    value = record.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def int_field(record: dict[str, Any], key: str) -> int | None:
    """The value as an integer, or None when missing, empty, "null" or not a number."""
    value = text_field(record, key)
    try:
        return int(value) if value not in (None, "", "null") else None
    except ValueError:
        return None
