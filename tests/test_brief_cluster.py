"""De-duplication and clustering (newsdesk.brief.cluster)."""

from __future__ import annotations

from newsdesk.brief.cluster import cluster, dedupe, domain
from newsdesk.models import Item

_N = 0


def item(feed_id: int, title: str, text: str, *, guid: str | None = None, url: str | None = None,
         published: str = "2026-11-21T10:00:00Z") -> Item:
    global _N
    _N += 1
    return Item(id=_N, feed_id=feed_id, guid=guid or f"g{_N}", url=url or f"https://f{feed_id}.example/{_N}",
                canonical_url=url or f"https://f{feed_id}.example/{_N}", title=title, author=None,
                published=published, raw_html=None, content_html=None, text=text, content_hash=str(_N),
                flags=[], first_seen=published, updated_at=published)


MEASLES = ("Health officials extended walk-in measles vaccination clinics in three regions after 14 new cases "
           "were confirmed this week, bringing the outbreak total to 63. Most of the new cases are in children "
           "under 10 who had not received both doses. Clinics will stay open until 8 p.m. on weekdays until Dec. 18. "
           "Officials asked visitors to a food court on Nov. 14 to watch for symptoms until Dec. 5.")
FERRY = ("Ferry service between the mainland and the island resumed on Saturday after a 30-hour outage caused "
         "by a failed hydraulic pump. The operator said all sailings would run on schedule by Sunday.")
BUDGET = ("The province tabled a budget with a deficit of $4.1 billion, larger than forecast in the spring, "
          "citing lower resource revenue and higher health spending.")


def test_same_guid_across_feeds_is_one_group() -> None:
    a = item(1, "Ferry back after outage", FERRY, guid="shared-1")
    b = item(2, "Ferry service restored", "Short teaser about the ferry.", guid="shared-1")
    groups, removed = dedupe([a, b])
    assert removed == 1 and len(groups) == 1
    assert groups[0].rep is a  # the fuller text represents the group


def test_same_canonical_url_is_one_group() -> None:
    a = item(1, "Budget tabled", BUDGET, url="https://news.example/budget")
    b = item(2, "Province tables budget", "Different teaser entirely for the same page.", url="https://news.example/budget")
    groups, removed = dedupe([a, b])
    assert removed == 1 and len(groups) == 1


def test_near_identical_text_is_one_group_republished() -> None:
    a = item(1, "Measles clinics extended in three regions", MEASLES, url="https://healthwatch.example.org/m",
             published="2026-11-20T15:00:00Z")
    b = item(2, "Measles clinics extended in three regions", MEASLES + " Republished from HealthWatch via WirePool.",
             url="https://wirepool.example.net/m?id=4", published="2026-11-20T16:45:00Z")
    groups, removed = dedupe([b, a])
    assert removed == 1 and len(groups) == 1
    assert groups[0].rep is a  # the original (earliest, equally complete) leads
    assert {domain(i.url) for i in groups[0].items} == {"healthwatch.example.org", "wirepool.example.net"}


def test_different_articles_not_deduped() -> None:
    groups, removed = dedupe([item(1, "Ferry back", FERRY), item(1, "Budget tabled", BUDGET),
                              item(2, "Measles", MEASLES)])
    assert removed == 0 and len(groups) == 3


