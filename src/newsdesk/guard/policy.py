"""Policy filter: user rules that drop or flag items before a briefing is built.

Sits between selection and summarisation in the briefing builder. Rules come
from ``[[policy]]`` tables in the config (``PolicyRule``: name, action
drop|flag, keywords, regex, optional sections / feeds scope) plus the simple
``briefing.mute`` keyword list (a drop rule named ``mute``).

Every match produces a ``PolicyDecision`` naming the item, the rule, the action
and the reason (the keyword or pattern that matched) so the reader can see what
was filtered and why: the briefing builder stores them in ``stats.filtered``;
``newsdesk stats`` and the eval report show them.

Keywords match whole words, case-insensitively, in the title and text; a
keyword may be a phrase ("sponsored content"). Regexes are searched as given
(use ``(?i)`` for case-insensitive).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence, TypeVar

from newsdesk.config import Config, PolicyRule

T = TypeVar("T")

POLICY_FLAG_PREFIX = "policy:"


@dataclass(frozen=True)
class PolicyDecision:
    item_id: Any
    title: str
    rule: str
    action: str  # drop | flag
    reason: str  # e.g. 'keyword "casino"' or 'regex /\\bpromo\\b/'

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _get(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, dict):
        return item.get(name, default)
    return getattr(item, name, default)


def _keyword_re(keyword: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in keyword.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@dataclass
class _Compiled:
    rule: PolicyRule
    keywords: list[tuple[str, re.Pattern[str]]]
    regex: list[tuple[str, re.Pattern[str]]]

    def in_scope(self, item: Any) -> bool:
        if self.rule.sections and _get(item, "section") not in self.rule.sections:
            return False
        if self.rule.feeds:
            names = {_get(item, "feed_url"), _get(item, "feed_title"), _get(item, "feed")}
            if not names & set(self.rule.feeds):
                return False
        return True

    def match(self, text: str) -> str | None:
        for kw, rx in self.keywords:
            if rx.search(text):
                return f'keyword "{kw}"'
        for src, rx in self.regex:
            if rx.search(text):
                return f"regex /{src}/"
        return None


def compile_rules(config: Config | None) -> list[_Compiled]:
    """The config's policy rules, plus ``briefing.mute`` as a drop rule named ``mute``."""
    rules: list[PolicyRule] = list(config.policy) if config else []
    if config and config.briefing.mute:
        rules.append(PolicyRule(name="mute", action="drop", keywords=list(config.briefing.mute)))
    return [
        _Compiled(
            r,
            [(k, _keyword_re(k)) for k in r.keywords if k.strip()],
            [(x, re.compile(x)) for x in r.regex],
        )
        for r in rules
    ]


def apply_policy(items: Iterable[T], config: Config | None) -> tuple[list[T], list[PolicyDecision]]:
    """Split ``items`` into those kept and the decisions taken.

    A ``drop`` match removes the item (first matching drop rule wins). A ``flag``
    match keeps it and adds ``policy:<rule>`` to its ``flags`` list (when it
    has one). Items are ``Item`` objects, ``ItemRecord``s or dicts.
    """
    compiled = compile_rules(config)
    kept: list[T] = []
    decisions: list[PolicyDecision] = []
    for item in items:
        title = _get(item, "title", "") or ""
        text = f"{title}\n{_get(item, 'text', '') or ''}"
        dropped = False
        item_decisions: list[PolicyDecision] = []
        for c in compiled:
            if not c.in_scope(item):
                continue
            reason = c.match(text)
            if reason is None:
                continue
            d = PolicyDecision(_get(item, "id", _get(item, "guid")), title, c.rule.name, c.rule.action, reason)
            if c.rule.action == "drop":
                item_decisions = [d]  # the drop is what the reader needs to see
                dropped = True
                break
            item_decisions.append(d)
        decisions.extend(item_decisions)
        if dropped:
            continue
        flags = _get(item, "flags")
        if isinstance(flags, list):
            for d in item_decisions:
                tag = POLICY_FLAG_PREFIX + d.rule
                if tag not in flags:
                    flags.append(tag)
        kept.append(item)
    return kept, decisions


def summarize_decisions(decisions: Sequence[PolicyDecision | dict[str, Any]]) -> dict[str, int]:
    """Counts per ``rule/action`` for reports."""
    out: dict[str, int] = {}
    for d in decisions:
        dd = d.to_dict() if isinstance(d, PolicyDecision) else d
        key = f"{dd.get('rule')}/{dd.get('action')}"
        out[key] = out.get(key, 0) + 1
    return out
