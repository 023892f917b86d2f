"""The classifier: labels, reasons, flags, sender kinds and brands for the message frame."""

from __future__ import annotations

from pathlib import Path

from sms_audit.classifier import content
from sms_audit.classifier.engine import (
    CLASSIFIER_VERSION,
    classifier_fingerprint,
    classify_frame,
    default_rules,
)
from sms_audit.classifier.reader import read_classify_input
from sms_audit.classifier.rules import Rule, RuleSet, load_rules, rules_from_toml
from sms_audit.schema import CLASSIFY_COLUMNS, LABELS


def files_fingerprint(user_dir: Path | None) -> str:
    """A hash of what decides labels, from files' bytes alone (cheap: nothing is parsed): the
    packaged content model, the packaged rules and ``user_dir``'s, and the classifier version, so a
    store can tell at once whether its labels are current (16 hex digits)."""
    import hashlib
    from importlib import resources

    from sms_audit import __version__

    digest = hashlib.sha256(f"sms-audit {__version__} classifier {CLASSIFIER_VERSION}".encode())
    digest.update(hashlib.sha256(content.packaged_model_bytes() or b"").digest())
    package = resources.files("sms_audit") / "rules"
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    if user_dir is not None and user_dir.is_dir():
        for path in sorted(user_dir.glob("*.toml")):
            try:
                digest.update(b"user/" + path.name.encode() + b"\0" + path.read_bytes())
            except OSError:
                digest.update(b"unreadable/" + path.name.encode())
    return digest.hexdigest()[:16]


__all__ = [
    "CLASSIFY_COLUMNS",
    "LABELS",
    "Rule",
    "RuleSet",
    "classifier_fingerprint",
    "classify_frame",
    "default_rules",
    "files_fingerprint",
    "load_rules",
    "read_classify_input",
    "rules_from_toml",
]
