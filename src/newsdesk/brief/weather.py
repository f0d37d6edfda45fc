"""Weather for the briefing: parsed into structured fields, never summarised.

Pipeline position: the briefing builder hands the stored items of the Weather
section's feed to :func:`weather_from_items` (or a provider response to
:func:`parse_environment_canada` / :func:`parse_open_meteo`) and renders
:func:`weather_lines`. Numbers are read from the provider's own fields, so the
output can never invent a temperature the way a text summariser did
("Low plus 3.70s"), repeat clauses, or leak ``&deg;``-style entities.

Supported providers:

* Environment Canada city Atom feed (``weather.gc.ca/rss/city/<code>_e.xml``):
  a "Warnings and Watches" entry, a "Current Conditions" entry whose summary is
  ``<b>Label:</b> value<br/>`` pairs, and forecast entries titled
  ``"Monday night: Clear. Low plus 3."``.
* Open-Meteo JSON forecast (``current`` + ``daily`` blocks), WMO weather codes
  mapped to words.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Iterable

import feedparser

try:  # the shared text repair (entities, mojibake) from collect
    from newsdesk.collect.clean import fix_text as _fix_text
except ImportError:  # pragma: no cover - collect not installed
    _fix_text = None


def _fix(s: str | None) -> str:
    if not s:
        return ""
    if _fix_text is not None:
        return _fix_text(s)
    for _ in range(3):
        t = _html.unescape(s)
        if t == s:
            break
        s = t
    return s


# --------------------------------------------------------------------------- model


@dataclass
class Current:
    """Observed conditions. Units: °C, kPa, %; ``wind`` is text ("SSW 10 km/h", "calm")."""

    condition: str | None = None
    temperature_c: float | None = None
    pressure_kpa: float | None = None
    tendency: str | None = None
    humidity_pct: float | None = None
    dewpoint_c: float | None = None
    wind: str | None = None
    wind_chill: float | None = None
    humidex: float | None = None
    aqhi: str | None = None  # as reported: "3", "n/a"; None when the provider has no AQHI
    visibility_km: float | None = None


@dataclass
class Period:
    """One forecast period ("Monday", "Monday night")."""

    name: str
    summary: str = ""  # short condition words, e.g. "Chance of flurries"
    high: int | None = None
    low: int | None = None
    pop: int | None = None  # probability of precipitation, %
    text: str = ""  # the provider's full period text (without the "Forecast issued" trailer)


@dataclass
class Weather:
    location: str
    provider: str
    observed_at: str | None = None
    current: Current | None = None
    periods: list[Period] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source_url: str | None = None
    issued_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (plain types only)."""
        return asdict(self)


# --------------------------------------------------------------------------- number words

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PERIOD_TITLE = re.compile(
    r"^\s*((?:Today|Tonight|This afternoon|This evening|Overnight|"
    + "|".join(_DAY_NAMES)
    + r")(?:\s+night)?)\s*:\s*(.*)$",
    re.I,
)
_TEMP_WORD = r"(?:(plus|minus)\s+(\d+)|(zero)|(-?\d+))"
_HIGH = re.compile(r"\bHigh(?:s)?\s+" + _TEMP_WORD + r"\b", re.I)
_LOW = re.compile(r"\bLow(?:s)?\s+" + _TEMP_WORD + r"\b", re.I)
_STEADY = re.compile(r"\bTemperature\s+steady\s+near\s+" + _TEMP_WORD + r"\b", re.I)
_POP = re.compile(r"\bPOP\s+(\d{1,3})\s*%", re.I)
_POP_TEXT = re.compile(r"\b(\d{1,3})\s+percent\s+chance\b", re.I)
_ISSUED = re.compile(r"\s*Forecast issued\s+(.+?)\s*$", re.I)
_NUM = re.compile(r"[-+−]?\d+(?:\.\d+)?")


def parse_temp_words(m: re.Match[str]) -> int:
    """Value of a :data:`_TEMP_WORD` match: "plus 3" -> 3, "minus 8" -> -8, "zero" -> 0, "17" -> 17."""
    sign, num, zero, plain = m.group(1), m.group(2), m.group(3), m.group(4)
    if zero:
        return 0
    if num is not None:
        return -int(num) if sign.lower() == "minus" else int(num)
    return int(plain)


