"""ColorOS 12+ (OPPO/OnePlus/realme) local backups: the files are AES-encrypted with public key material.

Facts (FORMATS-CN.md §2.2, verified there on a public OnePlus sample and in two independent
decrypters — sobornostea/reverse_oneplus_backup ``decrypt.py`` and xiaobu-memory-exporter
``src/crypto.js``):

* the backup's timestamp folder (``Android/data/com.coloros.backuprestore/Backup/Data/<date>/``,
  OnePlus ``com.oneplus.backuprestore``) holds ``backup_config_new.db``, an SQLite database with
  ``EncryptInfo(_id, random TEXT, iv TEXT)``: ``random`` = 32 letters/digits, ``iv`` = a decimal string;
* every file is AES-256-CBC with PKCS#7 padding; key = for each byte ``b`` of
  ``HMAC-SHA256(key=random, msg="rTMVTmZYZVMTTEGt-Backup_Restore-")`` the hex digit of ``b >> 4``
  (32 ASCII characters used as the 32-byte key); IV = the first 16 characters of ``iv``, the same
  for every file;
* old values can survive in the database, so each row is tried and the right key is the one
  whose plaintext starts as a vMessage does (``BEGIN:VMSG``).

Where ``sms.vmsg`` sits inside a ColorOS 12+ backup is single-source (FORMATS-CN §2.1), so every
``*.vmsg`` under the backup folder is taken. Decryption needs the ``cryptography`` package (the
optional extra ``sms-audit[coloros]``).
"""

from __future__ import annotations

import hmac
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sms_audit.errors import CorruptArchive, UnsupportedArchive

CONFIG_NAME = "backup_config_new.db"
FIXED_KEY_MATERIAL = b"rTMVTmZYZVMTTEGt-Backup_Restore-"
BLOCK = 16
CONFIG_SEARCH_DEPTH = 5  # an encrypted sms.vmsg given alone: how far up to look for the config
VMSG_SEARCH_DEPTH = 4  # how deep under the backup folder to look for *.vmsg
INSTALL_HINT = (
    "install the optional decryption support: pip install cryptography (the 'coloros' extra of sms-audit)"
)
MAX_SCAN_FILES = 5000  # files looked at when no *.vmsg is there


@dataclass(frozen=True, slots=True)
class BackupKey:
    """One AES key and IV derived from an ``EncryptInfo`` row."""

    key: bytes
    iv: bytes
    row: int


def derive_key(random: str, iv: str) -> tuple[bytes, bytes]:
    """(AES-256 key, CBC IV) from the ``random`` and ``iv`` strings of ``EncryptInfo``."""
    digest = hmac.digest(random.encode("utf-8"), FIXED_KEY_MATERIAL, "sha256")
    key = "".join(f"{b >> 4:x}" for b in digest).encode("ascii")
    return key, iv.encode("utf-8")[:BLOCK]


def find_config(path: Path) -> Path | None:
    """``backup_config_new.db`` in a backup folder, or above an encrypted file inside one."""
    start = path if path.is_dir() else path.parent
    for depth, folder in enumerate([start, *start.parents]):
        if depth > CONFIG_SEARCH_DEPTH:
            break
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def backup_keys(config: Path) -> list[BackupKey]:
    """Every usable key in ``EncryptInfo``, newest row first. Raises CorruptArchive."""
    from sms_audit.importers._sqlite import open_readonly, table_names

    with open_readonly(config) as conn:
        if "EncryptInfo" not in table_names(conn):
            raise CorruptArchive(
                f"{CONFIG_NAME} has no EncryptInfo table: not a ColorOS 12+ backup this tool knows",
                path=str(config),
            )
        try:
            rows = conn.execute("SELECT _id, random, iv FROM EncryptInfo ORDER BY _id DESC").fetchall()
        except sqlite3.DatabaseError as exc:
            raise CorruptArchive(f"cannot read EncryptInfo ({exc})", path=str(config)) from None
    keys = []
    for row_id, random, iv in rows:
        if isinstance(random, str) and isinstance(iv, str | int) and random and len(str(iv)) >= BLOCK:
            key, vector = derive_key(random, str(iv))
            # a damaged row may hold text, a blob or a float (inf) where the row number belongs
            keys.append(BackupKey(key, vector, row_id if isinstance(row_id, int) else 0))
    if not keys:
        raise CorruptArchive(f"{CONFIG_NAME} holds no key material (EncryptInfo is empty)", path=str(config))
    return keys


