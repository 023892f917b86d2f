"""The classifier: labels, reasons, flags, sender kinds and brands for the message frame.

Names are imported on first use (PEP 562), so checking a store's label fingerprint
(:func:`files_fingerprint`) does not load numpy, the rules or the content model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_audit.classifier.fingerprint import CLASSIFIER_VERSION, files_fingerprint

if TYPE_CHECKING:
    from sms_audit.classifier.engine import classifier_fingerprint, classify_frame, default_rules
    from sms_audit.classifier.reader import read_classify_input
    from sms_audit.classifier.rules import Rule, RuleSet, load_rules, rules_from_toml
    from sms_audit.schema import CLASSIFY_COLUMNS, LABELS

_LAZY = {
    "classifier_fingerprint": "sms_audit.classifier.engine",
    "classify_frame": "sms_audit.classifier.engine",
    "default_rules": "sms_audit.classifier.engine",
    "read_classify_input": "sms_audit.classifier.reader",
    "Rule": "sms_audit.classifier.rules",
    "RuleSet": "sms_audit.classifier.rules",
    "load_rules": "sms_audit.classifier.rules",
    "rules_from_toml": "sms_audit.classifier.rules",
    "CLASSIFY_COLUMNS": "sms_audit.schema",
    "LABELS": "sms_audit.schema",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sms_audit.classifier' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CLASSIFIER_VERSION",
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
