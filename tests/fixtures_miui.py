"""Builders for Xiaomi MIUI/HyperOS local backups (FORMATS-CN §1), written from the documented layout.

The protobuf payload is encoded by the official protobuf runtime from a schema declared here with the
field numbers of MIUI's generated classes (SyncRootProtos/SmsProtos/MmsProtos ``writeTo``), so the
importer's own wire reader is checked against an independent encoder. Numbers are fictional.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
_STRING, _BYTES, _INT32, _INT64, _BOOL, _MESSAGE = (
    _F.TYPE_STRING,
    _F.TYPE_BYTES,
    _F.TYPE_INT32,
    _F.TYPE_INT64,
    _F.TYPE_BOOL,
    _F.TYPE_MESSAGE,
)

# (number, name, type[, message type]) per message, as in the decompiled writeTo() methods.
_SCHEMA: dict[str, list[tuple[Any, ...]]] = {
    "Sms": [
        (1, "guid", _STRING),
        (2, "luid", _STRING),
        (3, "type", _INT32),
        (4, "address", _STRING),
        (5, "subject", _STRING),
        (6, "body", _STRING),
        (7, "date", _INT64),
        (8, "read", _BOOL),
        (9, "seen", _BOOL),
        (10, "status", _INT32),
        (11, "serverDate", _INT64),
        (12, "serviceCenter", _STRING),
        (13, "protocol", _INT32),
        (14, "replyPathPresent", _BOOL),
        (15, "locked", _BOOL),
        (16, "mxId", _INT64),
        (17, "mxStatus", _INT32),
    ],
    "SmsBookmark": [(1, "guid", _STRING), (2, "luid", _STRING)],
    "MmsSms": [(1, "sms", _MESSAGE, "Sms", True), (2, "smsBookmark", _MESSAGE, "SmsBookmark", True)],
    "PduAddr": [(1, "address", _STRING), (2, "type", _INT32), (3, "charset", _INT32)],
    "PduPart": [
        (1, "sequence", _INT32),
        (2, "contentType", _STRING),
        (3, "name", _STRING),
        (4, "charset", _INT32),
        (5, "contentDisposition", _STRING),
        (6, "fileName", _STRING),
        (7, "contentId", _STRING),
        (8, "contentLocation", _STRING),
        (9, "contentTypeStart", _INT32),
        (10, "contentTypeType", _STRING),
        (11, "text", _STRING),
        (12, "data", _BYTES),
    ],
    "Pdu": [
        (1, "guid", _STRING),
        (2, "luid", _STRING),
        (3, "date", _INT64),
        (4, "serverDate", _INT64),
        (5, "msgBox", _INT32),
        (6, "read", _BOOL),
        (7, "mId", _STRING),
        (8, "subject", _STRING),
        (9, "subjectCharset", _INT32),
        (10, "contentType", _STRING),
        (14, "msgType", _INT32),
        (15, "mmsVersion", _INT32),
        (16, "msgSize", _INT32),
        (22, "transactionId", _STRING),
        (31, "locked", _BOOL),
        (32, "seen", _BOOL),
        (33, "addrs", _MESSAGE, "PduAddr", True),
        (34, "pduParts", _MESSAGE, "PduPart", True),
        (35, "dateMsPart", _INT32),
        (36, "mxId", _INT64),
        (37, "mxStatus", _INT32),
    ],
    "MmsCollection": [(1, "pdus", _MESSAGE, "Pdu", True)],
    # SyncRoot is shared by all MIUI apps; field 1/2 (contacts, call log) stand in for other apps' data.
    "Contact": [(1, "name", _STRING)],
    "SyncRoot": [
        (1, "contact", _MESSAGE, "Contact", True),
        (4, "mmsSms", _MESSAGE, "MmsSms"),
        (9, "mmsCollection", _MESSAGE, "MmsCollection"),
    ],
}


@cache
def _classes() -> dict[str, Any]:
    proto = descriptor_pb2.FileDescriptorProto(
        name="miui_backup_test.proto", package="miuitest", syntax="proto2"
    )
    for name, fields in _SCHEMA.items():
        message = proto.message_type.add(name=name)
        for number, field_name, kind, *rest in fields:
            spec = message.field.add(name=field_name, number=number, type=kind)
            repeated = len(rest) > 1 and rest[1]
            spec.label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
            if rest:
                spec.type_name = f".miuitest.{rest[0]}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"miuitest.{name}"))
        for name in _SCHEMA
    }


@dataclass
class Sms:
    """One row of the Android ``sms`` table as MmsBackupAgent writes it (type 1 in, 2 sent, 5 failed)."""

    address: str
    date_ms: int
    body: str
    type: int = 1
    date_sent_ms: int | None = None
    luid: str | None = None
    read: bool = True


@dataclass
class Mms:
    """One ``pdu`` row with its addr/part rows (date in seconds, msg_box 1 in, 2 sent)."""

    date_s: int
    box: int
    addrs: list[tuple[str, int]]
    parts: list[tuple[str, str]] = field(default_factory=list)
    m_id: str | None = None
    m_type: int = 132
    date_ms_part: int | None = None
    luid: str | None = None


def sync_root(sms: list[Sms] | None = None, mms: list[Mms] | None = None, *, contacts: int = 0) -> bytes:
    """The ``_tmp_bak`` bytes: SyncRoot{mmsSms{sms…}} (feature 1) or SyncRoot{mmsCollection{pdus…}}
    (feature 2); an empty list still writes the (empty) collection, as MmsBackupAgent does."""
    c = _classes()
    root = c["SyncRoot"]()
    for n in range(contacts):
        root.contact.add(name=f"contact {n}")
    if sms is not None:
        root.mmsSms.SetInParent()
    if mms is not None:
        root.mmsCollection.SetInParent()
    for i, s in enumerate(sms or [], start=1):
        row = root.mmsSms.sms.add(
            guid="", luid=s.luid or str(i), type=s.type, address=s.address, body=s.body, date=s.date_ms
        )
        row.read, row.seen, row.status, row.locked = s.read, True, -1, False
        row.serverDate = s.date_sent_ms if s.date_sent_ms is not None else 0
        if s.type == 1:
            row.serviceCenter, row.protocol, row.replyPathPresent = "+8613800100500", 0, False
    if sms:
        root.mmsSms.smsBookmark.add(guid="", luid="1")  # bookmarks are skipped
    for i, m in enumerate(mms or [], start=1):
        pdu = root.mmsCollection.pdus.add(
            guid="", luid=m.luid or str(100 + i), date=m.date_s, serverDate=m.date_s, msgBox=m.box
        )
        pdu.read, pdu.msgType, pdu.mmsVersion, pdu.contentType = (
            True,
            m.m_type,
            18,
            "application/vnd.wap.multipart.related",
        )
        if m.m_id is not None:
            pdu.mId = m.m_id
        if m.date_ms_part is not None:
            pdu.dateMsPart = m.date_ms_part
        for address, kind in m.addrs:
            pdu.addrs.add(address=address, type=kind, charset=106)
        pdu.pduParts.add(sequence=-1, contentType="application/smil", text="<smil><body><par/></body></smil>")
        for seq, (ct, text) in enumerate(m.parts):
            part = pdu.pduParts.add(
                sequence=seq, contentType=ct, data=f"content://mms/part/{i}{seq}".encode()
            )
            if ct.startswith("text/"):
                part.text, part.charset = text, 106
            else:
                part.name = part.fileName = text
    return root.SerializeToString()


def manifest_entry(package: str = "com.android.mms", version_code: int = 12_000_000) -> bytes:
    """The AOSP full-backup ``_manifest`` (version, package, versionCode, SDK, installer, apk flag, sigs)."""
    return f"1\n{package}\n{version_code}\n30\n\n0\n1\n3082abcd\n".encode()


def message_tar(
    tmp_bak: bytes,
    *,
    package: str = "com.android.mms",
    extra: dict[str, bytes] | None = None,
    member: str = "miui_bak/_tmp_bak",
) -> bytes:
    """The tar inside a .bak: ``apps/<pkg>/_manifest``, ``apps/<pkg>/miui_bak/_tmp_bak``, then extras."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        members = {
            f"apps/{package}/_manifest": manifest_entry(package),
            f"apps/{package}/{member}": tmp_bak,
            **(extra or {}),
        }
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o600
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def bak(
    payload_tar: bytes,
    *,
    package: str = "com.android.mms",
    label: str = "短信",
    miui_lines: tuple[str, ...] = ("-1", "0"),
    ab_version: int = 5,
    compression: int = 0,
    encryption: str = "none",
) -> bytes:
    """A .bak: ``MIUI BACKUP`` header, ``ANDROID BACKUP`` header, the tar (zlib when compression 1)."""
    header = "MIUI BACKUP\n2\n" + f"{package} {label}\n" + "".join(f"{line}\n" for line in miui_lines)
    header += f"ANDROID BACKUP\n{ab_version}\n{compression}\n{encryption}\n"
    body = zlib.compress(payload_tar) if compression == 1 else payload_tar
    return header.encode("utf-8") + body


