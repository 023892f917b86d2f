"""What decides labels, as a hash: cheap enough to check on every command (no numpy, no parsing).

A store keeps the fingerprint its labels were made with; when this one differs (a new version,
a retrained model, an edited user rule file) the store labels everything again, once.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

#: Bumped when the engine's logic changes in a way the model and rule files do not show.
CLASSIFIER_VERSION = "2"
#: The packaged content model and its training manifest, in ``sms_audit/classifier/data/``.
MODEL_FILE = "content-model.bin"
MANIFEST_FILE = "content-model.manifest.json"


def packaged_model_bytes() -> bytes | None:
    """The packaged model file, or None when the package was built without it."""
    try:
        return (resources.files("sms_audit.classifier") / "data" / MODEL_FILE).read_bytes()
    except OSError:
        return None


def files_fingerprint(user_dir: Path | None) -> str:
    """A hash of what decides labels, from files' bytes alone (nothing is parsed): the packaged
    content model, the packaged rules and ``user_dir``'s ``*.toml``, and the classifier version,
    so a store can tell at once whether its labels are current (16 hex digits)."""
    from sms_audit import __version__

    digest = hashlib.sha256(f"sms-audit {__version__} classifier {CLASSIFIER_VERSION}".encode())
    digest.update(hashlib.sha256(packaged_model_bytes() or b"").digest())
    package = resources.files("sms_audit") / "rules"
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    if user_dir is not None and user_dir.is_dir():
        for path in sorted(user_dir.glob("*.toml")):
            try:
                digest.update(b"user/" + path.name.encode() + b"\0" + path.read_bytes())
            except OSError:
                digest.update(b"unreadable/" + path.name.encode())
    return digest.hexdigest()[:16]