def backup_files(folder: Path) -> list[Path]:
    """Every file under a backup folder (up to :data:`VMSG_SEARCH_DEPTH` levels), sorted."""
    found: list[Path] = []

    def walk(directory: Path, depth: int) -> None:
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            return
        for entry in entries:
            if len(found) >= MAX_SCAN_FILES:
                return
            if entry.is_dir() and depth < VMSG_SEARCH_DEPTH:
                walk(entry, depth + 1)
            elif entry.is_file():
                found.append(entry)

    walk(folder, 0)
    return found


def vmsg_files(folder: Path, keys: list[BackupKey] | None, is_vmsg: Callable[[bytes], bool]) -> list[Path]:
    """The message files of a backup folder: its ``*.vmsg`` files; when there are none (the file's
    name and place in ColorOS 12+ backups are single-source), every file whose plaintext — as is,
    or decrypted with one of ``keys`` — starts as a vMessage."""
    files = backup_files(folder)
    named = [f for f in files if f.name.lower().endswith(".vmsg")]
    if named:
        return named
    found = []
    for candidate in files:
        if candidate.name == CONFIG_NAME or candidate.name.endswith(("-wal", "-shm", "-journal")):
            continue
        try:
            with open(candidate, "rb") as stream:
                head = stream.read(64)
        except OSError:
            continue
        if is_vmsg(head) or any(is_vmsg(plaintext_head(candidate, key)) for key in keys or ()):
            found.append(candidate)
    return found


def _cipher(key: BackupKey) -> object:
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:
        raise UnsupportedArchive(
            "this ColorOS backup is encrypted and decrypting it needs the 'cryptography' package",
            hint=INSTALL_HINT,
        ) from None
    return Cipher(algorithms.AES(key.key), modes.CBC(key.iv))


def plaintext_head(path: Path, key: BackupKey, size: int = 64) -> bytes:
    """The first bytes of ``path`` decrypted with ``key`` (no padding check), for key selection."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(size - size % BLOCK)
    except OSError:
        return b""
    data = data[: len(data) - len(data) % BLOCK]
    if not data:
        return b""
    decryptor = _cipher(key).decryptor()  # type: ignore[attr-defined]
    return bytes(decryptor.update(data))


def choose_key(path: Path, keys: list[BackupKey], accept: object) -> BackupKey | None:
    """The first key whose plaintext of ``path`` passes ``accept(head: bytes) -> bool``."""
    for key in keys:
        if accept(plaintext_head(path, key)):  # type: ignore[operator]
            return key
    return None


class DecryptionEnded(Exception):
    """The ciphertext ended badly: ``reason`` says how (every whole block before was decrypted)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decrypt_chunks(path: Path, key: BackupKey, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The plaintext of ``path`` in chunks, PKCS#7 padding removed.

    Raises :class:`DecryptionEnded` after handing out every whole decrypted block when the file
    is cut inside a block or its last block has no valid padding (a truncated copy): the text
    before the cut is never held back.
    """
    decryptor = _cipher(key).decryptor()  # type: ignore[attr-defined]
    held = b""  # the last whole block: it carries the padding, so it waits for the end
    total = 0
    with open(path, "rb") as stream:
        while True:
            data = stream.read(chunk_size)
            if not data:
                break
            total += len(data)
            plain = held + bytes(decryptor.update(data))
            cut = len(plain) - len(plain) % BLOCK - BLOCK
            if cut > 0:
                yield plain[:cut]
                plain = plain[cut:]
            held = plain
    if total % BLOCK:
        if held:
            yield held
        raise DecryptionEnded(f"the encrypted file ends inside an AES block ({total} bytes)")
    pad = held[-1] if held else 0
    if not held or not 1 <= pad <= BLOCK or held[-pad:] != bytes([pad]) * pad:
        if held:
            yield held
        raise DecryptionEnded("the encrypted file's last block has no valid padding (cut short?)")
    if held[:-pad]:
        yield held[:-pad]
