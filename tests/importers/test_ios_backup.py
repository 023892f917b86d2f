"""iOS backup folders: sms.db lookup (Manifest.db, hash paths, flat), device facts, encryption."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import tempfile
import types
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sms_audit.errors import CorruptArchive, UnsupportedArchive
from sms_audit.importers import ios_backup
from sms_audit.importers.base import ReadOptions, ReadStats
from sms_audit.model import Direction, Message, Service, make_message_id
from tests.conftest import sample_path
from tests.fixtures_ios import (
    SMS_DB_FILE_ID,
    make_backup,
    make_encrypted_backup,
    make_ios16_db,
)

HAS_DECRYPT = importlib.util.find_spec("iphone_backup_decrypt") is not None


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _read(path: Path, passphrase: str | None = None, **options: object) -> tuple[list[Message], ReadStats]:
    stats = ReadStats()
    opts = ReadOptions(get_passphrase=(lambda _prompt: passphrase), **options)  # type: ignore[arg-type]
    return list(ios_backup.read(path, opts, stats)), stats


@pytest.fixture
def sms_db(tmp_path: Path) -> Path:
    return make_ios16_db(tmp_path / "sms.db")


def test_read_real_mvt_ios14_backup() -> None:
    folder = sample_path("iosbackup-mvt-ios14")
    before = _hashes(folder)
    assert ios_backup.sniff(folder) is True
    messages, stats = _read(folder)
    assert _hashes(folder) == before
    assert stats.details == {
        "device_name": "iPhone",
        "ios_version": "14.3",
        "ios_build": "18C66",
        "device_model": "iPhone9,3",
        "backup_date": "2021-12-03T19:33:13",
        "ios_backup_encrypted": "no",
        "ios_backup_sms_db": "Manifest.db",
        "ios_message_columns": "74",
        "ios_tapbacks": "0",
        "ios_group_events": "0",
        "ios_system": "0",
        "ios_empty": "0",
        "ios_spam": "0",
        "sha256": "2d7c6e9a504cd54ea8a389ebf27285d06d4a3043c35ec06e458c5a571eaf48d0",
        "sha256_of": "sms.db in the backup folder",
        "sms_db_size": "28672",
    }
    assert messages == [
        Message(
            message_id=make_message_id("ios", "FDC6EC94-9D5A-434D-90FA-BF170E10A311"),
            source_format="ios_backup",
            source_file=str(folder),
            source_record="FDC6EC94-9D5A-434D-90FA-BF170E10A311",
            thread_key="apple",
            direction=Direction.IN,
            address_raw="apple",
            address="apple",
            sender_kind="alphanumeric",
            timestamp=datetime(2019, 8, 29, 23, 13, 30, 539788, tzinfo=UTC),
            body="Please click here https://badbadbad.example.org/",
            service=Service.SMS,
        )
    ]


def test_read_manifest_layout_device_facts(tmp_path: Path, sms_db: Path) -> None:
    folder = make_backup(tmp_path / "backup", sms_db)
    before = _hashes(folder)
    messages, stats = _read(folder)
    assert _hashes(folder) == before
    assert len(messages) == 8
    assert messages[0].source_format == "ios_backup"
    assert messages[0].source_file == str(folder)
    assert {
        k: stats.details[k]
        for k in (
            "device_name",
            "ios_version",
            "ios_build",
            "device_model",
            "backup_date",
            "ios_backup_sms_db",
            "ios_client_version",
        )
    } == {
        "device_name": "Test iPhone",
        "ios_version": "17.4.1",
        "ios_build": "21E236",
        "device_model": "iPhone14,5",
        "backup_date": "2024-04-20T09:00:00",
        "ios_backup_sms_db": "Manifest.db",
        "ios_client_version": "17008",
    }
    assert (stats.read, stats.excluded, stats.skipped) == (8, 4, 1)


def test_read_manifest_points_to_another_file_id(tmp_path: Path, sms_db: Path) -> None:
    other = "0123456789abcdef0123456789abcdef01234567"
    folder = make_backup(tmp_path / "backup", sms_db, sms_file_id=other)
    messages, stats = _read(folder)
    assert len(messages) == 8
    assert stats.details["ios_backup_sms_db"] == "Manifest.db"


def test_read_falls_back_to_hash_path(tmp_path: Path, sms_db: Path) -> None:
    folder = make_backup(tmp_path / "backup", sms_db, layout="hash")
    messages, stats = _read(folder)
    assert len(messages) == 8
    assert stats.details["ios_backup_sms_db"] == "hash path"


def test_read_flat_pre_ios10_layout(tmp_path: Path, sms_db: Path) -> None:
    folder = make_backup(tmp_path / "backup", sms_db, layout="flat")
    assert (folder / SMS_DB_FILE_ID).is_file()
    assert ios_backup.sniff(folder) is True
    messages, _ = _read(folder)
    assert len(messages) == 8


def test_read_backup_without_sms_db(tmp_path: Path) -> None:
    folder = make_backup(tmp_path / "backup", None)
    with pytest.raises(UnsupportedArchive) as info:
        _read(folder)
    assert str(info.value) == f"{folder}: the backup holds no Messages database (Library/SMS/sms.db)"
    assert info.value.hint is not None and "iCloud" in info.value.hint


def test_sniff_rejects_plain_folders_and_files(tmp_path: Path, sms_db: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert ios_backup.sniff(tmp_path / "empty") is False
    assert ios_backup.sniff(sms_db) is False


# --- encrypted backups -------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_DECRYPT, reason="the ios-encrypted extra is not installed")
def test_read_encrypted_backup_real_decryption(
    tmp_path: Path, sms_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_encrypted_backup(tmp_path / "enc", sms_db, "correct horse")
    before = _hashes(folder)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return "correct horse"

    stats = ReadStats()
    messages = list(ios_backup.read(folder, ReadOptions(get_passphrase=ask), stats))
    assert len(messages) == 8
    assert messages[0].body == "ACME: 20% off this weekend! Reply STOP to opt out"
    assert messages[0].source_file == str(folder)
    assert stats.details["ios_backup_encrypted"] == "yes"
    assert stats.details["ios_backup_sms_db"] == "Manifest.db (decrypted)"
    assert stats.details["device_name"] == "Test iPhone"
    assert prompts == ["passphrase for the encrypted iOS backup enc: "]
    assert _hashes(folder) == before
    assert list(scratch.iterdir()) == []  # decrypted sms.db and Manifest.db are gone
    assert capsys.readouterr().out == ""


@pytest.mark.skipif(not HAS_DECRYPT, reason="the ios-encrypted extra is not installed")
def test_read_encrypted_backup_wrong_passphrase(tmp_path: Path, sms_db: Path) -> None:
    folder = make_encrypted_backup(tmp_path / "enc", sms_db, "correct horse")
    with pytest.raises(CorruptArchive) as info:
        _read(folder, passphrase="battery staple")
    assert str(info.value) == f"{folder}: wrong passphrase for the encrypted iOS backup"
    assert info.value.hint == "check SMS_AUDIT_BACKUP_PASSWORD (or what you typed)"


def test_read_encrypted_backup_without_passphrase(
    tmp_path: Path, sms_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "iphone_backup_decrypt", types.ModuleType("iphone_backup_decrypt"))
    folder = make_backup(tmp_path / "enc", sms_db, manifest_plist={"IsEncrypted": True})
    for options in (ReadOptions(), ReadOptions(get_passphrase=lambda _prompt: None)):
        with pytest.raises(UnsupportedArchive) as info:
            list(ios_backup.read(folder, options, ReadStats()))
        assert str(info.value) == f"{folder}: this iOS backup is encrypted and no passphrase was given"
        assert info.value.hint == (
            "set SMS_AUDIT_BACKUP_PASSWORD, or run sms-audit in a terminal to be asked for it"
        )


def test_read_encrypted_backup_extra_missing(
    tmp_path: Path, sms_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "iphone_backup_decrypt", None)  # makes the import raise ImportError
    folder = make_backup(tmp_path / "enc", sms_db, manifest_plist={"IsEncrypted": True})
    asked: list[str] = []
    with pytest.raises(UnsupportedArchive) as info:
        list(
            ios_backup.read(
                folder, ReadOptions(get_passphrase=lambda p: asked.append(p) or "pw"), ReadStats()
            )
        )
    assert str(info.value) == (
        f"{folder}: this iOS backup is encrypted and the decryption extra is not installed"
    )
    assert info.value.hint == "install the optional extra: pip install 'sms-audit[ios-encrypted]'"
    assert asked == []  # no point asking for a passphrase we cannot use


def test_read_encrypted_backup_fake_library_wrong_passphrase(
    tmp_path: Path, sms_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = types.ModuleType("iphone_backup_decrypt")

    class IncorrectPassphraseError(ValueError):
        pass

    class EncryptedBackup:
        def __init__(self, *, backup_directory: str, passphrase: str) -> None:
            self.passphrase = passphrase

        def test_decryption(self) -> bool:
            raise IncorrectPassphraseError("Failed to decrypt keys: incorrect passphrase?")

    fake.IncorrectPassphraseError = IncorrectPassphraseError  # type: ignore[attr-defined]
    fake.EncryptedBackup = EncryptedBackup  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "iphone_backup_decrypt", fake)
    folder = make_backup(tmp_path / "enc", sms_db, manifest_plist={"IsEncrypted": True})
    with pytest.raises(CorruptArchive, match="wrong passphrase for the encrypted iOS backup$"):
        _read(folder, passphrase="nope")


def test_read_unencrypted_manifest_plist_is_read_directly(tmp_path: Path, sms_db: Path) -> None:
    folder = make_backup(
        tmp_path / "backup",
        sms_db,
        info={},
        manifest_plist={
            "IsEncrypted": False,
            "Lockdown": {"DeviceName": "Lockdown Name", "ProductVersion": "16.7"},
        },
    )
    messages, stats = _read(folder)
    assert len(messages) == 8
    assert (stats.details["device_name"], stats.details["ios_version"]) == ("Lockdown Name", "16.7")
    assert stats.details["ios_backup_encrypted"] == "no"
