"""The briefing builder on hand-written stores (newsdesk.brief.build + store.briefings + render)."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from brief_helpers import NOW, add_item, all_text_fields, make_config, mark_all_ok, mark_feed, open_store
from newsdesk.brief.build import build_briefing
from newsdesk.brief.summarize import word_count
from newsdesk.guard.grounding import is_verbatim
from newsdesk.render import briefing_schema, render_html, render_json, render_markdown, validate_briefing
from newsdesk.store.briefings import briefed_hashes, get_briefing, get_story, list_briefings, save_briefing

WORLD_A = "https://a.example/world.xml"
WORLD_B = "https://b.example/world.xml"
TECH = "https://tech.example/feed.xml"
HEALTH = "https://health.example/feed.xml"

SECTIONS = [
    ("Weather", "🧾", []),
    ("World", "🌍", [("Alpha World", WORLD_A), ("Beta World", WORLD_B)]),
    ("Tech", "💻", [("Tech Feed", TECH)]),
    ("Health", "🏥", [("Health Feed", HEALTH)]),
]


def story_texts(b: dict) -> list[str]:
    return [st["title"] for sec in b["sections"] for st in sec["stories"]]


def section(b: dict, name: str) -> dict:
    return next(s for s in b["sections"] if s["name"] == name)


def para(*sentences: str) -> str:
    return " ".join(sentences)


@pytest.fixture
def world(tmp_path: Path):
    cfg = make_config(SECTIONS)
    store = open_store(tmp_path, cfg)
    mark_all_ok(store, cfg)
    ids = {}
    ids["strike"] = add_item(store, WORLD_A, "a1", "Rail strike halts freight in three states", para(
        "A 48-hour strike by rail freight crews began at midnight, halting most cargo trains.",
        "About 1,900 containers are stranded at inland terminals, the operators said.",
        "Unions want a 6.5 per cent raise and limits on single-driver night shifts."), url="https://a.example/strike")
    ids["volcano"] = add_item(store, WORLD_B, "b1", "Volcano alert raised; 900 evacuated", para(
        "Authorities raised the alert level for a volcano on a remote island after a swarm of earthquakes.",
        "About 900 residents were moved to the mainland by ferry overnight."), url="https://b.example/volcano")
    ids["chip"] = add_item(store, TECH, "t1", "Chipmaker opens fab in Quebec", para(
        "A chipmaker opened a packaging plant near Bromont that will employ 600 people.",
        "The plant assembles sensors for cars and medical devices."), url="https://tech.example/chip")
    ids["clinic"] = add_item(store, HEALTH, "h1", "Flu positivity reaches 9.6%", para(
        "Influenza test positivity reached 9.6 per cent last week, three weeks earlier than usual.",
        "The dominant strain is influenza A(H3N2), officials said."), url="https://health.example/flu")
    return cfg, store, ids


def test_ok_sections_sources_and_schema(world) -> None:
    cfg, store, ids = world
    b = build_briefing(store, cfg, now=NOW)
    validate_briefing(b)
    assert [s["name"] for s in b["sections"]] == ["Weather", "World", "Tech", "Health"]
    assert section(b, "World")["status"] == "ok"
    assert len(section(b, "World")["stories"]) == 2
    st = section(b, "Tech")["stories"][0]
    assert st["title"] == "Chipmaker opens fab in Quebec"
    assert st["sources"][0]["feed"] == "Tech Feed" and st["source_count"] == 1
    assert st["url"] == "https://tech.example/chip"
    assert b["stats"]["items_considered"] == 4 and b["stats"]["feeds_failed"] == 0
    assert b["stats"]["faithfulness"] == 1.0


def test_every_summary_sentence_verbatim_in_its_item(world) -> None:
    cfg, store, _ = world
    b = build_briefing(store, cfg, now=NOW)
    n = 0
    for sec in b["sections"]:
        for st in sec["stories"]:
            assert st["summary"] == " ".join(s["text"] for s in st["sentences"])
            for s in st["sentences"]:
                item = store.get_item(s["item_id"])
                assert item is not None and is_verbatim(s["text"], item.text)
                n += 1
    assert n >= 4


def test_failed_feed_reads_feed_unavailable_never_no_updates(world) -> None:
    cfg, store, _ = world
    mark_feed(store, TECH, ok=False, error="HTTP 503 Service Unavailable", status=503)
    b = build_briefing(store, cfg, now=NOW)
    tech = section(b, "Tech")
    assert tech["status"] == "failed"
    assert tech["errors"] == ["Feed unavailable: Tech Feed — HTTP 503 Service Unavailable"]
    md, page = render_markdown(b), render_html(b)
    block = md.split("## 💻 Tech", 1)[1].split("## ", 1)[0]
    assert "Feed unavailable: Tech Feed" in block and "No updates." not in block
    assert "Feed unavailable: Tech Feed" in page
    assert b["stats"]["feeds_failed"] == 1
    assert "⚠️ Morning News Briefing" in md


def test_partial_section_shows_errors_and_other_stories(world) -> None:
    cfg, store, _ = world
    mark_feed(store, WORLD_B, ok=False, error="connection refused")
    b = build_briefing(store, cfg, now=NOW)
    w = section(b, "World")
    assert w["status"] == "partial"
    assert w["errors"] == ["Feed unavailable: Beta World — connection refused"]
    assert "Rail strike halts freight in three states" in [s["title"] for s in w["stories"]]
    # nothing new next time: the error stays, and the section says the other feeds had nothing
    save_briefing(store, b)
    b2 = build_briefing(store, cfg, now=NOW + timedelta(minutes=5))
    w2 = section(b2, "World")
    assert w2["status"] == "partial" and w2["stories"] == [] and w2["errors"]
    assert w2["message"] == "Nothing new from the section's other feeds."
    block = render_markdown(b2).split("## 🌍 World", 1)[1].split("\n## ", 1)[0]
    assert "Feed unavailable: Beta World" in block and "No updates." not in block
    assert "Nothing new from the section" in block


def test_collect_report_decides_health(world) -> None:
    cfg, store, _ = world
    report = {"results": [
        {"url": WORLD_A, "outcome": "ok"}, {"url": WORLD_B, "outcome": "not_modified"},
        {"url": TECH, "outcome": "error", "error": f"{TECH}: HTTP 404", "status": 404},
        {"url": HEALTH, "outcome": "skipped", "error": "offline: network feed not fetched"},
    ]}
    b = build_briefing(store, cfg, now=NOW, report=report)
    assert section(b, "World")["status"] == "ok"
    assert section(b, "Tech")["errors"] == ["Feed unavailable: Tech Feed — HTTP 404"]
    assert section(b, "Health")["status"] == "failed"


def test_never_fetched_feed_is_not_no_updates(tmp_path: Path) -> None:
    cfg = make_config(SECTIONS)
    store = open_store(tmp_path, cfg)
    b = build_briefing(store, cfg, now=NOW)
    for name in ("World", "Tech", "Health"):
        assert section(b, name)["status"] == "failed"
        assert "not fetched yet" in section(b, name)["errors"][0]


def test_second_run_with_nothing_new_says_no_updates(world) -> None:
    cfg, store, ids = world
    b1 = build_briefing(store, cfg, now=NOW)
    save_briefing(store, b1)
    b2 = build_briefing(store, cfg, now=NOW + timedelta(minutes=5))
    validate_briefing(b2)
    for sec in b2["sections"]:
        if sec["name"] == "Weather":
            continue
        assert sec["status"] == "no_updates" and sec["stories"] == []
        assert sec["message"] == "No updates."
    md = render_markdown(b2)
    assert md.count("No updates.") == 3
    # a changed item comes back; an unchanged one does not
    add_item(store, TECH, "t1", "Chipmaker opens fab in Quebec", para(
        "A chipmaker opened a packaging plant near Bromont that will employ 750 people, up from 600 planned.",
        "The plant assembles sensors for cars and medical devices."), url="https://tech.example/chip")
    save_briefing(store, b2)
    b3 = build_briefing(store, cfg, now=NOW + timedelta(minutes=10))
    assert story_texts(b3) == ["Chipmaker opens fab in Quebec"]
    assert "750 people" in section(b3, "Tech")["stories"][0]["summary"]


def test_archive_roundtrip(world) -> None:
    cfg, store, ids = world
    b1 = build_briefing(store, cfg, now=NOW)
    bid = save_briefing(store, b1)
    assert bid and b1["seq"] == 1
    b2 = build_briefing(store, cfg, now=NOW + timedelta(hours=1))
    save_briefing(store, b2)
    assert b2["seq"] == 2 and b2["date"] == b1["date"]
    rows = list_briefings(store)
    assert [(r["date"], r["seq"]) for r in rows] == [(b1["date"], 2), (b1["date"], 1)]
    assert rows[1]["stories"] == 4 and rows[1]["words"] == b1["stats"]["words"]
    assert get_briefing(store, b1["date"])["seq"] == 2
    first = get_briefing(store, b1["date"], seq=1)
    assert first is not None and story_texts(first) == story_texts(b1)
    sid = section(b1, "Tech")["stories"][0]["id"]
    st = get_story(store, b1["date"], sid, seq=1)
    assert st is not None and st["section"] == "Tech" and st["title"] == "Chipmaker opens fab in Quebec"
    assert get_story(store, b1["date"], "s-0000000000") is None
    hashes = briefed_hashes(store)
    assert set(ids.values()) <= set(hashes)
    assert get_briefing(store, "1999-01-01") is None


def test_title_only_item_has_empty_summary(world) -> None:
    cfg, store, _ = world
    add_item(store, TECH, "t2", "Correction: benchmark figures in Tuesday's story", "", url="https://tech.example/corr")
    b = build_briefing(store, cfg, now=NOW)
    st = next(s for s in section(b, "Tech")["stories"] if s["title"].startswith("Correction"))
    assert st["summary"] == "" and st["sentences"] == []


def test_republished_item_is_one_story_with_two_sources(world) -> None:
    cfg, store, _ = world
    body = para(
        "Health officials extended walk-in measles vaccination clinics in three regions after 14 new cases.",
        "Most of the new cases are in children under 10 who had not received both doses.",
        "Clinics will stay open until 8 p.m. on weekdays until Dec. 18.")
    add_item(store, WORLD_A, "m1", "Measles clinics extended", body, url="https://a.example/measles",
             published=NOW - timedelta(hours=5))
    add_item(store, WORLD_B, "m2", "Measles clinics extended in three regions", body + " Republished via Beta.",
             url="https://b.example/syndicated/measles?utm_source=rss", published=NOW - timedelta(hours=4))
    b = build_briefing(store, cfg, now=NOW)
    measles = [st for sec in b["sections"] for st in sec["stories"] if "Measles" in st["title"]]
    assert len(measles) == 1
    assert measles[0]["source_count"] == 2 and len(measles[0]["sources"]) == 2
    assert b["stats"]["duplicates_removed"] == 1
    assert "2 sources" in render_markdown(b)


def test_cross_section_cluster_appears_once(tmp_path: Path) -> None:
    cfg = make_config(SECTIONS)
    store = open_store(tmp_path, cfg)
    mark_all_ok(store, cfg)
    add_item(store, WORLD_A, "w", "Nairobi climate talks close with adaptation fund", para(
        "Climate negotiators in Nairobi agreed on Saturday to create an adaptation fund worth $42 billion.",
        "Poorer countries can apply for grants from next July."), published=NOW - timedelta(hours=6))
    add_item(store, HEALTH, "h", "Adaptation fund agreed in Nairobi will cover heat-health projects", para(
        "The $42 billion adaptation fund agreed in Nairobi on Saturday will pay for heat-health warning systems.",
        "Climate negotiators added health projects late in the talks."), published=NOW - timedelta(hours=1))
    b = build_briefing(store, cfg, now=NOW)
    stories = [(sec["name"], st) for sec in b["sections"] for st in sec["stories"]]
    assert len(stories) == 1
    name, st = stories[0]
    assert name == "Health"  # the section of the highest-ranked (most recent) item
    assert st["source_count"] == 2 and b["stats"]["clusters_merged"] == 1


def test_per_section_cap_and_word_budget(tmp_path: Path) -> None:
    cfg = make_config(SECTIONS, per_section_cap=3, word_budget=150)
    store = open_store(tmp_path, cfg)
    mark_all_ok(store, cfg)
    subjects = ["harbour", "glacier", "orchard", "foundry", "lighthouse", "monastery", "quarry", "vineyard"]
    for i, subj in enumerate(subjects):
        add_item(store, TECH, f"x{i}", f"Council approves {subj} plan", para(
            f"The council approved the {subj} plan on Monday after a long public hearing about costs.",
            f"Work on the {subj} site will begin in the spring and last about two years.",
            f"Residents near the {subj} raised concerns about traffic and noise during construction."),
            published=NOW - timedelta(hours=i + 1))
    b = build_briefing(store, cfg, now=NOW)
    tech = section(b, "Tech")
    assert len(tech["stories"]) <= 3
    assert tech["omitted"] >= 5
    assert b["stats"]["words"] <= 150
    # words are counted on what is shown: titles + summaries + status lines
    shown = sum(word_count(st["title"]) + word_count(st["summary"]) for st in tech["stories"])
    assert shown <= b["stats"]["words"]
    # the most recent stories survive
    assert tech["stories"][0]["title"] == "Council approves harbour plan"
    assert "not shown" in render_markdown(b)


def test_word_budget_shrinks_summaries_before_dropping(tmp_path: Path) -> None:
    cfg = make_config(SECTIONS, word_budget=100)
    store = open_store(tmp_path, cfg)
    mark_all_ok(store, cfg)
    for i, subj in enumerate(["ferry", "library", "arena"]):
        add_item(store, TECH, f"y{i}", f"Town expands {subj} service", para(
            f"The town will expand {subj} service next month after a year of record demand from residents.",
            f"Staff hiring for the {subj} starts this week with eight new positions advertised.",
            f"The {subj} budget rises by 12 per cent under the plan approved on Tuesday."),
            published=NOW - timedelta(hours=i + 1))
    b = build_briefing(store, cfg, now=NOW)
    tech = section(b, "Tech")
    assert len(tech["stories"]) == 3  # ~140 words untrimmed: summaries shrink, no story is dropped
    assert b["stats"]["words"] <= 100
    assert all(len(st["sentences"]) >= 1 for st in tech["stories"])
    assert any(len(st["sentences"]) < 3 for st in tech["stories"])
    # the lowest-ranked (oldest) story is trimmed first
    assert len(tech["stories"][-1]["sentences"]) <= len(tech["stories"][0]["sentences"])


def test_mute_and_policy_filter_with_reasons(tmp_path: Path) -> None:
    cfg = make_config(SECTIONS, mute=["celebrity"])
    store = open_store(tmp_path, cfg)
    mark_all_ok(store, cfg)
    muted = add_item(store, TECH, "c", "Celebrity buys a tech startup", "A celebrity bought a small startup on Monday.")
    add_item(store, TECH, "k", "Library adds e-book lending", "The public library added e-book lending for 4,000 titles.")
    b = build_briefing(store, cfg, now=NOW)
    assert story_texts(b) == ["Library adds e-book lending"]
    f = b["stats"]["filtered"]
    assert len(f) == 1 and f[0]["item_id"] == muted and f[0]["rule"] == "mute" and f[0]["action"] == "drop"
    assert "celebrity" in f[0]["reason"].lower()


def test_boost_ranks_higher(tmp_path: Path) -> None:
    cfg = make_config(SECTIONS, boost=["quantum"], per_section_cap=1)
    store = open_store(tmp_path, cfg)
    mark_all_ok(store, cfg)
    add_item(store, TECH, "new", "Printer maker cuts prices", "A printer maker cut prices on its office models by 10 per cent.",
             published=NOW - timedelta(hours=1))
    add_item(store, TECH, "old", "Quantum sensor startup raises funds", "A quantum sensor startup raised $20 million on Friday.",
             published=NOW - timedelta(hours=10))
    b = build_briefing(store, cfg, now=NOW)
    assert story_texts(b) == ["Quantum sensor startup raises funds"]


def test_flags_visible_everywhere(world) -> None:
    cfg, store, _ = world
    add_item(store, TECH, "inj", "Agent toolkits add sandboxing", para(
        "Three agent toolkits shipped sandboxing features this week after researchers found exploits.",
        "Each tool call now runs in an isolated container."), flags=["prompt_injection", "hidden_text"])
    b = build_briefing(store, cfg, now=NOW)
    st = next(s for s in section(b, "Tech")["stories"] if s["title"].startswith("Agent"))
    assert st["flags"] == ["prompt_injection", "hidden_text"]
    assert "⚠ flagged: prompt\\_injection, hidden\\_text" in render_markdown(b)
    assert "⚠ flagged: prompt_injection, hidden_text" in render_html(b)


def test_date_window_uses_configured_time_zone(world) -> None:
    cfg, store, _ = world
    # 03:30 UTC on Nov 21 is still Nov 20 in Toronto
    add_item(store, TECH, "late", "Late-night launch of satellite", "A satellite launched late on Friday night from the coast.",
             published=NOW.replace(hour=3, minute=30))
    b = build_briefing(store, cfg, date="2026-11-20", now=NOW)
    assert b["date"] == "2026-11-20"
    assert story_texts(b) == ["Late-night launch of satellite"]


def test_renderers_escape_and_never_leak_entities(world) -> None:
    cfg, store, _ = world
    add_item(store, TECH, "esc", "Ops & <Dev> [team] *ships* #release",
             "The ops & dev team shipped a release <b>today</b> with 40 fixes for the tracker.")
    b = build_briefing(store, cfg, now=NOW)
    page = render_html(b)
    assert "<Dev>" not in page and "&lt;Dev&gt;" in page and "<script" not in page
    assert 'href="http' not in page or "stylesheet" not in page
    assert "<link" not in page and "src=" not in page  # no external assets
    assert "color-scheme: light dark" in page and "prefers-color-scheme: dark" in page
    md = render_markdown(b)
    assert "Ops & \\<Dev\\> \\[team\\] \\*ships\\* \\#release" in md
    data = json.loads(render_json(b))
    for t in all_text_fields(data):
        assert html.unescape(t) == t or "&" not in t, t
    assert data["sections"][0]["name"] == "Weather"


def test_markdown_front_matter_and_layout(world) -> None:
    cfg, store, _ = world
    b = build_briefing(store, cfg, now=NOW)
    md = render_markdown(b)
    assert md.startswith("---\n")
    front = md.split("---\n")[1]
    assert "date: '2026-11-21'" in front and "stories: 4" in front and "- briefing" in front
    lines = md.split("---\n", 2)[2].lstrip("\n").splitlines()
    assert lines[0] == "✅ Morning News Briefing – November 21, 2026 06:30"
    assert "📅 Date: 2026-11-21 06:30" in lines
    assert "🏷️ Tags: #briefing" in lines
    order = [md.index(h) for h in ("## 🧾 Weather", "## 🌍 World", "## 💻 Tech", "## 🏥 Health")]
    assert order == sorted(order)
    assert re.search(r"^• \*\*\[Chipmaker opens fab in Quebec\]\(https://tech\.example/chip\)\*\*$", md, re.M)
    assert "— 1 source" in md


def test_schema_rejects_bad_status(world) -> None:
    cfg, store, _ = world
    b = build_briefing(store, cfg, now=NOW)
    b["sections"][1]["status"] = "empty"
    with pytest.raises(jsonschema.ValidationError):
        validate_briefing(b)
    assert briefing_schema()["$schema"].endswith("2020-12/schema")


def test_failed_weather_feed_reads_unavailable(tmp_path: Path) -> None:
    from newsdesk.config import parse_config

    base = make_config(SECTIONS)
    text = (
        '[briefing]\ntimezone = "America/Toronto"\n\n[weather]\nsection = "Weather"\nlocation = "Pembroke, Ontario"\n'
        'provider = "environment-canada"\nurl = "https://weather.example/city.xml"\n\n'
        + "\n".join(f'[[sections]]\nname = "{s.name}"\nemoji = "{s.emoji}"\norder = {s.order}\n' for s in base.sections)
        + "\n".join(f'[[feeds]]\nurl = "{f.url}"\nsection = "{f.section}"\ntitle = "{f.title}"\n' for f in base.feeds)
    )
    cfg = parse_config(text)
    store = open_store(tmp_path, cfg)
    store.upsert_feed("https://weather.example/city.xml", title="Weather — Pembroke, Ontario", section="Weather")
    mark_all_ok(store, cfg)
    mark_feed(store, "https://weather.example/city.xml", ok=False, error="HTTP 500", status=500)
    b = build_briefing(store, cfg, now=NOW)
    w = section(b, "Weather")
    assert w["kind"] == "weather" and w["status"] == "failed" and b["weather"] is None
    assert w["errors"] == ["Feed unavailable: Weather — Pembroke, Ontario — HTTP 500"]
    md = render_markdown(b)
    assert "No updates." not in md.split("## 🧾 Weather", 1)[1].split("\n## ", 1)[0]


def test_rising_topics_line(tmp_path: Path) -> None:
    cfg = make_config(SECTIONS)
    store = open_store(tmp_path, cfg)
    mark_all_ok(store, cfg)
    # two weeks of ordinary council news, then a burst of items about a rail strike
    for k in range(1, 15):
        add_item(store, TECH, f"old{k}", f"Council reviews budget line {k}",
                 "The council reviewed another line of the budget on a quiet evening.",
                 published=NOW - timedelta(days=k, hours=1))
    for i in range(5):
        add_item(store, [WORLD_A, WORLD_B, HEALTH, TECH, WORLD_A][i], f"rs{i}",
                 f"Rail strike enters day {i + 2} at {['ports', 'depots', 'clinics', 'terminals', 'yards'][i]}",
                 "The rail strike disrupted deliveries again as talks stalled.", published=NOW - timedelta(hours=i + 1))
    b = build_briefing(store, cfg, now=NOW)
    validate_briefing(b)
    terms = [t["term"] for t in b["rising_topics"]]
    assert "rail strike" in terms
    assert not any("council" in t or "budget" in t for t in terms)
    top = next(t for t in b["rising_topics"] if t["term"] == "rail strike")
    assert top["count"] == 5 and top["baseline_median"] == 0
    assert re.search(r"^📈 Rising topics: .*rail strike \(5\)", render_markdown(b), re.M)
    off = build_briefing(store, make_config(SECTIONS, rising_topics=False), now=NOW)
    assert off["rising_topics"] == []


def test_markdown_escaping_helpers() -> None:
    from newsdesk.render import md_escape, md_url

    assert md_escape("Use #hashtags and C# [link](x) *bold* _it_ <b>") == \
        "Use \\#hashtags and C# \\[link\\](x) \\*bold\\* \\_it\\_ \\<b\\>"
    assert md_escape("1. Not a list") == "1\\. Not a list"
    assert md_url("https://x.example/a (b)") == "https://x.example/a%20%28b%29"


def test_private_bookkeeping_not_rendered(world) -> None:
    cfg, store, _ = world
    b = build_briefing(store, cfg, now=NOW)
    assert "_seen" in b  # for the archive: candidates seen but not shown
    assert "_seen" not in render_json(b)
    validate_briefing(b)  # validation looks at the public part only
    save_briefing(store, b)
    assert "_seen" not in b


def test_feed_renamed_by_permanent_redirect_keeps_its_items(world) -> None:
    cfg, store, _ = world
    feed = store.get_feed_by_url(TECH)
    store.update_feed_state(feed.id, url="https://tech.example/new-feed.xml")  # what collect does on a 301
    report = {"results": [{"url": u, "outcome": "ok"} for u in (WORLD_A, WORLD_B, HEALTH)]
              + [{"url": TECH, "outcome": "ok", "redirected_to": "https://tech.example/new-feed.xml"}]}
    b = build_briefing(store, cfg, now=NOW, report=report)
    tech = section(b, "Tech")
    assert tech["status"] == "ok" and [s["title"] for s in tech["stories"]] == ["Chipmaker opens fab in Quebec"]
