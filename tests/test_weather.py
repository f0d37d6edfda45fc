"""Weather: EC city feed and Open-Meteo parsing into structured fields, compact lines."""

from __future__ import annotations

import json
import re
from itertools import count

import pytest

from newsdesk.brief.weather import (
    Weather,
    parse_environment_canada,
    parse_open_meteo,
    parse_period,
    weather_from_items,
    weather_lines,
)
from newsdesk.demo.data import DATA_DIR
from newsdesk.models import Item, iso

DEMO_EC = DATA_DIR / "feeds" / "weather-pembroke-ec.xml"
OPEN_METEO = DATA_DIR / "weather" / "open-meteo-sample.json"

# A differently shaped EC feed: two warnings in effect, wind chill, calm wind, no AQHI
# line at all, no categories on the forecast entries, "Tonight", "steady near", "zero".
OTHER_EC = """<?xml version='1.0' encoding='utf-8'?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-ca">
<title>Barrhaven Test Town - Weather - Environment Canada</title>
<link rel="self" href="https://weather.example.gc.ca/rss/city/on-999_e.xml" type="application/atom+xml"/>
<updated>2026-01-14T22:05:00Z</updated>
<id>tag:weather.gc.ca,2013-04-16:20260114220500</id>
<entry>
<title>SNOWFALL WARNING IN EFFECT, Barrhaven Test Town</title>
<link type="text/html" href="https://weather.example.gc.ca/warnings/report_e.html?on99"/>
<updated>2026-01-14T22:05:00Z</updated>
<category term="Warnings and Watches"/>
<summary type="html">Snowfall with total amounts of 15 to 25 cm is expected.</summary>
<id>tag:weather.gc.ca,2013-04-16:on-999_w1:20260114220500</id>
</entry>
<entry>
<title>EXTREME COLD WARNING IN EFFECT, Barrhaven Test Town</title>
<updated>2026-01-14T22:05:00Z</updated>
<category term="Warnings and Watches"/>
<summary type="html">Wind chill values near minus 38 are expected overnight.</summary>
<id>tag:weather.gc.ca,2013-04-16:on-999_w2:20260114220500</id>
</entry>
<entry>
<title>Current Conditions: -21.7&#xB0;C</title>
<updated>2026-01-14T22:00:00Z</updated>
<category term="Current Conditions"/>
<summary type="html"><![CDATA[<b>Observed at:</b> Test Airport 5:00 PM EST Wednesday 14 January 2026 <br/>
<b>Condition:</b> Mainly Clear <br/>
<b>Temperature:</b> -21.7&deg;C <br/>
<b>Pressure / Tendency:</b> 103.4 kPa rising<br/>
<b>Humidity:</b> 72 %<br/>
<b>Wind Chill:</b> -31 <br/>
<b>Dewpoint:</b> -25.3&deg;C <br/>
<b>Wind:</b> calm<br/>
]]></summary>
<id>tag:weather.gc.ca,2013-04-16:on-999_cc:20260114220000</id>
</entry>
<entry>
<title>Tonight: Clear. Low minus 29.</title>
<updated>2026-01-14T21:30:00Z</updated>
<summary type="html">Clear. Low minus 29. Wind chill minus 38 overnight. Forecast issued 4:30 PM EST Wednesday 14 January 2026</summary>
<id>tag:weather.gc.ca,2013-04-16:on-999_fc0:20260114213000</id>
</entry>
<entry>
<title>Thursday: Sunny. High minus 15.</title>
<updated>2026-01-14T21:30:00Z</updated>
<summary type="html">Sunny. High minus 15. Forecast issued 4:30 PM EST Wednesday 14 January 2026</summary>
<id>tag:weather.gc.ca,2013-04-16:on-999_fc1:20260114213000</id>
</entry>
<entry>
<title>Thursday night: Cloudy. Temperature steady near minus 12.</title>
<updated>2026-01-14T21:30:00Z</updated>
<summary type="html">Cloudy. Temperature steady near minus 12. Forecast issued 4:30 PM EST Wednesday 14 January 2026</summary>
<id>tag:weather.gc.ca,2013-04-16:on-999_fc2:20260114213000</id>
</entry>
<entry>
<title>Friday: Snow. High zero. POP 90%</title>
<updated>2026-01-14T21:30:00Z</updated>
<summary type="html">Snow. Amount 10 cm. High zero. Forecast issued 4:30 PM EST Wednesday 14 January 2026</summary>
<id>tag:weather.gc.ca,2013-04-16:on-999_fc3:20260114213000</id>
</entry>
</feed>
"""

ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);?", re.I)


def _assert_clean(lines: list[str]) -> None:
    assert lines
    assert len(lines) == len(set(lines)), "a line is repeated"
    for line in lines:
        assert not ENTITY.search(line), f"entity leaked: {line!r}"
        assert "deg" not in line.lower(), line
        clauses = [c.strip().lower() for c in re.split(r"[·,]", line.split(":", 1)[-1]) if c.strip()]
        assert len(clauses) == len(set(clauses)), f"repeated clause in {line!r}"