def _num(text: str | None) -> float | None:
    if not text:
        return None
    m = _NUM.search(text.replace("−", "-"))
    return float(m.group(0)) if m else None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=\.)\s+", text) if s.strip()]


def parse_period(title: str, text: str = "") -> Period | None:
    """Parse an EC forecast title ("Monday night: Clear. Low plus 3.") plus its summary text."""
    m = _PERIOD_TITLE.match(_fix(title))
    if not m:
        return None
    name = m.group(1).strip()
    name = name[0].upper() + name[1:].lower() if name.lower().endswith(" night") else name
    rest = m.group(2).strip()
    text = " ".join(_fix(text).split())
    text = _ISSUED.sub("", text).strip()
    p = Period(name=name, text=text)
    for src in (rest, text):
        if p.high is None and (h := _HIGH.search(src)):
            p.high = parse_temp_words(h)
        if p.low is None and (lo := _LOW.search(src)):
            p.low = parse_temp_words(lo)
        if p.pop is None and (pp := _POP.search(src) or _POP_TEXT.search(src)):
            p.pop = int(pp.group(1))
    if p.high is None and p.low is None and (st := _STEADY.search(rest) or _STEADY.search(text)):
        if "night" in name.lower() or name.lower() in ("tonight", "overnight"):
            p.low = parse_temp_words(st)
        else:
            p.high = parse_temp_words(st)
    words = [
        s.rstrip(".")
        for s in _sentences(rest)
        if not (_HIGH.search(s) or _LOW.search(s) or _POP.search(s) or _STEADY.search(s))
    ]
    p.summary = ". ".join(w for w in words if w)
    return p


# --------------------------------------------------------------------------- Environment Canada

_LABEL = re.compile(r"<b>\s*([^<:]+?)\s*:\s*</b>(.*?)(?=<b>|$)", re.I | re.S)
_TEXT_LABEL = re.compile(
    r"(Observed at|Condition|Temperature|Pressure / Tendency|Pressure|Tendency|Visibility|Humidity|"
    r"Humidex|Wind Chill|Dewpoint|Wind|Air Quality Health Index)\s*:\s*",
    re.I,
)
_ENDED = re.compile(r"\b(?:ended|cancelled|canceled)\b", re.I)
_STATUS_THEN_PLACE = re.compile(r"^(.*?\b(?:in effect|issued|continued|updated))\s*,.*$", re.I)
_NO_WARNINGS = re.compile(r"no\s+(?:watches\s+or\s+warnings|warnings\s+or\s+watches)", re.I)


def _strip_tags(s: str) -> str:
    return " ".join(_fix(re.sub(r"<[^>]+>", " ", s)).split())


def _labelled_fields(body: str) -> dict[str, str]:
    """``{"temperature": "-3.4°C", ...}`` from the Current Conditions summary (HTML or plain text)."""
    out: dict[str, str] = {}
    pairs = _LABEL.findall(body or "")
    if not pairs:  # plain text (e.g. a stored item's text): split on known labels
        text = " ".join(_fix(re.sub(r"<[^>]+>", " ", body or "")).split())
        parts = _TEXT_LABEL.split(text)
        pairs = list(zip(parts[1::2], parts[2::2]))
    for label, value in pairs:
        key = " ".join(label.split()).lower()
        val = _strip_tags(value).strip(" .")
        if key and key not in out:
            out[key] = val
    return out


def _wind_text(value: str | None) -> str | None:
    if not value:
        return None
    v = " ".join(value.split())
    if re.search(r"\bcalm\b", v, re.I):
        return "calm"
    return v


def parse_current(summary_html: str, title: str = "") -> tuple[Current, str | None]:
    """Parse the EC Current Conditions summary into :class:`Current` and the observed-at text."""
    f = _labelled_fields(summary_html)
    cur = Current()
    cur.condition = f.get("condition") or None
    cur.temperature_c = _num(f.get("temperature"))
    if cur.temperature_c is None and title:
        cur.temperature_c = _num(_fix(title).split(":", 1)[-1])
    pt = f.get("pressure / tendency") or f.get("pressure") or ""
    cur.pressure_kpa = _num(pt)
    tend = re.sub(r"^[-+−]?\d+(?:\.\d+)?\s*kPa\s*", "", pt, flags=re.I).strip() or f.get("tendency")
    cur.tendency = tend.lower() if tend else None
    cur.humidity_pct = _num(f.get("humidity"))
    cur.dewpoint_c = _num(f.get("dewpoint"))
    cur.wind = _wind_text(f.get("wind"))
    cur.wind_chill = _num(f.get("wind chill"))
    cur.humidex = _num(f.get("humidex"))
    cur.visibility_km = _num(f.get("visibility"))
    aq = f.get("air quality health index")
    cur.aqhi = (aq.strip().lower() if aq.strip().lower() in ("n/a", "na") else aq.strip()) if aq else None
    if cur.aqhi == "na":
        cur.aqhi = "n/a"
    return cur, (f.get("observed at") or None)