NAIROBI = [
    (1, "Nairobi climate talks close with $42-billion adaptation fund",
     "Climate negotiators in Nairobi agreed on Saturday to create an adaptation fund worth $42 billion over six "
     "years, after talks ran a day past their deadline. Poorer countries will be able to apply from next July."),
    (2, "Poorer nations win bigger grant share as Nairobi summit ends",
     "Small island states secured a rule that 65 per cent of the new Nairobi adaptation fund will be paid as "
     "grants rather than loans. The fund, agreed at the close of the climate summit, totals $42 billion."),
    (3, "Canada pledges $1.2 billion to new climate adaptation fund",
     "Ottawa will contribute $1.2 billion over six years to the adaptation fund agreed at the Nairobi climate "
     "talks, the environment minister announced Saturday."),
]
OTHERS = [
    (1, "Rail strike halts freight across three states",
     "A 48-hour strike by rail freight crews began at midnight, halting most cargo trains and stranding "
     "containers at inland terminals. Unions want a pay rise and limits on night shifts."),
    (2, "Volcano alert raised on remote Pacific island",
     "Authorities raised the alert level for a volcano on a remote Pacific island and evacuated 900 residents "
     "after a swarm of earthquakes. Flights were diverted around the ash plume."),
    (3, "Housing starts rose 6% in October",
     "Builders broke ground on more homes in October than in any month this year, led by rental apartments in "
     "the largest cities, the national housing agency said."),
    (4, "Ransomware gang claims attack on school board",
     "A ransomware group listed a regional school board on its leak site and claimed to hold 180 GB of files. "
     "The board said classes continue but payroll systems are offline."),
    (4, "Passkeys now used for 41% of bank sign-ins",
     "A large retail bank said 41% of customer sign-ins now use passkeys, a year after launch. Account-takeover "
     "reports fell by about a third."),
]


def test_same_event_from_three_outlets_forms_one_cluster() -> None:
    items = [item(f, t, x) for f, t, x in NAIROBI + OTHERS]
    groups, _ = dedupe(items)
    clusters, merges = cluster(groups)
    nairobi_ids = {i.id for i in items[:3]}
    found = [c for c in clusters if {i.id for i in c.items} & nairobi_ids]
    assert len(found) == 1 and {i.id for i in found[0].items} == nairobi_ids
    assert merges == 2
    assert all(len(c.items) == 1 for c in clusters if c is not found[0])  # unrelated stories stay apart


def test_same_feed_articles_never_merged() -> None:
    a = item(5, "Ferry service restored after outage", FERRY)
    b = item(5, "Ferry operator explains outage", FERRY.replace("Saturday", "Friday").replace("Sunday", "Monday") + " More later.")
    groups, removed = dedupe([a, b])
    if removed:  # near-identical text within one feed is a duplicate, which is fine
        return
    clusters, merges = cluster(groups)
    assert merges == 0 and len(clusters) == 2


def test_cluster_trivial_inputs() -> None:
    assert cluster([]) == ([], 0)
    groups, _ = dedupe([item(1, "Only one", FERRY)])
    clusters, merges = cluster(groups)
    assert len(clusters) == 1 and merges == 0


def test_domain() -> None:
    assert domain("https://www.Example.org/x?y=1") == "example.org"
    assert domain(None) == ""


def test_similar_bodies_without_shared_headline_word_stay_apart() -> None:
    body = ("The provincial government announced funding on Monday for hospitals, schools and roads across the "
            "region, with the finance minister saying the money would flow before the end of the fiscal year.")
    a = item(1, "Hospitals get new money", body + " Hospital boards welcomed it.")
    b = item(2, "Road crews await budget", body.replace("Monday", "Tuesday") + " Road builders were cautious.")
    groups, removed = dedupe([a, b])
    assert removed == 0
    clusters, merges = cluster(groups)
    assert merges == 0 and len(clusters) == 2


def test_cluster_size_is_capped() -> None:
    from newsdesk.brief.cluster import MAX_CLUSTER_GROUPS

    verbs = ["reports", "says", "confirms", "notes", "adds", "writes", "explains", "stresses", "finds", "warns",
             "argues", "hears", "learns", "sees", "states", "repeats", "claims", "suggests"]
    items = [item(100 + i, f"Harbour bridge closes for repairs, outlet {i} {verbs[i]}",
                  f"The harbour bridge closed on Monday for emergency repairs to its deck, outlet {i} {verbs[i]}, "
                  f"and will reopen in about {i + 3} weeks according to engineers working on site.")
             for i in range(MAX_CLUSTER_GROUPS + 4)]
    groups, removed = dedupe(items)
    clusters, _ = cluster(groups)
    assert all(len(c.groups) <= MAX_CLUSTER_GROUPS for c in clusters)
    assert sum(len(c.groups) for c in clusters) == len(groups)
    assert len(clusters) >= 2
