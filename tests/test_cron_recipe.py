"""The README's scheduled-use recipe (contrib/sms-audit-daily), run as cron runs it: an empty
environment, no terminal, no stdin."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE_DATA

SCRIPT = REPO / "contrib" / "sms-audit-daily"
SMS_AUDIT = Path(sys.executable).with_name("sms-audit")


def _cron(home: Path, backups: Path, mail_log: Path) -> subprocess.CompletedProcess[str]:
    fake_mail = home / "fake-mail"
    env = {  # what cron gives a job (plus the recipe's own settings)
        "HOME": str(home),
        "LOGNAME": "me",
        "SHELL": "/bin/sh",
        "PATH": "/usr/bin:/bin",
        "SMS_AUDIT": str(SMS_AUDIT),
        "SMS_BACKUPS": str(backups),
        "SMS_AUDIT_MAIL": str(fake_mail),
        "MAILTO": "me@example.org",
    }
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.skipif(not SMS_AUDIT.exists(), reason="sms-audit is not installed next to this Python")
def test_cron_recipe_mails_findings_once_and_failures_apart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    backups = home / "backups" / "sms"
    backups.mkdir(parents=True)
    shutil.copy(SAMPLE_DATA / "android-sms-backup.xml", backups / "sms-20251130.xml")
    mail_log = home / "mail.log"
    fake = home / "fake-mail"
    fake.write_text(f'#!/bin/sh\n{{ echo "ARGS: $*"; cat; echo "--- end"; }} >> "{mail_log}"\n')
    fake.chmod(0o755)

    first = _cron(home, backups, mail_log)
    assert first.returncode == 1, first.stderr  # new violations found and mailed
    sent = mail_log.read_text()
    assert sent.startswith("ARGS: -s sms-audit: new violations me@example.org\n# sms-audit report")
    assert "优选商城" in sent
    assert (home / ".local" / "share" / "sms-audit" / "archive.sqlite").exists()

    mail_log.unlink()
    second = _cron(home, backups, mail_log)
    assert second.returncode == 0, second.stderr  # nothing new: nothing mailed
    assert not mail_log.exists()

    (backups / "sms-20251201.xml").write_text("<smses count='1'><sms address='1' date=")
    third = _cron(home, backups, mail_log)
    assert third.returncode == 3
    sent = mail_log.read_text()
    assert sent.startswith("ARGS: -s sms-audit: import failed (exit 3) me@example.org\n")
    assert "sms-20251201.xml: read 0 records; file is truncated" in sent
    assert "# sms-audit report" not in sent  # a failed import never mails a stale report
    assert not [p for p in os.listdir(home) if p.startswith("tmp")]
