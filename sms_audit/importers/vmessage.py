"""vMessage ``.vmsg`` files: OPPO/OnePlus/realme (ColorOS), MediaTek phones, Meizu, ZTE, Windows Phone.

One record per message (FORMATS-CN.md §3; MediaTek ``SmsBackupComposer``)::

    BEGIN:VMSG
    VERSION:1.1
    BEGIN:VCARD
    TEL:10690000123          (MediaTek: FROMTEL:; the other party in both directions)
    END:VCARD
    BEGIN:VBODY
    X-BOX:INBOX              (INBOX | SENDBOX; see BOX)
    X-READ:READ
    Date:2018/08/04 14:08:59 (the phone's local time, no zone)
    Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:<body>
    END:VBODY
    END:VMSG

Bodies come as real quoted-printable with ``=HH`` escapes and soft line breaks, as declared-QP
text written raw (MediaTek: raw text, with ``END:VBODY`` inside a body escaped as
``/END:VBODY``), or as plain ``Subject:text``. Times are local wall-clock times: records carry
``local_time`` and are read in the archive's time zone. ColorOS 12+ backups are encrypted
(:mod:`sms_audit.importers._coloros`): a backup folder holding ``backup_config_new.db``, or an
encrypted ``*.vmsg`` inside one, is decrypted on the fly.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers import _coloros, _textfile
from sms_audit.importers._textfile import (
    LineTooLong,
    TextEncoding,
    TextLines,
    decode_head,
    read_chunks,
    sniff_encoding,
    text_codec,
)
from sms_audit.importers._walltime import parse_walltime
from sms_audit.importers.base import (
    ReadOptions,
    ReadStats,
    Skip,
    account,
    build_messages,
    read_head,
)
from sms_audit.model import Message, Record, make_message_id
from sms_audit.normalize import address_identity, split_group_address
from sms_audit.schema import Direction, Service

NAME = "vmsg"
DESCRIPTION = (
    "vMessage .vmsg (OPPO/OnePlus/realme incl. encrypted ColorOS 12+, MediaTek, Meizu, ZTE, Windows Phone)"
)

#: ``X-BOX`` values. INBOX/SENDBOX: MediaTek SmsBackupComposer (type 1 → INBOX, 2 → SENDBOX, any
#: other type → INBOX), ZTE, Windows Phone, OPPO (FORMATS-CN §3). SENT/DRAFT: "seen in other
#: producers" (same section). SENTBOX/OUTBOX/DRAFT: IrMC folder names. OUTBOX is Android's
#: "waiting to be sent" box, so a message there was not delivered (FAILED, like SMS type 4).
BOX = {
    "INBOX": Direction.IN,
    "SENDBOX": Direction.OUT,
    "SENTBOX": Direction.OUT,
    "SENT": Direction.OUT,
    "OUTBOX": Direction.FAILED,
    "FAILED": Direction.FAILED,
    "FAILEDBOX": Direction.FAILED,
    "DRAFT": Direction.DRAFT,
    "DRAFTS": Direction.DRAFT,
    "DRAFTBOX": Direction.DRAFT,
}
_SNIFF_BYTES = 4096
_MARKER_START = frozenset("BEbe \t")
_MAGIC = "BEGIN:VMSG"
# A property line inside VBODY: name, optional ;params, colon (a body line is anything else).
_PROPERTY = re.compile(r"(X-[A-Za-z0-9-]+|Date|Subject)((?:;[^:\r\n]*)?):", re.IGNORECASE)
_QP_RUN = re.compile(r"(?:=[0-9A-Fa-f]{2})+")
_SOFT_BREAK = re.compile(r"=\r?\n")
_ODD_EQUALS = re.compile(r"=(?![0-9A-Fa-f]{2}|\r?\n|$)")  # an "=" that is no QP escape


# --- detection ----------------------------------------------------------------------------------


def _plain_vmsg(path: Path) -> TextEncoding | None:
    """The encoding of a plain-text vMessage file, or None when ``path`` is not one."""
    head = read_head(path, _SNIFF_BYTES)
    if not head:
        return None
    encoding = sniff_encoding(head)
    return encoding if decode_head(head, encoding).lstrip().upper().startswith(_MAGIC) else None


def _looks_encrypted(path: Path) -> bool:
    """A binary file whose size is a whole number of AES blocks."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return size > 0 and size % _coloros.BLOCK == 0 and _plain_vmsg(path) is None


