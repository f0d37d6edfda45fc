"""Rising topics: terms whose count today is anomalous against the last two weeks.

Pipeline position: ``build.py`` calls :func:`rising_topics_for` after choosing
the briefing window; the result is the briefing's ``rising_topics`` line.

Method (robust z-score, one series per term):

* A *term* is a content word (lower-cased, >= 3 letters, not a stop word or a
  number) or a bigram of two adjacent content words, taken from item titles
  and the first ``LEAD_WORDS`` words of their text. A term counts once per
  item (document frequency), so one long article cannot make a trend.
* For every term the daily counts of the ``BASELINE_DAYS`` (14) days before
  the briefing day form the baseline. With ``m`` = median and
  ``MAD`` = median absolute deviation of that series, the score of today's
  count ``x`` is ``z = (x - m) / (1.4826 * max(MAD, MAD_FLOOR))``. 1.4826 makes
  the MAD a consistent estimate of the standard deviation for normal data;
  the floor stops a flat series (MAD = 0) from turning +1 into infinity.
* A term is rising when ``x >= MIN_COUNT`` and ``z >= Z_THRESHOLD``. A bigram
  absorbs its two words when they are not rising on their own account
  (same count). The top ``N`` by score are returned.
* Nothing is reported until the baseline has at least ``MIN_HISTORY_DAYS``
  days with any items: on a fresh install every word would look new.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from newsdesk.guard.grounding import STOPWORDS

BASELINE_DAYS = 14
MIN_COUNT = 3
Z_THRESHOLD = 3.5
MAD_FLOOR = 0.5
MIN_HISTORY_DAYS = 3
TOP_N = 5
LEAD_WORDS = 40

_TOKEN = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", re.UNICODE)
_EXTRA_STOP = frozenset(
    """also could would first last year years week weeks day days today yesterday tomorrow time times
    people many much more most made make makes like just still even well back after over under since
    monday tuesday wednesday thursday friday saturday sunday news report reports update updates via get
    told tell says said year's it's that's can't won't don't doesn't isn't""".split()
)


@dataclass(frozen=True)
class RisingTopic:
    term: str
    count: int
    baseline_median: float
    score: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def terms(text: str) -> set[str]:
    """Unigrams and bigrams of content words in ``text`` (a set: document frequency)."""
    words = [w.casefold().replace("’", "'") for w in _TOKEN.findall(text)]
    out: set[str] = set()
    prev: str | None = None
    for w in words:
        ok = len(w) >= 3 and w not in STOPWORDS and w not in _EXTRA_STOP
        if ok:
            out.add(w)
            if prev:
                out.add(f"{prev} {w}")
            prev = w
        else:
            prev = None
    return out


def item_terms(title: str, text: str) -> set[str]:
    lead = " ".join((text or "").split()[:LEAD_WORDS])
    return terms(title or "") | terms(lead)


def robust_z(x: float, history: Sequence[float], *, mad_floor: float = MAD_FLOOR) -> tuple[float, float]:
    """``(z, median)`` of ``x`` against ``history`` using the median and MAD."""
    if not history:
        return 0.0, 0.0
    med = statistics.median(history)
    mad = statistics.median(abs(h - med) for h in history)
    return (x - med) / (1.4826 * max(mad, mad_floor)), med


def rising_terms(
    today: Counter[str],
    history: Sequence[Counter[str]],
    *,
    min_count: int = MIN_COUNT,
    z_threshold: float = Z_THRESHOLD,
    mad_floor: float = MAD_FLOOR,
    top_n: int = TOP_N,
) -> list[RisingTopic]:
    """Terms of ``today`` whose count is anomalous against the daily ``history`` counters."""
    found: dict[str, RisingTopic] = {}
    for term, x in today.items():
        if x < min_count:
            continue
        series = [h.get(term, 0) for h in history]
        z, med = robust_z(x, series, mad_floor=mad_floor)
        if z >= z_threshold:
            found[term] = RisingTopic(term, int(x), float(med), round(float(z), 2))
    # a bigram absorbs its words when they rose only because of it
    for term, t in list(found.items()):
        if " " in term:
            for w in term.split():
                u = found.get(w)
                if u is not None and u.count <= t.count:
                    found.pop(w, None)
    ranked = sorted(found.values(), key=lambda t: (-t.score, -t.count, t.term))
    return ranked[:top_n]


def daily_counts(docs: Iterable[tuple[datetime, str, str]], tz: ZoneInfo) -> dict[date, Counter[str]]:
    """``{local date: Counter(term -> number of items)}`` from ``(timestamp, title, text)`` triples."""
    out: dict[date, Counter[str]] = {}
    for ts, title, text in docs:
        day = ts.astimezone(tz).date()
        out.setdefault(day, Counter()).update(item_terms(title, text))
    return out


def rising_topics_for(
    docs: Iterable[tuple[datetime, str, str]],
    day: date,
    tz: ZoneInfo,
    *,
    baseline_days: int = BASELINE_DAYS,
    min_history_days: int = MIN_HISTORY_DAYS,
    top_n: int = TOP_N,
) -> list[RisingTopic]:
    """Rising topics of ``day`` given every item of the baseline period and that day."""
    counts = daily_counts(docs, tz)
    history = [counts.get(day - timedelta(days=k), Counter()) for k in range(baseline_days, 0, -1)]
    if sum(1 for h in history if h) < min_history_days:
        return []
    return rising_terms(counts.get(day, Counter()), history, top_n=top_n)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Start (inclusive) and end (exclusive) of a local calendar day, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end