def test_demo_ec_feed_current_conditions() -> None:
    w = parse_environment_canada(DEMO_EC.read_bytes())
    assert w.provider == "environment-canada"
    assert w.location == "Pembroke"
    assert w.warnings == []  # "No watches or warnings in effect"
    c = w.current
    assert c is not None
    assert c.temperature_c == pytest.approx(-3.4)
    assert c.condition == "Light Snow"
    assert c.pressure_kpa == pytest.approx(101.2) and c.tendency == "falling"
    assert c.humidity_pct == 91
    assert c.dewpoint_c == pytest.approx(-4.6)
    assert c.wind_chill == -9 and c.humidex is None
    assert c.wind == "WNW 17 km/h gust 30 km/h"
    assert c.aqhi == "2"
    assert w.observed_at and "Petawawa" in w.observed_at and "&" not in w.observed_at
    assert w.issued_at and w.issued_at.startswith("5:00 AM EST Saturday")


def test_demo_ec_feed_periods() -> None:
    w = parse_environment_canada(DEMO_EC.read_text(encoding="utf-8"))
    names = [p.name for p in w.periods]
    assert names[:4] == ["Saturday", "Saturday night", "Sunday", "Sunday night"]
    assert len(names) >= 6
    by = {p.name: p for p in w.periods}
    assert (by["Saturday"].high, by["Saturday"].low, by["Saturday"].pop) == (-1, None, 60)
    assert by["Saturday night"].low == -8
    assert by["Sunday"].high == 2  # "High plus 2."
    assert by["Monday"].high == 0  # "High zero."
    assert by["Sunday"].summary == "Sunny"
    assert "Forecast issued" not in by["Sunday"].text
    json.dumps(w.to_dict())  # JSON-ready


def test_other_ec_shape_warnings_windchill_missing_aqhi() -> None:
    w = parse_environment_canada(OTHER_EC)
    assert w.location == "Barrhaven Test Town"
    assert w.warnings == ["Snowfall warning in effect", "Extreme cold warning in effect"]
    c = w.current
    assert c is not None
    assert c.temperature_c == pytest.approx(-21.7)
    assert c.wind_chill == -31
    assert c.wind == "calm"
    assert c.aqhi is None
    assert c.humidex is None
    by = {p.name: p for p in w.periods}
    assert by["Tonight"].low == -29
    assert by["Thursday"].high == -15
    assert by["Thursday night"].low == -12 and by["Thursday night"].high is None
    assert by["Friday"].high == 0 and by["Friday"].pop == 90
    lines = weather_lines(w)
    assert lines[0] == "⚠️ Snowfall warning in effect"
    assert lines[1] == "⚠️ Extreme cold warning in effect"
    assert lines[2].startswith("Now -21.7 °C")
    assert "wind calm" in lines[2] and "AQHI" not in lines[2] and "km/h" not in lines[2]
    _assert_clean(lines)


@pytest.mark.parametrize(
    ("title", "high", "low"),
    [
        ("Monday: Sunny. High 17.", 17, None),
        ("Monday night: Clear. Low plus 3.", None, 3),
        ("Tuesday night: Cloudy. Low minus 12.", None, -12),
        ("Wednesday: Flurries. High zero.", 0, None),
        ("Wednesday night: Snow. Low zero.", None, 0),
        ("Thursday: Rain. High plus 1. POP 80%", 1, None),
    ],
)
def test_plus_minus_zero(title: str, high: int | None, low: int | None) -> None:
    p = parse_period(title)
    assert p is not None
    assert (p.high, p.low) == (high, low)


def test_period_line_format() -> None:
    w = Weather(location="X", provider="environment-canada",
                periods=[parse_period("Monday: Sunny. High 17."), parse_period("Monday night: Clear. Low plus 3.")])
    assert weather_lines(w) == ["Monday: Sunny, high 17", "Monday night: Clear, low +3"]


def test_non_forecast_title_is_not_a_period() -> None:
    assert parse_period("Current Conditions: 5.0°C") is None
    assert parse_period("No watches or warnings in effect, Pembroke") is None


def test_demo_lines_are_clean() -> None:
    lines = weather_lines(parse_environment_canada(DEMO_EC.read_bytes()))
    _assert_clean(lines)
    assert lines[0].startswith("Now -3.4 °C, light snow")
    assert "AQHI 2" in lines[0]
    assert lines[1] == "Saturday: Flurries, high -1, POP 60 %"
    assert len(weather_lines(parse_environment_canada(DEMO_EC.read_bytes()), max_periods=2)) == 3