def _message_folder(path: Path) -> bool:
    """A backup folder whose ``sms``/``Sms`` sub-folder holds a plain ``*.vmsg`` (older OPPO,
    MediaTek and ZTE backup apps: ``…/backup/Data/<date>/Sms/sms.vmsg``)."""
    try:
        folders = [p for p in path.iterdir() if p.is_dir() and p.name.lower() == "sms"]
        return any(
            f.is_file() and f.name.lower().endswith(".vmsg") and _plain_vmsg(f) is not None
            for folder in folders
            for f in folder.iterdir()
        )
    except OSError:
        return False


def sniff(path: Path) -> bool:
    """A text file starting ``BEGIN:VMSG``; a ColorOS backup folder (``backup_config_new.db``);
    an encrypted ``*.vmsg`` inside one; or a backup folder with ``sms/*.vmsg``."""
    if path.is_dir():
        return (path / _coloros.CONFIG_NAME).is_file() or _message_folder(path)
    if not path.is_file():
        return False
    if _plain_vmsg(path) is not None:
        return True
    return (
        path.name.lower().endswith(".vmsg")
        and _looks_encrypted(path)
        and _coloros.find_config(path) is not None
    )


def explain_unsupported(path: Path) -> None:
    """An encrypted ``.vmsg`` copied without its backup folder, or the key database alone."""
    if path.is_file() and path.name == _coloros.CONFIG_NAME:
        raise UnsupportedArchive(
            "this is the key database of a ColorOS backup, not the messages",
            path=str(path),
            hint="pass the folder that holds it (…/Backup/Data/<date>/): sms-audit finds and decrypts sms.vmsg",
        )
    if path.is_file() and path.name.lower().endswith(".vmsg") and _looks_encrypted(path):
        raise UnsupportedArchive(
            "this .vmsg is encrypted (ColorOS 12+ backup) and backup_config_new.db is not beside it",
            path=str(path),
            hint="copy the whole backup folder Android/data/com.coloros.backuprestore/Backup/Data/<date>/ "
            "(OnePlus: com.oneplus.backuprestore) from the phone and pass that folder",
        )


