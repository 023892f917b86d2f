"""iTunes/Finder iOS backup folders: find sms.db (via Manifest.db), decrypt encrypted backups."""

from __future__ import annotations

import contextlib
import io
import os
import plistlib
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sms_audit.errors import CorruptArchive, UnsupportedArchive
from sms_audit.importers import ios_sms_db
from sms_audit.importers._sqlite import is_sqlite, open_readonly, table_names
from sms_audit.importers.base import ReadOptions, ReadStats, build_messages, read_head
from sms_audit.model import Message, Record
from sms_audit.output import visible

NAME = "ios_backup"
FOLDER = True  # a backup folder is one archive: never split into its files
DESCRIPTION = "iOS backup folder (iTunes/Finder, also encrypted)"

#: sha1("HomeDomain-Library/SMS/sms.db"): the fileID of sms.db in every backup (MVT SMS_BACKUP_IDS).
SMS_DB_FILE_ID = "3d0d7e5fb2ce288813306e4d4636395e047a3d28"
_SMS_DOMAIN, _SMS_PATH = "HomeDomain", "Library/SMS/sms.db"
PASSWORD_ENV = "SMS_AUDIT_BACKUP_PASSWORD"
_EXTRA_HINT = "install the optional extra: pip install 'sms-audit[ios-encrypted]'"


def sniff(path: Path) -> bool:
    """A backup folder has Manifest.db / Manifest.plist (iOS 10+) or Manifest.mbdb (iOS <= 9)."""
    if not path.is_dir():
        return False
    if is_sqlite(path / "Manifest.db") or read_head(path / "Manifest.mbdb", 4) == b"mbdb":
        return True
    if _plist_dict(path / "Manifest.plist"):  # a stray empty Manifest.plist makes no backup
        return True
    return (path / "Info.plist").is_file() and _hashed_candidates(path) != []


