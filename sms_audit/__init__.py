"""sms-audit: find the senders that kept messaging after you unsubscribed.

The library API (the command line is a thin view over it)::

    import sms_audit

    messages = sms_audit.read_archives(["sms-20251130.xml"])
    report = sms_audit.audit(sms_audit.classify(messages), policy="cn")
    report.findings_frame()

See :mod:`sms_audit.pipeline` for every function and :mod:`sms_audit.schema` for the columns.
"""

__version__ = "0.1.0"

from sms_audit.errors import (
    CorruptArchive,
    SmsAuditError,
    TruncatedArchive,
    UnsupportedArchive,
    UsageError,
)
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
    "load_for_report",
    "load_store",
    "open_store",
    "read_archives",
    "remember_shown",
    "select",
    "write_evidence",
]