# --- reading ------------------------------------------------------------------------------------


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region`` (local times read as UTC here;
    the pipeline reads them in the archive's zone)."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Records of a ``.vmsg`` file, an encrypted one inside a ColorOS backup, or every ``*.vmsg``
    of a ColorOS backup folder.

    Times are wall-clock (``local_time``). Raises TruncatedArchive after yielding every complete
    record when the text ends inside one; CorruptArchive when a ColorOS backup cannot be
    decrypted; UnsupportedArchive when a backup folder holds no messages.
    """
    keys: list[_coloros.BackupKey] | None = None
    if path.is_dir():
        named = [f for f in _coloros.backup_files(path) if f.name.lower().endswith(".vmsg")]
        if not named and (path / _coloros.CONFIG_NAME).is_file():
            keys = _coloros.backup_keys(path / _coloros.CONFIG_NAME)
        files = named or _coloros.vmsg_files(path, keys, _decrypts_to_vmsg)
    else:
        files = [path]
    if not files:
        raise UnsupportedArchive(
            "this ColorOS backup holds no messages (no .vmsg file, and no file that decrypts to one)",
            path=str(path),
            hint="make a new local backup with 信息 (Messages) ticked, then pass its folder",
        )
    total = sum(_size(f) for f in files)
    done = 0
    for member in files:
        encoding = _plain_vmsg(member)
        label = member.name if member == path else str(member.relative_to(path))
        ended = _Ended()
        if encoding is not None:
            chunks: Iterable[bytes] = read_chunks(member)
        else:
            config = _coloros.find_config(member)
            if config is None:
                explain_unsupported(member)
                raise UnsupportedArchive("not a vMessage file", path=str(member))
            if keys is None:
                keys = _coloros.backup_keys(config)
            key = _coloros.choose_key(member, keys, _decrypts_to_vmsg)
            if key is None:
                raise CorruptArchive(
                    f"{label}: none of the {len(keys)} key{'s' if len(keys) != 1 else ''} in "
                    f"{_coloros.CONFIG_NAME} decrypts it to a vMessage",
                    path=str(path),
                    hint="the backup may come from a ColorOS version with another scheme, or "
                    f"{_coloros.CONFIG_NAME} belongs to another backup; please report it",
                )
            stats.details["encryption"] = f"ColorOS AES-256-CBC (EncryptInfo row {key.row})"
            encoding = sniff_encoding(_coloros.plaintext_head(member, key, _SNIFF_BYTES))
            chunks = ended.guard(_coloros.decrypt_chunks(member, key))
        stats.details["encoding"] = encoding.describe()
        lines = TextLines(chunks, encoding)
        yield from _parse(lines, label, path, stats, options, done, total, ended)
        done += _size(member)
        warning = lines.warning()
        if warning:
            stats.warnings.append(f"{label}: {warning}")
    if path.is_dir():
        from sms_audit.files import sha256_file

        stats.details["vmsg_files"] = str(len(files))
        if len(files) == 1:  # a folder has no single hash: record the message file's
            stats.details["sha256"] = sha256_file(files[0])
            stats.details["sha256_of"] = str(files[0].relative_to(path))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _decrypts_to_vmsg(head: bytes) -> bool:
    encoding = sniff_encoding(head)
    return decode_head(head, encoding).lstrip().upper().startswith(_MAGIC)


class _Ended:
    """Catches the end of a damaged ciphertext so the text before it is still parsed."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def guard(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        try:
            yield from chunks
        except _coloros.DecryptionEnded as exc:
            self.reason = exc.reason


@dataclass(slots=True)
class _Entry:
    """One ``BEGIN:VMSG … END:VMSG`` being read."""

    line: int
    stack: list[str] = field(default_factory=list)
    tels: list[str] = field(default_factory=list)  # VCARDs directly in VMSG (MediaTek: the other party)
    env_tels: list[str] = field(default_factory=list)  # VCARDs inside VENV (IrMC recipients)
    box: str | None = None
    date: str | None = None
    subject_params: str | None = None
    body_lines: list[str] = field(default_factory=list)
    body_chars: int = 0
    in_body: bool = False
    body_closed: bool = False
    parts: list[dict[str, str]] = field(default_factory=list)


def _parse(
    lines: TextLines,
    label: str,
    path: Path,
    stats: ReadStats,
    options: ReadOptions,
    done: int,
    total: int,
    ended: _Ended,
) -> Iterator[Record]:
    entry: _Entry | None = None
    ordinal = 0
    try:
        for ordinal, entry, record in _entries(lines, label, stats, options, done, total):
            if record is not None:
                yield record
    except LineTooLong as exc:
        raise CorruptArchive(
            f"{label}: read {stats.read} records; {exc}",
            path=str(path),
            hint="the file is damaged; the records before this line were read",
        ) from None
    if entry is not None or ended.reason:
        where = f"; {ended.reason}" if ended.reason else ""
        start = f" inside the record that starts at line {entry.line}" if entry is not None else ""
        raise TruncatedArchive(
            f"{label}: read {ordinal} records; the file ends{start}{where}",
            path=str(path),
            records_read=stats.read,
            line=entry.line if entry is not None else None,
            hint="the backup ends early (interrupted copy?); every complete record before the break was read",
        )
    if ordinal == 0:
        raise CorruptArchive(f"{label}: no BEGIN:VMSG … END:VMSG record in the file", path=str(path))


def _entries(
    lines: TextLines, label: str, stats: ReadStats, options: ReadOptions, done: int, total: int
) -> Iterator[tuple[int, _Entry | None, Record | None]]:
    """(records finished so far, None, the record) for each record read, then a last
    (records finished, the record still open or None, None) when the text ends."""
    entry: _Entry | None = None
    ordinal = 0
    for raw in lines:
        text = raw.rstrip("\r\n")
        # Only a line that starts with B/E (after blanks) can be BEGIN:/END:; most lines do not.
        marker = text.strip().upper() if text[:1] in _MARKER_START else ""
        if entry is None:
            if marker == _MAGIC:
                entry = _Entry(line=lines.line_number, stack=["VMSG"])
            continue
        if entry.in_body:
            if marker == "END:VBODY":
                entry.in_body, entry.body_closed = False, True
                _pop(entry, "VBODY")
                continue
            if marker not in ("END:VMSG", _MAGIC):
                entry.body_chars += len(raw)
                if entry.body_chars <= _textfile.MAX_LINE_CHARS:
                    entry.body_lines.append(raw)
                continue
            entry.in_body = False  # a record without END:VBODY: the body ends here
        if marker == _MAGIC:  # the previous record never ended
            ordinal += 1
            if entry.body_closed:
                record = account(_record(entry, label, ordinal), stats)
                if record is not None:
                    stats.read += 1
                    yield ordinal, None, record
            else:
                stats.skip("record cut short (no END:VBODY/END:VMSG before the next record)")
            entry = _Entry(line=lines.line_number, stack=["VMSG"])
            continue
        if marker == "END:VMSG":
            ordinal += 1
            record = account(_record(entry, label, ordinal), stats)
            entry = None
            if record is not None:
                stats.read += 1
                if options.on_progress is not None and stats.read % 500 == 0:
                    options.on_progress(done + lines.bytes_read, total)
                yield ordinal, None, record
            continue
        _property(entry, text, raw, marker)
    yield ordinal, entry, None


#: BEGIN: blocks deeper than this are ignored (vMessage nests VMSG > VCARD/VENV > VBODY/VPART).
_MAX_DEPTH = 16


def _pop(entry: _Entry, name: str) -> None:
    if name in entry.stack:
        while entry.stack and entry.stack.pop() != name:
            pass


def _property(entry: _Entry, text: str, raw: str, marker: str) -> None:
    """One line of a record outside a body (``text`` without its line end, ``raw`` with it;
    ``marker`` its upper-cased form when it may be BEGIN:/END:)."""
    if marker.startswith("BEGIN:"):
        name = marker[6:].strip()
        if len(entry.stack) >= _MAX_DEPTH:  # real files nest 3 deep (VMSG > VENV > VBODY); a
            return  # hostile one 100,000 deep made every END a scan of the whole stack
        entry.stack.append(name)
        if name == "VPART":
            entry.parts.append({})
        return
    if marker.startswith("END:"):
        _pop(entry, marker[4:].strip())
        return
    name, _, value = text.partition(":")
    key = name.split(";", 1)[0].strip().upper()
    context = entry.stack[-1] if entry.stack else ""
    if context == "VCARD" and key in ("TEL", "FROMTEL"):
        (entry.env_tels if "VENV" in entry.stack else entry.tels).append(value.strip())
    elif context == "VPART" and entry.parts:
        entry.parts[-1][key] = value.strip()
    elif key in ("X-BOX", "X-IRMC-BOX"):
        entry.box = value.strip().upper()
    elif key == "DATE" and context in ("VBODY", "VMSG"):
        entry.date = value.strip()
    elif context == "VBODY" and _PROPERTY.match(text) and key == "SUBJECT":
        entry.subject_params = name[len("Subject") :]
        entry.body_lines = [raw[len(name) + 1 :]]  # the body keeps its line ends
        entry.in_body = True
    elif context == "VBODY" and not _PROPERTY.match(text) and text.strip():
        # A VBODY without a Subject property (IrMC style): its text lines are the message.
        entry.subject_params = entry.subject_params or ""
        entry.body_lines.append(text + "\n")
        entry.in_body = True


def _params(raw: str) -> dict[str, str]:
    """``;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8`` → {"ENCODING": …, "CHARSET": …} (vCard 2.1
    also allows a bare ``;QUOTED-PRINTABLE``)."""
    found: dict[str, str] = {}
    for part in raw.split(";"):
        part = part.strip()
        if not part:
            continue
        name, eq, value = part.partition("=")
        if eq:
            found[name.strip().upper()] = value.strip()
        elif name.upper() in ("QUOTED-PRINTABLE", "BASE64", "B"):
            found["ENCODING"] = name.upper()
        elif name.upper().startswith(("UTF", "GB", "BIG5")):
            found.setdefault("CHARSET", name)
    return found


@lru_cache(maxsize=64)
def _body_options(params: str) -> tuple[str, str]:
    """(charset, encoding) of a ``Subject`` property's parameters; an unknown charset → UTF-8."""
    options = _params(params)
    charset = text_codec(options.get("CHARSET", "utf-8")) or "utf-8"
    return charset, options.get("ENCODING", "").upper()


def decode_body(raw: str, params: str) -> str:
    """A vMessage body as the phone held it.

    ``raw`` is the text after ``Subject…:`` with its continuation lines, the line end before
    ``END:VBODY`` removed. Quoted-printable: soft line breaks are joined and each run of ``=HH``
    escapes is decoded in the declared charset when it forms valid text, else kept as written —
    so a body declared QP but written raw (MediaTek) keeps its ``=`` signs. A body that holds
    non-ASCII text was written raw: it is taken as is. In a raw body ``/END:VBODY`` is unescaped.
    """
    charset, encoding = _body_options(params)
    if encoding in ("BASE64", "B"):
        try:
            return base64.b64decode("".join(raw.split()), validate=True).decode(charset, "replace")
        except (binascii.Error, ValueError):
            return raw
    if (
        encoding == "QUOTED-PRINTABLE"
        and raw.isascii()
        and _QP_RUN.search(raw)
        and not _ODD_EQUALS.search(raw)
    ):
        # Fast path, the same result as decode_qp when every escape decodes (checked by a test).
        try:
            return binascii.a2b_qp(raw.encode("ascii")).decode(charset)
        except (UnicodeDecodeError, ValueError):
            pass
    if encoding == "QUOTED-PRINTABLE" and raw.isascii():
        text, decoded_any = decode_qp(raw, charset)
        if decoded_any:
            return text
        raw = text
    return raw.replace("/END:VBODY", "END:VBODY")  # MediaTek's escape of a literal END:VBODY


def decode_qp(raw: str, charset: str) -> tuple[str, bool]:
    """Quoted-printable ASCII → (text, whether any escape was decoded), run by run: a run of
    ``=HH`` that is no valid text in ``charset`` stays as written. A final ``=`` after decoded
    escapes is a soft break before ``END:VBODY``."""
    decoded_any = False

    def run(match: re.Match[str]) -> str:
        nonlocal decoded_any
        try:
            text = bytes.fromhex(match.group(0).replace("=", "")).decode(charset)
        except (UnicodeDecodeError, ValueError):
            return match.group(0)
        decoded_any = True
        return text

    text = _QP_RUN.sub(run, _SOFT_BREAK.sub("", raw))
    if decoded_any and text.endswith("=") and raw.endswith("="):
        text = text[:-1]
    return text, decoded_any


def _body(entry: _Entry) -> str:
    raw = "".join(entry.body_lines)
    if raw.endswith("\r\n"):
        raw = raw[:-2]
    elif raw.endswith("\n"):
        raw = raw[:-1]
    return decode_body(raw, entry.subject_params or "")


def _mms_text(parts: list[dict[str, str]]) -> tuple[str, bool]:
    """(text of the text/plain parts, has attachments) of a vMessage MMS (ZTE/eben ``VPART`` blocks)."""
    texts: list[str] = []
    attachments = False
    for part in parts:
        ctype = part.get("X-MMS-PART-CONTENT-TYPE", "").lower()
        if ctype.startswith("text/plain"):
            text = part.get("X-MMS-PART-TEXT")
            if text is None and part.get("X-MMS-PART-DATA"):
                try:
                    text = base64.b64decode(part["X-MMS-PART-DATA"], validate=True).decode("utf-8", "replace")
                except (binascii.Error, ValueError):
                    text = None
            texts.append(text or "")
        elif ctype and ctype != "application/smil":
            attachments = True
    return "".join(texts), attachments


def _record(entry: _Entry, label: str, ordinal: int) -> Record | Skip:
    """One finished entry → a record, or why it is skipped."""
    tels = [t for v in entry.tels for t in split_group_address(v) if t.strip()]
    env = [t for v in entry.env_tels for t in split_group_address(v) if t.strip()]
    direction = BOX.get(entry.box or "", Direction.OTHER) if entry.box else Direction.OTHER
    if env and direction is Direction.IN:
        others = tels[:1] or env[:1]  # IrMC: the originator sent it; VENV lists the recipients
        members = list(dict.fromkeys(tels + env))
    elif env:
        others = env
        members = env
    else:
        others = tels
        members = tels
    if not others:
        return Skip("no address (TEL)" if not entry.parts else "MMS without any address")
    if entry.body_chars > _textfile.MAX_LINE_CHARS:
        return Skip(f"body longer than {_textfile.MAX_LINE_CHARS:,} characters")
    if not entry.date:
        return Skip("no date")
    when = parse_walltime(entry.date)
    if when is None:
        return Skip("date not understood")
    if entry.parts and entry.subject_params is None:
        body, attachments = _mms_text(entry.parts)
        service = Service.MMS
    else:
        body, attachments = _body(entry), False
        service = Service.SMS
    members = list(dict.fromkeys(members))
    is_group = len(members) > 1
    address = others[0] if direction is Direction.IN or not is_group else "~".join(others)
    stamp = f"{when.us}{'L' if when.local else 'Z'}"
    return Record(
        message_id=make_message_id(
            "vmsg" if service is Service.SMS else "vmsg-mms",
            address_identity(address),
            direction.value,
            stamp,
            body,
        ),
        source_record=f"{label}:{entry.line}",
        direction=direction,
        timestamp_us=when.us,
        address_raw=address,
        body=body,
        service=service,
        recipients=tuple(m for m in members if m != address) if is_group else (),
        is_group=is_group,
        members=tuple(members) if is_group else (),
        has_attachments=attachments,
        local_time=when.local,
    )
