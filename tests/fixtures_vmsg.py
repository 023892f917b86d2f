"""Build vMessage (.vmsg) files as phones write them, and encrypted ColorOS 12+ backups (FORMATS-CN §2–§3).

Shapes, each from a documented producer:

* ``oppo`` — OPPO/Windows Phone style: ``VERSION: 1.1``, ``TEL:``, real quoted-printable (every
  non-ASCII byte as ``=HH``, newlines as ``=0A``, ASCII and trailing spaces raw) folded with soft line
  breaks at 75 characters, LF line ends (the public OPPO/Lumia samples);
* ``mtk`` — MediaTek ``SmsBackupComposer.combineVmsg``: ``FROMTEL:``, ``X-SEEN``, CRLF, the body
  written raw after a QP declaration with ``END:VBODY`` escaped as ``/END:VBODY``;
* ``zte`` — plain ``Subject:text`` without parameters (ZTE migrate test);
* ``johnpierre`` — declared QP, written raw but folded with a soft break (athg2sms test).

The ColorOS builder encrypts with the documented scheme, written here independently of the
importer: HMAC-SHA256(key=random, msg=fixed material), one hex digit per byte's high nibble as the
AES-256 key, the first 16 characters of ``iv`` as the CBC IV, PKCS#7 padding.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from pathlib import Path

FIXED = b"rTMVTmZYZVMTTEGt-Backup_Restore-"
RANDOM = "Q7kP2vX9mL4sT8wZ1cR6yB3nF5hJ0dGa"  # 32 letters/digits, as EncryptInfo.random
IV = "4619273058164927301"  # a decimal string, as EncryptInfo.iv


def qp_encode(body: str, width: int = 75) -> str:
    """Quoted-printable as the OPPO/Lumia producer writes it (soft breaks may split a character)."""
    tokens: list[str] = []
    for byte in body.encode("utf-8"):
        char = chr(byte)
        if 0x20 <= byte < 0x7F and char != "=":
            tokens.append(char)
        else:
            tokens.append(f"={byte:02X}")
    lines, current = [], ""
    for token in tokens:
        if len(current) + len(token) > width - 1:
            lines.append(current + "=")
            current = ""
        current += token
    lines.append(current)
    return "\n".join(lines)


def record(
    address: str | list[str],
    date: str,
    body: str,
    box: str = "INBOX",
    *,
    style: str = "oppo",
    env: list[str] | None = None,
    newline: str = "\n",
) -> str:
    """One ``BEGIN:VMSG … END:VMSG``.

    ``address`` may be a list: one VCARD per party (a group). ``env`` puts IrMC-style recipient
    VCARDs inside a VENV. ``newline`` ends the lines the writer writes (MediaTek: CRLF); line
    breaks inside a raw body stay as the message has them.
    """
    parties = address if isinstance(address, list) else [address]
    tag = "FROMTEL" if style == "mtk" else "TEL"
    cards = "".join(f"BEGIN:VCARD\n{tag}:{p}\nEND:VCARD\n" for p in parties)
    if env:
        cards += "BEGIN:VENV\n" + "".join(f"BEGIN:VCARD\nTEL:{p}\nEND:VCARD\n" for p in env)
    head = "BEGIN:VMSG\n" + ("VERSION:1.1\n" if style in ("mtk", "zte") else "VERSION: 1.1\n") + cards
    props = f"BEGIN:VBODY\nX-BOX:{box}\nX-READ:READ\n"
    if style == "mtk":
        props += "X-SEEN:1\nX-SIMID:1\nX-LOCKED:UNLOCKED\nX-TYPE:SMS\n"
    elif style == "oppo":
        props += "X-SIMID:0\nX-LOCKED:UNLOCKED\nX-TYPE:SMS\n"
    props += f"Date:{date}\n"
    if style == "oppo":
        subject = "Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:" + qp_encode(body)
    elif style == "mtk":
        subject = "Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:" + body.replace("END:VBODY", "/END:VBODY")
    elif style == "johnpierre":
        cut = len(body) // 2
        subject = "Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:" + body[:cut] + "=\n" + body[cut:]
    else:
        subject = "Subject:" + body
    tail = "\nEND:VBODY\n" + ("END:VENV\n" if env else "") + "END:VMSG\n"
    structure = (head + props).replace("\n", newline)
    return structure + subject.replace("=\n", "=" + newline) + tail.replace("\n", newline)


def document(*records: str, crlf: bool = False) -> str:
    """A whole ``.vmsg`` text; ``crlf`` turns every LF into CRLF, body breaks included."""
    text = "".join(records)
    return text.replace("\n", "\r\n") if crlf else text


def cn_user(
    port: str,
    friend: str,
    ad1: str,
    ad2: str,
    *,
    style: str = "oppo",
    friend_text: str = "周末一起吃饭吗？\n老地方见 😀",
) -> str:
    """A +86 user's file: an advert from a marketing port, a friend's message, the user's TD reply
    to the port, then a later advert (CRLF line ends for the MediaTek style)."""
    newline = "\r\n" if style == "mtk" else "\n"
    return document(
        record(port, "2025/09/01 11:24:00", ad1, "INBOX", style=style, newline=newline),
        record(friend, "2025/09/05 09:30:00", friend_text, "INBOX", style=style, newline=newline),
        record(port, "2025/09/10 20:15:00", "TD", "SENDBOX", style=style, newline=newline),
        record(port, "2025/09/13 11:00:00", ad2, "INBOX", style=style, newline=newline),
    )


def write(path: Path, text: str, *, encoding: str = "utf-8", bom: bool = False) -> Path:
    data = text.encode(encoding)
    if bom:
        data = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe"}[encoding] + data
    path.write_bytes(data)
    return path


def coloros_key(random: str = RANDOM, iv: str = IV) -> tuple[bytes, bytes]:
    digest = hmac.new(random.encode(), FIXED, hashlib.sha256).digest()
    return "".join("0123456789abcdef"[b >> 4] for b in digest).encode(), iv.encode()[:16]


def encrypt(plain: bytes, random: str = RANDOM, iv: str = IV) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key, vector = coloros_key(random, iv)
    pad = 16 - len(plain) % 16
    encryptor = Cipher(algorithms.AES(key), modes.CBC(vector)).encryptor()
    return encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()


def write_coloros_backup(
    folder: Path,
    text: str,
    *,
    rows: list[tuple[str, str]] | None = None,
    sub: str = "Sms",
    name: str = "sms.vmsg",
) -> Path:
    """A ColorOS 12+ backup folder ``<date>/`` with ``backup_config_new.db`` and an encrypted vMessage.

    ``rows`` are the EncryptInfo (random, iv) rows, oldest first; the file is encrypted with the
    last one (the live row). Returns the folder.
    """
    rows = rows or [(RANDOM, IV)]
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "backup_config_new.db")
    db.execute("CREATE TABLE EncryptInfo(_id INTEGER PRIMARY KEY, random TEXT, iv TEXT)")
    db.executemany("INSERT INTO EncryptInfo(random, iv) VALUES (?, ?)", rows)
    db.commit()
    db.close()
    (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / sub / name).write_bytes(encrypt(text.encode("utf-8"), *rows[-1]))
    (folder / "speeddial_backup.xml").write_bytes(
        encrypt(b"<?xml version='1.0' standalone='no' ?><SpeedDial />", *rows[-1])
    )
    return folder