def test_open_meteo_sample() -> None:
    data = json.loads(OPEN_METEO.read_text(encoding="utf-8"))
    w = parse_open_meteo(data, "Pembroke, Ontario")
    assert w.provider == "open-meteo" and w.location == "Pembroke, Ontario"
    c = w.current
    assert c is not None
    assert c.temperature_c == data["current"]["temperature_2m"]
    assert c.pressure_kpa == pytest.approx(data["current"]["pressure_msl"] / 10, abs=0.05)
    assert c.condition == "Light snow"  # WMO 71
    assert c.wind is not None and c.wind.startswith("WNW ")  # 292 degrees
    assert len(w.periods) == len(data["daily"]["time"])
    assert w.periods[0].name == "Saturday"  # 2026-11-21
    assert w.periods[1].name == "Sunday"
    assert w.periods[1].summary == "Clear"  # WMO 0
    assert w.periods[0].high == round(data["daily"]["temperature_2m_max"][0])
    assert w.periods[0].low == round(data["daily"]["temperature_2m_min"][0])
    assert w.periods[0].pop == data["daily"]["precipitation_probability_max"][0]
    _assert_clean(weather_lines(w))
    json.dumps(w.to_dict())


def test_open_meteo_calm_and_missing_blocks() -> None:
    w = parse_open_meteo({"current": {"temperature_2m": 1.5, "wind_speed_10m": 0.2, "weather_code": 45}}, "Here")
    assert w.current is not None and w.current.wind == "calm" and w.current.condition == "Fog"
    assert w.periods == []
    assert parse_open_meteo({}, "Nowhere").current is None


# --------------------------------------------------------------------------- stored items

_ids = count(1)


def _items_from_feed(xml: str, *, stamp: str) -> list[Item]:
    """Stored-item stand-ins built with the real collect parser (title + raw_html)."""
    from newsdesk.collect.parse import parse_feed

    parsed = parse_feed(xml.encode("utf-8"), "https://weather.example.gc.ca/rss/city/on-121_e.xml")
    out = []
    for r in parsed.entries:
        out.append(Item(
            id=next(_ids), feed_id=1, guid=r.guid + stamp, url=r.url, canonical_url=r.canonical_url,
            title=r.title, author=r.author, published=iso(r.published), raw_html=r.raw_html,
            content_html=r.content_html, text=r.text, content_hash=r.content_hash, flags=[],
            first_seen="2026-11-21T11:05:00Z", updated_at="2026-11-21T11:05:00Z",
            feed_title=parsed.title, feed_url="https://weather.example.gc.ca/rss/city/on-121_e.xml",
            section="Weather",
        ))
    return out


def test_weather_from_items_uses_newest_set() -> None:
    new = _items_from_feed(DEMO_EC.read_text(encoding="utf-8"), stamp="")
    old_xml = (
        DEMO_EC.read_text(encoding="utf-8")
        .replace("2026-11-21T1", "2026-11-20T1")
        .replace("-3.4", "4.9")
        .replace("No watches or warnings in effect, Pembroke", "FREEZING RAIN WARNING IN EFFECT, Pembroke")
        .replace("High minus 1.", "High plus 5.")
    )
    old = _items_from_feed(old_xml, stamp=":old")
    # stored order is arbitrary: mix old and new, reversed
    w = weather_from_items(list(reversed(old + new)))
    assert w is not None
    assert w.location == "Pembroke"
    assert w.current is not None and w.current.temperature_c == pytest.approx(-3.4)
    assert w.warnings == []
    assert [p.name for p in w.periods][:3] == ["Saturday", "Saturday night", "Sunday"]
    assert len(w.periods) == 7
    assert w.periods[0].high == -1
    assert w.current.aqhi == "2" and w.current.wind_chill == -9
    direct = parse_environment_canada(DEMO_EC.read_bytes())
    assert weather_lines(w) == weather_lines(direct)

    w_old = weather_from_items(old)
    assert w_old is not None and w_old.warnings == ["Freezing rain warning in effect"]
    assert w_old.periods[0].high == 5


def test_weather_from_items_rejects_non_weather() -> None:
    assert weather_from_items([]) is None
    item = Item(id=1, feed_id=1, guid="g", url=None, canonical_url=None, title="Council approves plan",
                author=None, published=None, raw_html="<p>x</p>", content_html=None, text="x",
                content_hash="", flags=[], first_seen="", updated_at="")
    assert weather_from_items([item]) is None


def test_ended_warnings_are_dropped_and_place_stripped() -> None:
    xml = OTHER_EC.replace("EXTREME COLD WARNING IN EFFECT, Barrhaven Test Town",
                           "FREEZING DRIZZLE ADVISORY ENDED, Barrhaven Test Town")
    xml = xml.replace("SNOWFALL WARNING IN EFFECT, Barrhaven Test Town", "SNOWFALL WARNING IN EFFECT, Elsewhere Village")
    w = parse_environment_canada(xml)
    assert w.warnings == ["Snowfall warning in effect"]
