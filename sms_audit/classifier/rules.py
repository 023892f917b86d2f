"""Classifier rules as data: the packaged TOML rule files, user overrides, and their validation."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from sms_audit.errors import UsageError
from sms_audit.schema import LABELS

#: Secondary flags a rule can raise instead of (or as well as) a label. ``code`` and ``not-code``
#: tell the content model that a text carries a one-time code (docs/classifier.md).
FLAGS: tuple[str, ...] = ("optout-instruction", "resubscribe", "trap", "code", "not-code")
#: A rule label that decides nothing itself: it stops lower-priority rules and leaves the label to
#: the content model (a refund notice is not a confirmation, but what is it? The model says).
CONTENT_LABEL = "content"
#: Scripts a rule's ``lang`` restricts it to: "en" rules read text without Han characters, "zh"
#: rules text with them; any other value (or none) reads every text.
SCRIPT_LANGS: tuple[str, ...] = ("en", "zh")
#: Where the packaged rule files live (their rules are not "user rules").
PACKAGED_ORIGIN = "sms_audit/rules/"
DIRECTIONS: tuple[str, ...] = ("in", "out", "any")
#: Context conditions a rule may require as an alternative to its ``senders``.
CONTEXTS: tuple[str, ...] = ("marketing-sender",)
#: Sender tags usable in ``senders``/``not_senders`` besides the SenderKind values.
SENDER_GROUPS: tuple[str, ...] = (
    "business",
    "personal",
    "cn-mobile",
    "intl-personal",
    "dlt-promotional",
    "dlt-service",
)
KEYWORD_GROUP = "keyword"

_FIELDS = {
    "id",
    "label",
    "flag",
    "lang",
    "pattern",
    "direction",
    "priority",
    "senders",
    "not_senders",
    "context",
    "promotional",
    "enabled",
    "description",
    "source",
}
# Constructs that RE2 rejects or that make pandas fall back to per-row Python `re` (STYLE.md §4).
_SLOW_OR_UNSUPPORTED = re.compile(r"\\[dDwWsSbB]|\(\?[=!<]|\(\?P=|\\[1-9]|\(\?[aiLmsux-]+[):]")


@dataclass(frozen=True, slots=True)
class Rule:
    """One classification rule; see docs/rules.md for the field meanings.

    ``pattern`` is the RE2 pattern matched; a rule file may give it as a list of ``alternatives``,
    which are joined into one alternation.
    """

    id: str
    pattern: str
    label: str | None = None
    flag: str | None = None
    lang: str = ""
    direction: str = "any"
    priority: int = 50
    senders: tuple[str, ...] = ()
    not_senders: tuple[str, ...] = ()
    context: str | None = None
    promotional: bool = False
    enabled: bool = True
    description: str = ""
    source: str = ""
    origin: str = ""  # the file the rule (or its last override) came from
    alternatives: tuple[str, ...] = ()

    def applies_to(self, direction: str) -> bool:
        return self.direction in ("any", direction)

    @property
    def is_user_rule(self) -> bool:
        """Added or changed by a file in the user's rules directory."""
        return not self.origin.startswith(PACKAGED_ORIGIN)

    @property
    def script(self) -> str:
        """ "en", "zh", or "" (any text): what ``lang`` restricts the rule to."""
        return self.lang if self.lang in SCRIPT_LANGS else ""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """An ordered, validated collection of rules plus brand aliases (alias key -> brand key)."""

    rules: tuple[Rule, ...]
    brand_aliases: Mapping[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def enabled(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)

    def by_id(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def load_rules(user_dir: Path | None = None) -> RuleSet:
    """Load the packaged rule files, then every ``*.toml`` in ``user_dir`` (sorted by name).

    A user rule whose ``id`` matches an existing rule overrides the given fields of that rule
    (``enabled = false`` disables it); a new ``id`` adds a rule. Raises UsageError naming the file
    for a malformed user file.
    """
    rules: dict[str, Rule] = {}
    aliases: dict[str, str] = {}
    files: list[str] = []
    package_dir = resources.files("sms_audit") / "rules"
    for entry in sorted(package_dir.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            _merge_file(entry.read_text(encoding="utf-8"), f"sms_audit/rules/{entry.name}", rules, aliases)
            files.append(f"sms_audit/rules/{entry.name}")
    if user_dir is not None and Path(user_dir).is_dir():
        for path in sorted(Path(user_dir).glob("*.toml")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read rules file: {exc}", path=str(path)) from None
            _merge_file(text, str(path), rules, aliases)
            files.append(str(path))
    return RuleSet(tuple(rules.values()), aliases, tuple(files))


def rules_from_toml(text: str, origin: str = "<string>", base: RuleSet | None = None) -> RuleSet:
    """Parse rule-file text on top of ``base`` (empty when None); used by tests and tools."""
    rules = {r.id: r for r in base.rules} if base else {}
    aliases = dict(base.brand_aliases) if base else {}
    _merge_file(text, origin, rules, aliases)
    return RuleSet(tuple(rules.values()), aliases, ((*base.files, origin) if base else (origin,)))


def _merge_file(text: str, origin: str, rules: dict[str, Rule], aliases: dict[str, str]) -> None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"not valid TOML: {exc}", path=origin, hint="see docs/rules.md for the rules file format"
        ) from None
    unknown = set(data) - {"rule", "lang", "version", "brand_aliases"}
    if unknown:
        raise UsageError(
            f"unknown top-level key(s): {', '.join(sorted(unknown))}",
            path=origin,
            hint="a rules file has [[rule]] tables and an optional [brand_aliases] table",
        )
    file_lang = str(data.get("lang", ""))
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise UsageError("'rule' must be an array of tables ([[rule]])", path=origin)
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise UsageError(f"rule #{number} is not a table", path=origin)
        rule_id = entry.get("id")
        if not isinstance(rule_id, str) or not rule_id.strip():
            raise UsageError(f"rule #{number} has no 'id'", path=origin)
        where = f"rule {rule_id!r}"
        bad = set(entry) - _FIELDS
        if bad:
            raise UsageError(
                f"{where}: unknown field(s) {', '.join(sorted(bad))}",
                path=origin,
                hint=f"allowed fields: {', '.join(sorted(_FIELDS))}",
            )
        previous = rules.get(rule_id)
        rules[rule_id] = _build_rule(entry, previous, file_lang, origin, where)
    raw_aliases = data.get("brand_aliases", {})
    if not isinstance(raw_aliases, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw_aliases.items()
    ):
        raise UsageError("[brand_aliases] must map strings to strings", path=origin)
    from sms_audit.classifier.brands import brand_key

    for alias, target in raw_aliases.items():
        aliases[brand_key(alias)] = brand_key(target)


def _build_rule(
    entry: dict[str, Any], previous: Rule | None, file_lang: str, origin: str, where: str
) -> Rule:
    def text(name: str) -> str | None:
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{where}: '{name}' must be a string", path=origin)
        return value

    def names(name: str) -> tuple[str, ...] | None:
        value = entry.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{where}: '{name}' must be a list of strings", path=origin)
        return tuple(value)

    if previous is None:
        if "pattern" not in entry:
            raise UsageError(f"{where}: missing 'pattern'", path=origin)
        rule = Rule(id=entry["id"], pattern="", lang=file_lang, origin=origin)
    else:
        rule = replace(previous, origin=origin)
    updates: dict[str, Any] = {}
    if "pattern" in entry:
        alternatives = _alternatives(entry["pattern"], origin, where)
        updates["alternatives"] = alternatives
        updates["pattern"] = (
            alternatives[0] if len(alternatives) == 1 else "|".join(f"(?:{a})" for a in alternatives)
        )
    for name in ("label", "flag", "lang", "direction", "context", "description", "source"):
        value = text(name)
        if value is not None:
            updates[name] = value or None if name in ("label", "flag", "context") else value
    for name in ("senders", "not_senders"):
        value_names = names(name)
        if value_names is not None:
            updates[name] = value_names
    if "priority" in entry:
        if not isinstance(entry["priority"], int) or isinstance(entry["priority"], bool):
            raise UsageError(f"{where}: 'priority' must be an integer", path=origin)
        updates["priority"] = entry["priority"]
    for name in ("enabled", "promotional"):
        if name in entry:
            if not isinstance(entry[name], bool):
                raise UsageError(f"{where}: '{name}' must be true or false", path=origin)
            updates[name] = entry[name]
    if previous is None and "promotional" not in entry:
        # Content, not the sender, makes a message promotional: sender-conditioned priors (any
        # signed 106-port text, an Indian -P header) label marketing but do not flag the content.
        updates["promotional"] = (
            entry.get("label") == "marketing" and not entry.get("flag") and not entry.get("senders")
        )
    rule = replace(rule, **updates)
    _validate(rule, origin, where)
    return rule


def _alternatives(value: object, origin: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UsageError(f"{where}: 'pattern' must be a string or a list of strings", path=origin)


def _validate(rule: Rule, origin: str, where: str) -> None:
    if rule.label is None and rule.flag is None:
        raise UsageError(f"{where}: needs a 'label' or a 'flag'", path=origin)
    if rule.label is not None and rule.label not in (*LABELS, CONTENT_LABEL):
        raise UsageError(
            f"{where}: unknown label {rule.label!r}",
            path=origin,
            hint=f"labels: {', '.join(LABELS)}, or {CONTENT_LABEL} (leave it to the content model)",
        )
    if rule.flag is not None and rule.flag not in FLAGS:
        raise UsageError(
            f"{where}: unknown flag {rule.flag!r}", path=origin, hint=f"flags: {', '.join(FLAGS)}"
        )
    if rule.direction not in DIRECTIONS:
        raise UsageError(f"{where}: direction must be one of {', '.join(DIRECTIONS)}", path=origin)
    if rule.context is not None and rule.context not in CONTEXTS:
        raise UsageError(
            f"{where}: unknown context {rule.context!r}", path=origin, hint=f"contexts: {', '.join(CONTEXTS)}"
        )
    known = known_sender_tags()
    for tag in (*rule.senders, *rule.not_senders):
        if tag not in known:
            raise UsageError(
                f"{where}: unknown sender kind {tag!r}",
                path=origin,
                hint=f"use one of: {', '.join(sorted(known))}",
            )
    _validate_pattern(rule, origin, where)


def known_sender_tags() -> frozenset[str]:
    from sms_audit.normalize import SenderKind

    return frozenset({k.value for k in SenderKind} | set(SENDER_GROUPS))


def _validate_pattern(rule: Rule, origin: str, where: str) -> None:
    pattern = rule.pattern
    if not pattern.strip() or not all(a.strip() for a in rule.alternatives or (pattern,)):
        raise UsageError(f"{where}: empty pattern", path=origin)
    if rule.flag == "optout-instruction" and len(rule.alternatives) > 1:
        raise UsageError(f"{where}: an optout-instruction pattern must be one string", path=origin)
    slow = _SLOW_OR_UNSUPPORTED.search(pattern)
    if slow:
        raise UsageError(
            f"{where}: pattern uses {slow.group(0)!r}, which RE2/vectorized matching does not support",
            path=origin,
            hint="write [0-9] for \\d, [ ] or [ \\t] for \\s, (?:^|[^A-Za-z]) for \\b; "
            "no lookaround, backreferences or inline flags (matching ignores case)",
        )
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"{where}: invalid regex: {exc}", path=origin) from None
    names = set(compiled.groupindex)
    if rule.flag == "optout-instruction":
        if compiled.groups != 1 or names != {KEYWORD_GROUP}:
            raise UsageError(
                f"{where}: an optout-instruction pattern needs exactly one group, "
                f"(?P<{KEYWORD_GROUP}>...), around the keyword",
                path=origin,
            )
    elif compiled.groups:
        raise UsageError(f"{where}: pattern has capturing groups; use (?:...)", path=origin)
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array(["probe"]), pattern, ignore_case=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise UsageError(f"{where}: pattern not supported by RE2: {exc}", path=origin) from None
