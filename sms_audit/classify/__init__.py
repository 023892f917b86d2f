"""The classifier: labels, reasons, flags, sender kinds and brands for the message frame."""

from __future__ import annotations

from sms_audit.classify.engine import classifier_fingerprint, classify_frame, default_rules
from sms_audit.classify.reader import read_classify_input
from sms_audit.classify.rules import Rule, RuleSet, load_rules, rules_from_toml
from sms_audit.schema import CLASSIFY_COLUMNS, LABELS

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
