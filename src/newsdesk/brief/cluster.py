"""De-duplication and story clustering for the briefing.

Pipeline position: ``build.py`` hands the candidate items of a briefing (after
the policy filter) to :func:`dedupe`, then the resulting groups to
:func:`cluster`; each cluster becomes one story listing every source.

Two stages, two thresholds, two libraries:

1. :func:`dedupe` -- the *same article* seen more than once. Items are merged
   (union-find) when they share a guid (a feed aggregator re-publishing
   another feed's entry), the same canonical URL, or near-identical text:
   MinHash LSH (``datasketch``) over 5-word shingles of the text (title +
   text for very short items), Jaccard >= 0.8, confirmed on the exact shingle sets. The first item of a group (the most complete text, then the
   earliest) represents it; the others stay attached as extra sources, so a
   republished article reads as one story with two sources.
   ``duplicates_removed`` = items folded into another.
2. :func:`cluster` -- *different articles about the same event* from
   different feeds. TF-IDF (``scikit-learn``) over title (twice) + lead words,
   cosine similarity, greedy average-linkage agglomeration with threshold
   ``CLUSTER_THRESHOLD``, and only when the headlines share a content word.
   Two groups from the same feed are never merged (a feed's separate articles
   are separate stories), which also stops chaining.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence
from urllib.parse import urlsplit

import numpy as np
from datasketch import MinHash, MinHashLSH

from newsdesk.models import Item

DEDUPE_THRESHOLD = 0.8
SHINGLE = 5
NUM_PERM = 128
CLUSTER_THRESHOLD = 0.25  # tuned on the demo corpus: same-event pairs 0.21-0.31, unrelated <= 0.18
LEAD_WORDS = 200
MAX_CLUSTER_GROUPS = 12  # a runaway cluster would hide stories; a bigger event simply yields two stories

_WORD = re.compile(r"\w+", re.UNICODE)


def domain(url: str | None) -> str:
    """Host name without ``www.``; '' when there is no URL."""
    if not url:
        return ""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


@dataclass
class Group:
    """Items that are the same article. ``items[0]`` represents the group."""

    items: list[Item]

    @property
    def rep(self) -> Item:
        return self.items[0]

    @property
    def feed_ids(self) -> set[int]:
        return {i.feed_id for i in self.items}


@dataclass
class Cluster:
    """Groups about the same event (one briefing story)."""

    groups: list[Group] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        return [i for g in self.groups for i in g.items]


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    words = [w.casefold() for w in _WORD.findall(text)]
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


def _minhash(sh: Iterable[str]) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=1)
    m.update_batch([s.encode("utf-8") for s in sh])
    return m


def _order_group(members: list[Item]) -> list[Item]:
    """Representative first: the earliest item among those with (nearly) the most complete text."""
    longest = max(len(i.text or "") for i in members)
    full = [i for i in members if len(i.text or "") >= 0.8 * longest]
    rep = min(full, key=lambda i: (i.published or i.first_seen or "", i.id))
    return [rep] + sorted((i for i in members if i is not rep), key=lambda i: (i.published or i.first_seen or "", i.id))


def dedupe(items: Sequence[Item], *, threshold: float = DEDUPE_THRESHOLD) -> tuple[list[Group], int]:
    """Merge copies of the same article. Returns ``(groups, duplicates_removed)``.

    Groups come back in the order of their first item in ``items``.
    """
    n = len(items)
    uf = _UnionFind(n)
    by_guid: dict[str, int] = {}
    by_url: dict[str, int] = {}
    for idx, it in enumerate(items):
        if it.guid:
            if it.guid in by_guid:
                uf.union(by_guid[it.guid], idx)
            else:
                by_guid[it.guid] = idx
        url = it.canonical_url or it.url
        if url:
            if url in by_url:
                uf.union(by_url[url], idx)
            else:
                by_url[url] = idx
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    sigs: list[tuple[set[str], MinHash]] = []
    for idx, it in enumerate(items):
        body = it.text or ""
        # the article body decides (outlets retitle syndicated copies); title-only items compare titles
        sh = shingles(body if len(body.split()) >= 4 * SHINGLE else f"{it.title}\n{body}")
        mh = _minhash(sh)
        sigs.append((sh, mh))
        if not sh:
            continue
        for other in lsh.query(mh):
            osh = sigs[int(other)][0]
            # LSH gives candidates; confirm with the exact Jaccard of the shingle sets.
            if len(sh & osh) / len(sh | osh) >= threshold:
                uf.union(int(other), idx)
        lsh.insert(str(idx), mh)
    buckets: dict[int, list[int]] = {}
    for idx in range(n):
        buckets.setdefault(uf.find(idx), []).append(idx)
    groups = []
    for root in sorted(buckets, key=lambda r: min(buckets[r])):
        groups.append(Group(_order_group([items[i] for i in buckets[root]])))
    return groups, n - len(groups)


def _lead(item: Item) -> str:
    words = (item.text or "").split()[:LEAD_WORDS]
    return f"{item.title}. {item.title}. {' '.join(words)}"


def _title_terms(title: str) -> set[str]:
    from newsdesk.guard.grounding import content_terms

    return {t[:-1] if len(t) > 4 and t.endswith("s") else t for t in content_terms(title or "") if not t.isdigit()}


def similarity_matrix(groups: Sequence[Group]) -> np.ndarray:
    """Cosine similarity of TF-IDF vectors of each group's title + lead."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [_lead(g.rep) for g in groups]
    try:
        vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, strip_accents="unicode")
        x = vec.fit_transform(docs)
    except ValueError:  # empty vocabulary (only stop words)
        return np.eye(len(groups))
    sim = (x @ x.T).toarray()
    np.fill_diagonal(sim, 1.0)
    return sim


