"""Config: the starter file, and errors that name the key path or the line."""

from __future__ import annotations

import pytest

from newsdesk.config import STARTER_SECTIONS, parse_config, parse_duration, starter_config_text
from newsdesk.errors import ConfigError
from newsdesk.home import resolve_home

REFERENCE_ORDER = [
    ("Weather", "🧾"), ("International News", "🌍"), ("Canadian News", "🍁"), ("U.S. Top Stories", "🇺🇸"),
    ("Artificial Intelligence", "🧠"), ("Digital Strategy", "💻"), ("Public Health", "🏥"), ("Science", "🔬"),
    ("Government & Policy", "🧾"), ("Enterprise Architecture & IT Governance", "🏛️"), ("AI & Emerging Tech", "🤖"),
    ("Cybersecurity & Privacy", "🔒"), ("University AI", "🎓"), ("Corporate AI", "🏢"),
]


def test_starter_config_has_the_reference_sections_in_order() -> None:
    cfg = parse_config(starter_config_text())
    assert [(s.name, s.emoji) for s in cfg.ordered_sections()] == REFERENCE_ORDER
    assert cfg.weather.location == "Pembroke, Ontario" and cfg.weather.url.startswith("https://weather.gc.ca/")
    with_feeds = {f.section for f in cfg.feeds}
    assert with_feeds == {name for name, _e, feeds in STARTER_SECTIONS if feeds}
    assert all(f.url.startswith("https://") for f in cfg.feeds)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[briefing]\nper_section_cap = 'five'\n", "briefing.per_section_cap"),
        ("[briefing]\ntimezone = 'Mars/Olympus'\n", "briefing.timezone"),
        ("[briefing]\nlookback = 'soon'\n", "briefing.lookback"),
        ("[[sections]]\nname = 'A'\n[[feeds]]\nurl = 'x'\nsection = 'B'\n", "feeds[0].section"),
        ("[[feeds]]\nsection = 'A'\n", "feeds[0].url"),
        ("[fetch]\ntimeuot = 3\n", "fetch.timeuot"),
        ("[[policy]]\nname = 'p'\nregex = ['(']\n", "policy[0].regex"),
        ("[briefing\nx = 1\n", "line 1"),
        ("a = 1\na = 2\n", "line 2"),
    ],
)
def test_errors_name_the_key_path_or_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(text, "my.toml")
    msg = str(e.value)
    assert msg.startswith("my.toml: ") and expected in msg and "\n" not in msg


def test_durations() -> None:
    assert parse_duration("36h").total_seconds() == 36 * 3600
    assert parse_duration("2d").days == 2
    with pytest.raises(ValueError):
        parse_duration("2 days")


def test_home_precedence(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path / "env"))
    assert resolve_home(tmp_path / "flag").root == (tmp_path / "flag").resolve()
    assert resolve_home(None).root == (tmp_path / "env").resolve()
    monkeypatch.delenv("NEWSDESK_HOME")
    assert resolve_home(None).root.name == "newsdesk"
