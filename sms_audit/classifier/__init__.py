"""The classifier: labels, reasons, flags, sender kinds and brands for the message frame."""

from __future__ import annotations

from sms_audit.classifier.engine import classify_frame, default_rules
from sms_audit.classifier.reader import read_classify_input
from sms_audit.classifier.rules import Rule, RuleSet, load_rules, rules_fingerprint, rules_from_toml
from sms_audit.schema import CLASSIFY_COLUMNS, LABELS


def classifier_fingerprint(rules: RuleSet | None = None) -> str:
    """A stable hash of what decides labels: the code version and the rule set (default: packaged)."""
    return rules_fingerprint(rules if rules is not None else default_rules())


__all__ = [
    "CLASSIFY_COLUMNS",
    "LABELS",
    "Rule",
    "RuleSet",
    "classifier_fingerprint",
    "classify_frame",
    "default_rules",
    "load_rules",
    "read_classify_input",
    "rules_from_toml",
]