def _warning_text(title: str, location: str | None) -> str | None:
    t = " ".join(_fix(title).split())
    if not t or _NO_WARNINGS.search(t):
        return None
    if _ENDED.search(t):
        return None  # "SNOWFALL WARNING ENDED" is not a warning in effect
    if location:
        t = re.sub(r",\s*" + re.escape(location) + r"\s*$", "", t, flags=re.I)
    t = _STATUS_THEN_PLACE.sub(r"\1", t)  # "... IN EFFECT, Some Town" -> "... IN EFFECT"
    if t.isupper():
        t = t[0] + t[1:].lower()
    return t.strip()


def _kind(title: str, category: str | None = None) -> str:
    c = (category or "").lower()
    if "current" in c:
        return "current"
    if "forecast" in c:
        return "forecast"
    if "warning" in c or "watch" in c:
        return "warning"
    t = _fix(title).strip()
    if t.lower().startswith("current conditions"):
        return "current"
    if _PERIOD_TITLE.match(t):
        return "forecast"
    return "warning"


def _location_from_title(feed_title: str) -> str:
    return feed_title.split(" - ")[0].strip() if feed_title else ""


def _assemble(location: str, source_url: str | None,
              entries: Iterable[tuple[str, str, str | None]]) -> Weather:
    """Build a Weather from (kind, title, body) triples in feed order."""
    w = Weather(location=location, provider="environment-canada", source_url=source_url)
    for kind, title, body in entries:
        if kind == "current":
            w.current, w.observed_at = parse_current(body or "", title)
        elif kind == "forecast":
            p = parse_period(title, body or "")
            if p is not None:
                w.periods.append(p)
                if w.issued_at is None and (m := _ISSUED.search(" ".join(_fix(body or "").split()))):
                    w.issued_at = m.group(1)
        else:
            text = _warning_text(title, location)
            if text and text not in w.warnings:
                w.warnings.append(text)
    return w


def parse_environment_canada(body: bytes | str, *, source_url: str | None = None) -> Weather:
    """Parse an Environment Canada city Atom feed into :class:`Weather`."""
    d = feedparser.parse(body)
    title = d.feed.get("title", "")
    location = _location_from_title(title)
    if not source_url:
        for lk in d.feed.get("links", []) or []:
            if lk.get("rel") == "self":
                source_url = lk.get("href")
    entries = []
    for e in d.entries:
        cat = (e.get("tags") or [{}])[0].get("term") if e.get("tags") else None
        entries.append((_kind(e.get("title", ""), cat), e.get("title", ""), e.get("summary", "")))
    return _assemble(location, source_url, entries)


# --------------------------------------------------------------------------- stored items

_ISSUED_WEEKDAY = re.compile(r"\b(" + "|".join(_DAY_NAMES) + r")\b", re.I)


def _period_key(name: str, issued: str | None) -> tuple[int, int]:
    n = name.lower()
    night = 1 if ("night" in n or n in ("tonight", "overnight", "this evening")) else 0
    base = next((d for d in _DAY_NAMES if n.startswith(d.lower())), None)
    start = None
    if issued and (m := _ISSUED_WEEKDAY.search(issued)):
        start = _DAY_NAMES.index(m.group(1).capitalize())
    if base is None:  # Today / Tonight / This afternoon
        return (0, night)
    if start is None:
        return (_DAY_NAMES.index(base), night)
    return ((_DAY_NAMES.index(base) - start) % 7, night)


