"""Rising topics on synthetic series (newsdesk.brief.topics)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from newsdesk.brief.topics import rising_terms, rising_topics_for, robust_z, terms


def _hist(series: dict[str, list[int]]) -> list[Counter[str]]:
    days = len(next(iter(series.values())))
    return [Counter({t: s[d] for t, s in series.items()}) for d in range(days)]


def test_flat_series_with_spike_is_detected() -> None:
    hist = _hist({"measles": [1] * 14, "weather": [3] * 14})
    found = rising_terms(Counter({"measles": 9, "weather": 3}), hist)
    assert [t.term for t in found] == ["measles"]
    assert found[0].count == 9 and found[0].baseline_median == 1 and found[0].score > 3.5


def test_steady_high_volume_term_is_not_rising() -> None:
    series = [48, 52, 50, 49, 51, 53, 47, 50, 52, 49, 51, 50, 48, 52]
    hist = _hist({"government": series})
    assert rising_terms(Counter({"government": 53}), hist) == []


def test_noisy_series_without_spike_gives_nothing() -> None:
    rng = random.Random(7)
    terms_ = [f"term{i}" for i in range(40)]
    hist = [Counter({t: rng.randint(0, 8) for t in terms_}) for _ in range(14)]
    today = Counter({t: rng.randint(0, 8) for t in terms_})
    assert rising_terms(today, hist) == []


def test_minimum_count() -> None:
    hist = _hist({"comet": [0] * 14})
    assert rising_terms(Counter({"comet": 2}), hist) == []  # below MIN_COUNT even though z is large
    assert [t.term for t in rising_terms(Counter({"comet": 4}), hist)] == ["comet"]


def test_mad_floor_keeps_flat_series_finite() -> None:
    z, med = robust_z(2, [1] * 14)
    assert med == 1 and 0 < z < 2  # +1 on a flat series is not an anomaly


def test_bigram_absorbs_its_words() -> None:
    hist = _hist({"rail": [0] * 14, "strike": [0] * 14, "rail strike": [0] * 14})
    found = rising_terms(Counter({"rail": 6, "strike": 6, "rail strike": 6}), hist)
    assert [t.term for t in found] == ["rail strike"]


def test_terms_skip_stopwords_and_numbers() -> None:
    t = terms("The 12 ferries of the Island resumed service")
    assert "the" not in t and "12" not in t
    assert {"ferries", "island", "resumed", "service", "island resumed"} <= t


def test_rising_topics_for_needs_history() -> None:
    tz = ZoneInfo("America/Toronto")
    day = date(2026, 11, 21)
    noon = lambda d: datetime(d.year, d.month, d.day, 17, tzinfo=timezone.utc)  # noqa: E731
    today_docs = [(noon(day), f"Volcano alert raised {i}", "Evacuations continue near the volcano.") for i in range(5)]
    assert rising_topics_for(today_docs, day, tz) == []  # fresh install: no baseline, nothing reported
    history = [(noon(day - timedelta(days=k)), f"Council budget vote {k}", "The council met again.")
               for k in range(1, 15)]
    found = rising_topics_for(today_docs + history, day, tz)
    assert any("volcano" in t.term for t in found)
    assert not any("council" in t.term for t in found)