def descript_xml(
    packages: list[tuple[str, int, str]],
    *,
    device: str = "cepheus",
    miui_version: str = "V12.5.6.0.RFACNXM",
    date_ms: int = 1_757_900_000_000,
    errors: dict[str, int] | None = None,
) -> bytes:
    """``descript.xml`` in the shape of the real ones (FORMATS-CN §1.2); packages are
    (packageName, feature, bakFile)."""
    rows = "".join(
        f"<package><packageName>{name}</packageName><feature>{feature}</feature><bakFile>{bak_file}</bakFile>"
        f"<bakType>1</bakType><pkgSize>0</pkgSize><state>1</state><error>{(errors or {}).get(bak_file, 0)}"
        f"</error><bakFileSize>0</bakFileSize></package>"
        for name, feature, bak_file in packages
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>'
        f"<MIUI-backup><jsonMsg /><bakVersion>2</bakVersion><brState>3</brState><autoBackup>false</autoBackup>"
        f"<device>{device}</device><miuiVersion>{miui_version}</miuiVersion><date>{date_ms}</date>"
        f"<size>0</size><storageLeft>0</storageLeft><supportReconnect>false</supportReconnect>"
        f"<packages>{rows}</packages><filesModifyTime /></MIUI-backup>"
    ).encode()


