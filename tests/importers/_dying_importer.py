"""Importers that fail in the ways a child parser process can (test_parse_process.py)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

from sms_audit.importers.android_xml import read_records as sbr_records
from sms_audit.importers.base import ReadOptions, ReadStats
from sms_audit.model import Record

NAME = "dying"


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """The SB&R records of ``path``; after the first, what the file's name asks for."""
    for n, record in enumerate(sbr_records(path, options, stats)):
        if n == 1:
            if "kill" in path.name:
                os.kill(os.getpid(), signal.SIGKILL)
            if "raise" in path.name:
                raise ValueError("an unexpected fault")
            if "unpicklable" in path.name:
                raise _Unpicklable("held a lock")
        print("stray output the parent must never read")
        yield record


class _Unpicklable(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.lock = __import__("threading").Lock()
