"""Deterministic generated data for the benchmarks (seeded; same bytes every run).

Text is assembled from templates and word lists written for this project; it
reads like plausible local news without being any real article.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path

PLACES = ["Arnprior", "Renfrew", "Petawawa", "Eganville", "Cobden", "Barry's Bay", "Deep River", "Killaloe",
          "Beachburg", "Calabogie", "Westmeath", "Laurentian Hills", "Whitewater", "Horton", "Admaston"]
BODIES = ["town council", "school board", "health unit", "conservation authority", "county", "fire department",
          "library board", "hospital", "police service", "chamber of commerce", "transit commission", "utility"]
TOPICS = ["road repairs", "a new arena", "winter staffing", "water rates", "a bridge inspection", "broadband towers",
          "a housing project", "snow removal", "trail upgrades", "a budget surplus", "bus routes", "a flood study",
          "a wildfire plan", "a vaccine clinic", "a cyber incident", "a solar farm", "the farmers' market", "a hiring freeze"]
VERBS = ["approved", "delayed", "reviewed", "announced", "funded", "rejected", "expanded", "paused", "debated", "audited"]
PEOPLE = ["Mayor Lena Fortier", "Councillor Dev Patel", "Chief Anna Kowalski", "Dr. Samuel Okafor", "Trustee Mei Lin",
          "Director Paul Girard", "Chair Ruth Anderson", "Manager Tom Becker", "Warden Claire Dubois"]
SECTIONS = ["Local", "County", "Health", "Schools", "Business", "Environment", "Transport", "Safety", "Culture",
            "Sports", "Technology", "Opinion"]

SENTENCES = [
    "The {body} in {place} {verb} {topic} on {day}, after a debate that lasted {n} minutes.",
    "{person} said the decision would affect about {big} residents over the next {n} months.",
    "Staff estimated the cost at ${money} million, with {pct} percent covered by provincial grants.",
    "Residents who spoke at the meeting raised concerns about {topic} and the timeline for the work.",
    "A report presented to the {body} found that {pct} percent of respondents supported the plan.",
    "Work is expected to begin in {month} and finish before the end of {year}.",
    "The {body} will hold a public information session in {place} on {day} evening.",
    "{person} noted that similar projects in {place} had run {pct} percent over budget.",
    "Opponents argued that {topic} should wait until a full study is complete.",
    "The vote passed {n} to {m}, with two members absent.",
    "According to the {body}, {big} people used the service last year, up from {big2} the year before.",
    "Questions can be sent to the {body} office until {month} {n}.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]


def sentence(rng: random.Random) -> str:
    t = rng.choice(SENTENCES)
    return t.format(
        body=rng.choice(BODIES), place=rng.choice(PLACES), verb=rng.choice(VERBS), topic=rng.choice(TOPICS),
        day=rng.choice(DAYS), n=rng.randint(3, 90), m=rng.randint(0, 3), person=rng.choice(PEOPLE),
        big=f"{rng.randint(2, 90) * 100:,}", big2=f"{rng.randint(2, 90) * 100:,}", money=f"{rng.randint(5, 400) / 10:.1f}",
        pct=rng.randint(5, 95), month=rng.choice(MONTHS), year=rng.choice([2026, 2027, 2028]),
    )


def article(rng: random.Random, n_sent: int) -> list[str]:
    return [sentence(rng) for _ in range(n_sent)]


def title(rng: random.Random) -> str:
    return f"{rng.choice(PLACES)} {rng.choice(BODIES)} {rng.choice(VERBS)} {rng.choice(TOPICS)}"


def write_feeds(out_dir: Path, *, feeds: int = 60, items: int = 1000, seed: int = 7,
                now: datetime | None = None) -> list[tuple[str, str, Path]]:
    """Write ``feeds`` RSS files holding ``items`` items in all. Returns ``(title, section, path)``."""
    rng = random.Random(seed)
    now = now or datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)
    out_dir.mkdir(parents=True, exist_ok=True)
    per = [items // feeds + (1 if i < items % feeds else 0) for i in range(feeds)]
    result = []
    for f in range(feeds):
        name = f"Bench Feed {f:02d}"
        section = SECTIONS[f % len(SECTIONS)]
        parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{name}</title>'
                 f"<link>https://bench{f:02d}.example/</link><description>generated</description>"]
        for i in range(per[f]):
            sents = article(rng, rng.randint(4, 12))
            # feeds escape HTML, sometimes double-escape punctuation: the cleaner must undo it
            paras = "".join(f"<p>{escape(s).replace(chr(39), '&#8217;')}</p>" for s in sents)
            pub = now - timedelta(minutes=rng.randint(1, 20 * 60))
            parts.append(
                f"<item><title>{escape(title(rng))} ({f}-{i})</title><link>https://bench{f:02d}.example/a/{i}</link>"
                f"<guid>bench-{f}-{i}</guid><pubDate>{format_datetime(pub)}</pubDate>"
                f"<description>{escape(paras)}</description></item>"
            )
        parts.append("</channel></rss>\n")
        p = out_dir / f"feed{f:02d}.xml"
        p.write_text("".join(parts), encoding="utf-8")
        result.append((name, section, p))
    return result


def chunks(n: int, *, seed: int = 11) -> list[str]:
    """``n`` chunk texts of roughly 400-900 characters."""
    rng = random.Random(seed)
    return [" ".join(article(rng, rng.randint(3, 6))) for _ in range(n)]


def queries(n: int, *, seed: int = 13) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        out.append(rng.choice([
            f"what did the {rng.choice(BODIES)} decide about {rng.choice(TOPICS)}",
            f"{rng.choice(TOPICS)} in {rng.choice(PLACES)}",
            f"how much will {rng.choice(TOPICS)} cost",
            f"what did {rng.choice(PEOPLE).split()[-1]} say about {rng.choice(TOPICS)}",
        ]))
    return out