def _plist_dict(path: Path) -> bool:
    try:
        with open(path, "rb") as stream:
            return isinstance(plistlib.load(stream), dict)
    except Exception:  # noqa: BLE001 - any unreadable plist simply is no marker
        return False


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Read the Messages database of a backup folder (decrypting it first when encrypted).

    Device facts from Info.plist/Manifest.plist go to ``stats.details``. Raises UnsupportedArchive
    when the backup holds no sms.db or the encrypted-backup extra/passphrase is missing, and
    CorruptArchive for a wrong passphrase.
    """
    manifest = _load_plist(path / "Manifest.plist", stats)
    _record_device(_load_plist(path / "Info.plist", stats), manifest, stats)
    if manifest.get("IsEncrypted") is True:
        stats.details["ios_backup_encrypted"] = "yes"
        _check_keybag(manifest, path)
        yield from _read_encrypted(path, options, stats)
        return
    stats.details["ios_backup_encrypted"] = "no"
    db_path = _find_sms_db(path, stats)
    _record_hash(db_path, stats, "sms.db in the backup folder")
    yield from ios_sms_db.read_database(db_path, options, stats, source_file=str(path))


def _load_plist(path: Path, stats: ReadStats) -> dict[str, Any]:
    if not path.is_file():
        return {}  # iosbackup-mvt-ios14 has no Manifest.plist: treat it as unencrypted
    try:
        with open(path, "rb") as stream:
            value = plistlib.load(stream)
    except Exception as exc:  # noqa: BLE001 - plistlib raises many types on a malformed plist
        stats.warnings.append(
            f"{path.name} is unreadable ({exc or type(exc).__name__}); device details are missing"
        )
        return {}
    return value if isinstance(value, dict) else {}


# Info.plist: {"Device Name": "iPhone", "Product Version": "14.3", "Build Version": "18C66",
#              "Product Type": "iPhone9,3", "Last Backup Date": datetime(...), ...}
# Manifest.plist: {"IsEncrypted": True, "Lockdown": {"DeviceName", "ProductVersion", ...}, "Date", ...}
def _record_device(info: dict[str, Any], manifest: dict[str, Any], stats: ReadStats) -> None:
    raw_lockdown = manifest.get("Lockdown")
    lockdown: dict[str, Any] = raw_lockdown if isinstance(raw_lockdown, dict) else {}
    facts = {
        "device_name": info.get("Device Name") or lockdown.get("DeviceName"),
        "ios_version": info.get("Product Version") or lockdown.get("ProductVersion"),
        "ios_build": info.get("Build Version") or lockdown.get("BuildVersion"),
        "device_model": info.get("Product Type") or lockdown.get("ProductType"),
        "backup_date": info.get("Last Backup Date") or manifest.get("Date"),
    }
    for key, value in facts.items():
        if isinstance(value, datetime):
            stats.details[key] = value.isoformat()
        elif value:
            stats.details[key] = str(value)


def _hashed_candidates(path: Path, file_id: str = SMS_DB_FILE_ID) -> list[Path]:
    # iOS 10+: <backup>/3d/3d0d7e5f…; iOS <= 9 ("flat"): <backup>/3d0d7e5f…
    return [p for p in (path / file_id[:2] / file_id, path / file_id) if p.is_file()]


def _find_sms_db(path: Path, stats: ReadStats) -> Path:
    """Manifest.db first (the id can change, bugcharmer 2015), then the well-known hash paths."""
    manifest_db = path / "Manifest.db"
    if is_sqlite(manifest_db):
        try:
            with open_readonly(manifest_db) as conn:
                if "Files" in table_names(conn):
                    # Files(fileID, domain, relativePath, flags, file): flags 1 = a regular file
                    for (file_id,) in conn.execute(
                        "SELECT fileID FROM Files WHERE domain = ? AND relativePath = ? "
                        "ORDER BY flags = 1 DESC",
                        (_SMS_DOMAIN, _SMS_PATH),
                    ):
                        if isinstance(file_id, str) and len(file_id) == 40 and file_id.isalnum():
                            found = _hashed_candidates(path, file_id.lower())
                            if found:
                                stats.details["ios_backup_sms_db"] = "Manifest.db"
                                return found[0]
        except (CorruptArchive, sqlite3.DatabaseError) as exc:
            stats.warnings.append(f"Manifest.db is unreadable ({exc}); looking for sms.db by its hash")
    found = _hashed_candidates(path)
    if found:
        stats.details["ios_backup_sms_db"] = "hash path"
        return found[0]
    raise UnsupportedArchive(
        "the backup holds no Messages database (Library/SMS/sms.db)",
        path=str(path),
        hint="is Messages in iCloud turned on? Then the phone keeps no local copy to back up; "
        "otherwise make a new full backup in Finder/iTunes",
    )


# --- encrypted backups ----------------------------------------------------------------------


#: Key-derivation rounds: iPhones write DPIC 10,000,000 (PBKDF2-SHA256, iOS 10.2+) and ITER 10,000.
_MAX_ROUNDS = 20_000_000


def _check_keybag(manifest: dict[str, Any], path: Path) -> None:
    """Refuse a keybag asking for more key-derivation rounds than any iPhone writes: a damaged
    Manifest.plist (one flipped bit in DPIC) would otherwise keep the decryption busy for hours."""
    keybag = manifest.get("BackupKeyBag")
    if not isinstance(keybag, bytes):
        return  # the decryption package says what is missing
    at = 0
    while at + 8 <= len(keybag):  # TLV: 4-byte tag, 4-byte big-endian length, value
        tag, size = keybag[at : at + 4], int.from_bytes(keybag[at + 4 : at + 8], "big")
        rounds = int.from_bytes(keybag[at + 8 : at + 8 + size], "big")
        if tag in (b"ITER", b"DPIC") and size == 4 and rounds > _MAX_ROUNDS:
            raise CorruptArchive(
                f"the backup's keybag asks for {rounds:,} key-derivation rounds ({tag.decode()}); iPhones "
                f"write at most 10,000,000, so Manifest.plist is damaged",
                path=str(path),
                hint="make a new encrypted backup in Finder/iTunes",
            )
        at += 8 + size


def _read_encrypted(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Decrypt sms.db into a private temporary directory, read it, and remove the directory."""
    try:
        import iphone_backup_decrypt  # optional extra: sms-audit[ios-encrypted]
    except ImportError:
        raise UnsupportedArchive(
            "this iOS backup is encrypted and the decryption extra is not installed",
            path=str(path),
            hint=_EXTRA_HINT,
        ) from None
    passphrase = None
    if options.get_passphrase is not None:
        passphrase = options.get_passphrase(
            f"passphrase for the encrypted iOS backup {visible(path.name, keep_newlines=False)}: "
        )
    if not passphrase:
        raise UnsupportedArchive(
            "this iOS backup is encrypted and no passphrase was given",
            path=str(path),
            hint=f"set {PASSWORD_ENV}, or run sms-audit in a terminal to be asked for it",
        )
    tmpdir = tempfile.mkdtemp(prefix="sms-audit-")
    os.chmod(tmpdir, stat.S_IRWXU)
    backup: Any = None
    try:
        out = Path(tmpdir) / "sms.db"
        # The package prints INFO lines on stdout; stdout carries data only, so keep them out.
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                backup = iphone_backup_decrypt.EncryptedBackup(
                    backup_directory=str(path), passphrase=passphrase
                )
                backup.test_decryption()
            except iphone_backup_decrypt.IncorrectPassphraseError:
                raise CorruptArchive(
                    "wrong passphrase for the encrypted iOS backup",
                    path=str(path),
                    hint=f"check {PASSWORD_ENV} (or what you typed)",
                ) from None
            except Exception as exc:  # noqa: BLE001 - the package has no error contract for damaged files
                raise CorruptArchive(f"cannot decrypt the iOS backup ({_why(exc)})", path=str(path)) from None
            try:
                backup.extract_file(
                    relative_path=_SMS_PATH, domain_like=_SMS_DOMAIN, output_filename=str(out)
                )
            except FileNotFoundError:
                raise UnsupportedArchive(
                    "the backup holds no Messages database (Library/SMS/sms.db)", path=str(path)
                ) from None
            except Exception as exc:  # noqa: BLE001 - as above: a damaged manifest or sms.db
                raise CorruptArchive(f"cannot decrypt sms.db ({_why(exc)})", path=str(path)) from None
        stats.details["ios_backup_sms_db"] = "Manifest.db (decrypted)"
        _record_hash(out, stats, "sms.db decrypted from the backup")
        yield from ios_sms_db.read_database(out, options, stats, source_file=str(path))
    finally:
        _discard(backup)
        shutil.rmtree(tmpdir, ignore_errors=True)


def _why(exc: Exception) -> str:
    """What iphone_backup_decrypt said about a damaged keybag, manifest or file, in one line."""
    kind = type(exc)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    text = " ".join(str(exc).split())
    return f"{name}: {text}" if text else name


def _record_hash(db_path: Path, stats: ReadStats, what: str) -> None:
    """A folder has no single hash: the import record gets the SHA-256 of the sms.db read from it."""
    from sms_audit.files import sha256_file

    stats.details["sha256"] = sha256_file(db_path)
    stats.details["sha256_of"] = what
    stats.details["sms_db_size"] = str(db_path.stat().st_size)


def _discard(backup: Any) -> None:
    """Remove the package's own decrypted Manifest.db copy now, not whenever __del__ runs.

    iphone_backup_decrypt 0.11 only cleans up in ``__del__`` and its ``_cleanup`` is not idempotent
    (a second call prints a warning on stdout and raises), so call it once and mark it done.
    """
    if backup is None or not callable(getattr(backup, "_cleanup", None)):
        return
    with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
        backup._cleanup()
    for name in ("_temporary_folder", "_temp_manifest_db_conn"):
        if hasattr(backup, name):
            setattr(backup, name, None)