def cluster(groups: Sequence[Group], *, threshold: float = CLUSTER_THRESHOLD) -> tuple[list[Cluster], int]:
    """Merge groups about the same event. Returns ``(clusters, merges)``.

    Greedy average linkage on the TF-IDF cosine matrix: repeatedly merge the
    most similar pair of clusters whose average similarity is >= ``threshold``,
    whose feeds are disjoint, whose headlines share a content word and whose
    combined size stays within ``MAX_CLUSTER_GROUPS``. Clusters keep the order of
    their first group.
    """
    n = len(groups)
    if n <= 1:
        return [Cluster([g]) for g in groups], 0
    sim = similarity_matrix(groups)
    members: list[list[int] | None] = [[i] for i in range(n)]
    feed_index = {f: k for k, f in enumerate(sorted({f for g in groups for f in g.feed_ids}))}
    feeds = np.zeros((n, len(feed_index)), dtype=np.float32)  # group x feed membership
    for i, g in enumerate(groups):
        for f in g.feed_ids:
            feeds[i, feed_index[f]] = 1.0
    work = sim.copy()
    work[(feeds @ feeds.T) > 0] = -1.0  # same feed (and the diagonal): never merged
    title_terms = [_title_terms(g.rep.title) for g in groups]
    merges = 0
    while True:
        flat = int(np.argmax(work))
        a, b = divmod(flat, n)
        if work[a, b] < threshold:
            break
        a, b = min(a, b), max(a, b)
        ma, mb = members[a], members[b]
        assert ma is not None and mb is not None
        if len(ma) + len(mb) > MAX_CLUSTER_GROUPS or not (title_terms[a] & title_terms[b]):
            # similar bodies but headlines without a word in common: not evidence enough of one event
            work[a, b] = work[b, a] = -1.0
            continue
        title_terms[a] = title_terms[a] | title_terms[b]
        na, nb = len(ma), len(mb)
        new_row = (na * work[a] + nb * work[b]) / (na + nb)  # average linkage (Lance-Williams)
        members[a] = ma + mb
        members[b] = None
        feeds[a] = np.maximum(feeds[a], feeds[b])
        work[a, :] = new_row
        work[:, a] = new_row
        work[b, :] = -1.0
        work[:, b] = -1.0
        conflict = (feeds @ feeds[a]) > 0
        work[a, conflict] = -1.0
        work[conflict, a] = -1.0
        merges += 1
    kept = sorted((sorted(m) for m in members if m is not None), key=lambda m: m[0])
    return [Cluster([groups[i] for i in m]) for m in kept], merges
