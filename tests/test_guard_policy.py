"""Policy filter: drop/flag rules, scopes, mute list, and the decisions shown to the user."""

from __future__ import annotations

import pytest

from newsdesk.config import ConfigError, parse_config
from newsdesk.guard.policy import apply_policy, summarize_decisions


def _items() -> list[dict]:
    return [
        {"id": 1, "title": "Casino opens downtown", "text": "A new casino opened.", "section": "Local", "feed_url": "https://a.example/feed", "flags": []},
        {"id": 2, "title": "Council budget passes", "text": "The budget passed 7-2.", "section": "Local", "feed_url": "https://a.example/feed", "flags": []},
        {"id": 3, "title": "Sponsored Content: best phones", "text": "Buy now.", "section": "Tech", "feed_url": "https://b.example/feed", "flags": []},
        {"id": 4, "title": "Occasional rain expected", "text": "Showers in the afternoon.", "section": "Weather", "feed_url": "https://c.example/feed", "flags": []},
        {"id": 5, "title": "Promo codes for readers", "text": "Use PROMO2026.", "section": "Tech", "feed_url": "https://b.example/feed", "flags": []},
    ]


CONFIG = """
[briefing]
mute = ["celebrity gossip"]

[[policy]]
name = "no-gambling"
action = "drop"
keywords = ["casino"]

[[policy]]
name = "ads"
action = "drop"
keywords = ["sponsored content"]
sections = ["Tech"]

[[policy]]
name = "promo"
action = "flag"
regex = ["(?i)\\\\bpromo\\\\w*"]
feeds = ["https://b.example/feed"]
"""


def test_drop_and_flag_with_reasons() -> None:
    cfg = parse_config(CONFIG)
    kept, decisions = apply_policy(_items(), cfg)
    assert [i["id"] for i in kept] == [2, 4, 5]
    by_id = {d.item_id: d for d in decisions}
    assert by_id[1].rule == "no-gambling" and by_id[1].action == "drop" and "casino" in by_id[1].reason
    assert by_id[3].rule == "ads" and "sponsored content" in by_id[3].reason.lower()
    assert by_id[5].action == "flag" and by_id[5].reason.startswith("regex")
    # flagged item stays and carries the policy flag; whole-word match spares "Occasional"
    assert kept[2]["flags"] == ["policy:promo"]
    assert 4 not in by_id
    assert summarize_decisions(decisions) == {"no-gambling/drop": 1, "ads/drop": 1, "promo/flag": 1}
    assert by_id[1].to_dict()["title"] == "Casino opens downtown"


def test_scope_limits_rules() -> None:
    cfg = parse_config(CONFIG)
    items = _items()
    items[2]["section"] = "Local"  # sponsored content outside the Tech scope is kept
    items[4]["feed_url"] = "https://other.example/feed"
    kept, decisions = apply_policy(items, cfg)
    assert {i["id"] for i in kept} == {2, 3, 4, 5}
    assert [d.item_id for d in decisions] == [1]


def test_mute_list_is_a_drop_rule() -> None:
    cfg = parse_config('[briefing]\nmute = ["celebrity gossip"]\n')
    items = [{"id": 9, "title": "Weekend roundup", "text": "More CELEBRITY   gossip from the gala."}, {"id": 10, "title": "Celebrity chef opens bakery", "text": ""}]
    kept, decisions = apply_policy(items, cfg)
    assert [i["id"] for i in kept] == [10]
    assert decisions[0].rule == "mute" and decisions[0].action == "drop"


def test_no_rules_keeps_everything() -> None:
    kept, decisions = apply_policy(_items(), parse_config(""))
    assert len(kept) == 5 and decisions == []
    kept, decisions = apply_policy(_items(), None)
    assert len(kept) == 5


def test_invalid_regex_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"policy\[0\]\.regex"):
        parse_config('[[policy]]\nname = "x"\nregex = ["(unclosed"]\n')