def weather_from_items(items: Iterable[Any], *, location: str | None = None) -> Weather | None:
    """Weather from stored :class:`newsdesk.models.Item` rows of an EC city feed.

    Repeated fetches accumulate entries (EC ids carry a timestamp), so only the
    newest set is used: the newest Current Conditions item, the forecast items
    published at the newest forecast time, and the warnings published at the
    newest warnings time. Returns None when no item looks like EC weather.
    """
    items = list(items)
    if not items:
        return None

    def body(it: Any) -> str:
        return getattr(it, "raw_html", None) or getattr(it, "text", "") or ""

    def pub(it: Any) -> str:
        return getattr(it, "published", None) or getattr(it, "first_seen", None) or ""

    groups: dict[str, list[Any]] = {"current": [], "forecast": [], "warning": []}
    for it in items:
        groups[_kind(it.title or "")].append(it)
    if not groups["current"] and not groups["forecast"]:
        return None
    loc = location
    if loc is None:
        for it in groups["warning"]:
            if "," in (it.title or ""):
                loc = it.title.rsplit(",", 1)[1].strip()
                break
    if loc is None:
        loc = next((getattr(i, "feed_title", None) for i in items if getattr(i, "feed_title", None)), "") or ""
        loc = _location_from_title(loc)

    def newest(group: list[Any]) -> list[Any]:
        if not group:
            return []
        top = max(pub(i) for i in group)
        return sorted((i for i in group if pub(i) == top), key=lambda i: getattr(i, "id", 0))

    entries: list[tuple[str, str, str | None]] = []
    warn = newest(groups["warning"])
    entries += [("warning", i.title, body(i)) for i in warn]
    cur = groups["current"]
    if cur:
        top = max(cur, key=lambda i: (pub(i), getattr(i, "id", 0)))
        entries.append(("current", top.title, body(top)))
    fc = newest(groups["forecast"])
    issued = None
    for i in fc:
        if m := _ISSUED.search(" ".join(_fix(body(i)).split())):
            issued = m.group(1)
            break
    fc.sort(key=lambda i: (_period_key(_PERIOD_TITLE.match(_fix(i.title)).group(1), issued), getattr(i, "id", 0)))
    entries += [("forecast", i.title, body(i)) for i in fc]
    feed_url = next((getattr(i, "feed_url", None) for i in items if getattr(i, "feed_url", None)), None)
    return _assemble(loc, feed_url, entries)


# --------------------------------------------------------------------------- Open-Meteo

#: WMO weather interpretation codes (Open-Meteo documentation) -> words.
WMO_CODES: dict[int, str] = {
    0: "Clear", 1: "Mainly clear", 2: "Partly cloudy", 3: "Overcast",
    45: "Fog", 48: "Freezing fog",
    51: "Light drizzle", 53: "Drizzle", 55: "Heavy drizzle",
    56: "Light freezing drizzle", 57: "Freezing drizzle",
    61: "Light rain", 63: "Rain", 65: "Heavy rain",
    66: "Light freezing rain", 67: "Freezing rain",
    71: "Light snow", 73: "Snow", 75: "Heavy snow", 77: "Snow grains",
    80: "Light rain showers", 81: "Rain showers", 82: "Violent rain showers",
    85: "Light snow showers", 86: "Heavy snow showers",
    95: "Thunderstorm", 96: "Thunderstorm with light hail", 99: "Thunderstorm with heavy hail",
}
_COMPASS = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")


def wmo_words(code: Any) -> str:
    try:
        return WMO_CODES.get(int(code), f"Weather code {int(code)}")
    except (TypeError, ValueError):
        return ""


def compass(degrees: float) -> str:
    return _COMPASS[int((degrees % 360) / 22.5 + 0.5) % 16]


def _at(seq: Any, i: int) -> Any:
    try:
        return seq[i]
    except (TypeError, IndexError, KeyError):
        return None


