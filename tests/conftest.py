"""Shared fixtures: an isolated environment for every test, paths to samples and sample data."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Speed is measured in bench/, never in tests: no per-example deadline (a loaded CI machine would
# turn it into flaky failures), and slow data generation is no health problem.
settings.register_profile("sms-audit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("sms-audit")

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "sample_data"
SHARED_SAMPLES = REPO.parent / "shared" / "samples"
SHARED_EVAL = REPO.parent / "shared" / "eval"
SHARED_CORPORA = REPO.parent / "shared" / "corpora"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point config/data dirs at a temp dir and drop SMS_AUDIT_* and COLUMNS so no test sees the
    user's setup."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("SMS_AUDIT_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("COLUMNS", raising=False)  # tables at natural width unless a test sets it
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def shared_samples() -> Path:
    """``../shared/samples``; tests that need real files skip when it is absent."""
    if not SHARED_SAMPLES.is_dir():
        pytest.skip("../shared/samples is not available")
    return SHARED_SAMPLES


@pytest.fixture
def shared_corpora() -> Path:
    """``../shared/corpora``; tests that read the public corpora skip when it is absent."""
    if not SHARED_CORPORA.is_dir():
        pytest.skip("../shared/corpora is not available")
    return SHARED_CORPORA


@pytest.fixture
def shared_dev() -> Path:
    """``../shared/eval/dev.tsv``; tests that score on it skip when it is absent."""
    path = SHARED_EVAL / "dev.tsv"
    if not path.exists():
        pytest.skip("../shared/eval/dev.tsv is not available")
    return path


def sample_path(*parts: str) -> Path:
    """A file under ../shared/samples, or skip the test."""
    path = SHARED_SAMPLES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"sample {path} is not available")
    return path


GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/* from the current output"
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with ``tests/golden/NAME``; ``pytest --update-golden`` rewrites the file."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if request.config.getoption("--update-golden"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}: run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8"), (
            f"output differs from {path} (pytest --update-golden)"
        )

    return check
