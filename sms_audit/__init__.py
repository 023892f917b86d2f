"""sms-audit: find the senders that kept messaging after you unsubscribed.

The library API (the command line is a thin view over it)::

    import sms_audit

    messages = sms_audit.read_archives(["sms-20251130.xml"])
    report = sms_audit.audit(sms_audit.classify(messages), policy="cn")
    report.findings_frame()

See :mod:`sms_audit.pipeline` for every function and :mod:`sms_audit.schema` for the columns.
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from sms_audit.errors import (
    CorruptArchive,
    SmsAuditError,
    TruncatedArchive,
    UnsupportedArchive,
    UsageError,
)

if TYPE_CHECKING:
    from sms_audit.pipeline import (
        ArchiveResult,
        AuditOptions,
        EvidencePack,
        Messages,
        RegionChoice,
        audit,
        classify,
        ensure_labels,
        ephemeral_store,
        import_archives,
        iter_store,
        iter_store_records,
        load_for_report,
        load_store,
        open_store,
        read_archives,
        remember_shown,
        select,
        write_evidence,
    )
    from sms_audit.query import MessageFilter
    from sms_audit.schema import SchemaError

#: Where each public name lives; loaded on first use (PEP 562), so ``sms-audit --help`` and the
#: error classes do not pay for pandas.
_LAZY = {
    **dict.fromkeys(
        (
            "ArchiveResult",
            "AuditOptions",
            "EvidencePack",
            "Messages",
            "RegionChoice",
            "audit",
            "classify",
            "ensure_labels",
            "ephemeral_store",
            "import_archives",
            "iter_store",
            "iter_store_records",
            "load_for_report",
            "load_store",
            "open_store",
            "read_archives",
            "remember_shown",
            "select",
            "write_evidence",
        ),
        "sms_audit.pipeline",
    ),
    "MessageFilter": "sms_audit.query",
    "SchemaError": "sms_audit.schema",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sms_audit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ArchiveResult",
    "AuditOptions",
    "CorruptArchive",
    "EvidencePack",
    "MessageFilter",
    "Messages",
    "RegionChoice",
    "SchemaError",
    "SmsAuditError",
    "TruncatedArchive",
    "UnsupportedArchive",
    "UsageError",
    "__version__",
    "audit",
    "classify",
    "ensure_labels",
    "ephemeral_store",
    "import_archives",
    "iter_store",
    "iter_store_records",
    "load_for_report",
    "load_store",
    "open_store",
    "read_archives",
    "remember_shown",
    "select",
    "write_evidence",
]