def write_backup(
    folder: Path,
    *,
    sms: list[Sms] | None = None,
    mms: list[Mms] | None = None,
    sms_label: str = "短信",
    mms_label: str = "彩信",
    miui_version: str = "V12.5.6.0.RFACNXM",
    compression: int = 0,
    notes: bool = True,
) -> Path:
    """A ``MIUI/backup/AllBackup/<date>/`` folder: descript.xml, the SMS (feature 1) and MMS
    (feature 2) .bak files of com.android.mms, and a notes .bak that must be ignored."""
    folder.mkdir(parents=True, exist_ok=True)
    packages: list[tuple[str, int, str]] = []
    if notes:
        name = "笔记(com.miui.notes).bak"
        (folder / name).write_bytes(
            bak(message_tar(b"\x0a\x03abc", package="com.miui.notes"), package="com.miui.notes", label="笔记")
        )
        packages.append(("com.miui.notes", 1, name))
    if sms is not None:
        name = f"{sms_label}(com.android.mms).bak"
        (folder / name).write_bytes(
            bak(message_tar(sync_root(sms)), label=sms_label, compression=compression)
        )
        packages.append(("com.android.mms", 1, name))
    if mms is not None:
        name = f"{mms_label}(com.android.mms).bak"
        (folder / name).write_bytes(
            bak(message_tar(sync_root(mms=mms)), label=mms_label, compression=compression)
        )
        packages.append(("com.android.mms", 2, name))
    (folder / "descript.xml").write_bytes(descript_xml(packages, miui_version=miui_version))
    return folder


def zip_backup(folder: Path, target: Path, *, inner: str | None = None) -> Path:
    """The HyperOS-era ``AllBackup/<date>.zip`` of a backup folder (``inner``: a folder inside)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{inner}/{path.name}" if inner else path.name)
    return target
