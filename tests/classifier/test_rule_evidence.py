"""Every rule pattern alternative is backed by the public corpora or is a documented format fact.

An alternative must match at least 3 distinct messages of ../shared/corpora (as the engine reads
them: digit runs folded, full-width folded, case ignored, in the rule's script), unless its line in
the rule file ends with ``# fact: <source>`` (a keyword-list entry or a code shape with its source).
This keeps the rules from memorising single examples.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from sms_audit.classifier import load_rules
from sms_audit.classifier.corpora import READERS, read_corpus
from sms_audit.classifier.engine import _plain

MIN_MESSAGES = 3


def _rule_files() -> dict[str, str]:
    folder = resources.files("sms_audit") / "rules"
    return {
        f"sms_audit/rules/{e.name}": e.read_text(encoding="utf-8")
        for e in folder.iterdir()
        if e.name.endswith(".toml")
    }


def _is_fact(raw: str, alternative: str) -> bool:
    for line in raw.splitlines():
        if f"'''{alternative}'''" in line:
            return bool(re.search(r"#\s*fact:\s*\S", line))
    raise AssertionError(f"alternative not found verbatim in its rule file: {alternative!r}")


@lru_cache(maxsize=1)
def _corpus_texts(root: Path) -> tuple[Any, Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    from sms_audit.classifier.engine import _zero_digits

    bodies = sorted({row.body for name in READERS for row in read_corpus(root, name)})
    values = pc.utf8_normalize(pa.array(bodies, pa.string()), "NFKC")
    values = pc.unique(_zero_digits(values))
    han = pc.match_substring_regex(values, r"\p{Han}").to_numpy(zero_copy_only=False)
    return values, han


def test_every_alternative_matches_three_corpus_messages_or_is_a_fact(shared_corpora: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    values, han = _corpus_texts(shared_corpora)
    raw = _rule_files()
    weak = []
    for rule in load_rules(None).rules:
        for alternative in rule.alternatives:
            if _is_fact(raw[rule.origin], alternative):
                continue
            texts = values
            if rule.script:
                texts = values.filter(pa.array(han if rule.script == "zh" else ~np.asarray(han)))
            count = (
                pc.sum(pc.match_substring_regex(texts, _plain(alternative), ignore_case=True)).as_py() or 0
            )
            if count < MIN_MESSAGES:
                weak.append(f"{rule.id}: {alternative!r} matches {count} corpus message(s)")
    assert not weak, "\n".join(weak)


def test_fact_comments_name_a_source() -> None:
    for origin, text in _rule_files().items():
        for line in text.splitlines():
            if "# fact:" in line:
                assert len(line.split("# fact:", 1)[1].strip()) >= 8, f"{origin}: {line.strip()[:80]}"


def test_the_check_is_not_vacuous(shared_corpora: Path) -> None:
    import pyarrow.compute as pc

    values, _ = _corpus_texts(shared_corpora)
    assert len(values) > 50_000
    assert pc.sum(pc.match_substring_regex(values, "退订", ignore_case=True)).as_py() > 100
    with pytest.raises(AssertionError):
        _is_fact("pattern = '''x'''", "y")
