"""File facts shared by the importers, the store and the evidence pack (no dependency on either)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, hex; read in chunks (flat memory). Raises OSError."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def path_text(path: str | Path) -> str:
    """``path`` as text that is valid UTF-8, for the store and for output: a file name whose bytes
    are not UTF-8 (a GBK name unpacked by ``unzip``, held by Python as surrogate escapes) shows the
    bytes it cannot decode as ``\\xNN``: ``small\\xffname.xml``. Valid names are unchanged."""
    import os

    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text