def parse_open_meteo(data: dict, location: str) -> Weather:
    """Parse an Open-Meteo forecast response (``current`` + ``daily``) into :class:`Weather`."""
    cur_d = data.get("current") or {}
    w = Weather(location=location, provider="open-meteo", source_url=data.get("_source_url"))
    if cur_d:
        c = Current()
        c.temperature_c = cur_d.get("temperature_2m")
        c.humidity_pct = cur_d.get("relative_humidity_2m")
        c.dewpoint_c = cur_d.get("dew_point_2m")
        p = cur_d.get("pressure_msl")
        c.pressure_kpa = round(p / 10, 1) if isinstance(p, (int, float)) else None
        speed, direction = cur_d.get("wind_speed_10m"), cur_d.get("wind_direction_10m")
        if isinstance(speed, (int, float)):
            if round(speed) < 1:
                c.wind = "calm"
            else:
                unit = ((data.get("current_units") or {}).get("wind_speed_10m") or "km/h").replace("kmh", "km/h")
                d = f"{compass(direction)} " if isinstance(direction, (int, float)) else ""
                c.wind = f"{d}{round(speed)} {unit}"
        c.condition = wmo_words(cur_d.get("weather_code")) or None
        w.current = c
        w.observed_at = cur_d.get("time")
    daily = data.get("daily") or {}
    times = daily.get("time") or []
    for i, t in enumerate(times):
        try:
            day = date.fromisoformat(str(t)[:10])
        except ValueError:
            continue
        hi, lo = _at(daily.get("temperature_2m_max"), i), _at(daily.get("temperature_2m_min"), i)
        pop = _at(daily.get("precipitation_probability_max"), i)
        words = wmo_words(_at(daily.get("weather_code"), i))
        per = Period(
            name=_DAY_NAMES[day.weekday()],
            summary=words,
            high=round(hi) if isinstance(hi, (int, float)) else None,
            low=round(lo) if isinstance(lo, (int, float)) else None,
            pop=round(pop) if isinstance(pop, (int, float)) else None,
        )
        bits = [f"{words}." if words else ""]
        if per.high is not None:
            bits.append(f"High {per.high}.")
        if per.low is not None:
            bits.append(f"Low {per.low}.")
        if per.pop is not None:
            bits.append(f"Chance of precipitation {per.pop} percent.")
        per.text = " ".join(b for b in bits if b)
        w.periods.append(per)
    return w


# --------------------------------------------------------------------------- rendering


def _fmt_num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def fmt_temp(v: int | float) -> str:
    """Forecast temperature: "0", "-8", "+3" (sign on small positives, as EC writes "plus 3"), "17"."""
    v = round(v)
    if v == 0:
        return "0"
    if 0 < v < 10:
        return f"+{v}"
    return str(v)


def current_line(c: Current) -> str:
    parts: list[str] = []
    head = "Now"
    if c.temperature_c is not None:
        head += f" {_fmt_num(float(c.temperature_c))} °C"
    if c.condition:
        head += f", {c.condition.lower()}"
    parts.append(head)
    if c.wind_chill is not None:
        parts.append(f"wind chill {_fmt_num(float(c.wind_chill))}")
    if c.humidex is not None:
        parts.append(f"humidex {_fmt_num(float(c.humidex))}")
    if c.humidity_pct is not None:
        parts.append(f"humidity {_fmt_num(float(c.humidity_pct))} %")
    if c.wind:
        parts.append(f"wind {c.wind}")
    if c.pressure_kpa is not None:
        parts.append(f"pressure {_fmt_num(float(c.pressure_kpa))} kPa" + (f" {c.tendency}" if c.tendency else ""))
    if c.aqhi:
        parts.append(f"AQHI {c.aqhi}")
    return " · ".join(parts)


def period_line(p: Period) -> str:
    bits: list[str] = []
    if p.summary:
        bits.append(p.summary)
    if p.high is not None:
        bits.append(f"high {fmt_temp(p.high)}")
    if p.low is not None:
        bits.append(f"low {fmt_temp(p.low)}")
    if p.pop is not None and not re.search(rf"\b{p.pop}\s*%", p.summary):
        bits.append(f"POP {p.pop} %")
    return f"{p.name}: " + ", ".join(bits) if bits else p.name


def weather_lines(w: Weather, *, max_periods: int | None = None) -> list[str]:
    """Compact display lines: warnings ("⚠️ ..."), then "Now ...", then one line per period."""
    lines = [f"⚠️ {x}" for x in w.warnings]
    if w.current is not None:
        lines.append(current_line(w.current))
    periods = w.periods if max_periods is None else w.periods[:max_periods]
    lines += [period_line(p) for p in periods]
    out: list[str] = []
    for line in lines:  # never repeat a line; never leak an entity
        line = " ".join(_fix(line).split())
        if line and line not in out:
            out.append(line)
    return out
