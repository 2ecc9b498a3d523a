"""Candidate ticket types: the tickets no golden path replaces, grouped by what they ask for.

Titles are normalized (numbers and ids dropped), identical ones counted once, and the distinct
titles clustered by TF-IDF cosine distance (agglomerative, average linkage). Each cluster is
named by its strongest words in the order its most common title uses them, e.g.
"increase upload size".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from goldenpath.insights.classification import normalize

DISTANCE_THRESHOLD = 0.75
MAX_DISTINCT = 4000  # beyond this, k-means instead of the quadratic agglomerative step
_NOISE = re.compile(r"\b(?:\w*\d\w*)\b")


def title_key(title: str) -> str:
    return " ".join(_NOISE.sub(" ", normalize(title)).split()) or normalize(title)


def candidate_types(titles: Sequence[str]) -> list[str]:
    """A candidate type name for each title."""
    if not titles:
        return []
    keys = [title_key(t) for t in titles]
    counts = Counter(keys)
    distinct = sorted(counts)
    labels = _cluster(distinct)
    names: dict[int, str] = {}
    members: dict[int, list[str]] = {}
    for key, label in zip(distinct, labels, strict=True):
        members.setdefault(label, []).append(key)
    for label, group in members.items():
        names[label] = _name(group, counts)
    by_key = {key: names[label] for key, label in zip(distinct, labels, strict=True)}
    return [by_key[k] for k in keys]


def _cluster(distinct: list[str]) -> list[int]:
    if len(distinct) == 1:
        return [0]
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english")
    try:
        matrix = vectorizer.fit_transform(distinct)
    except ValueError:  # only stop words: nothing to tell them apart
        return [0] * len(distinct)
    if len(distinct) > MAX_DISTINCT:
        from sklearn.cluster import MiniBatchKMeans

        model = MiniBatchKMeans(n_clusters=64, random_state=0, n_init=3)
        return [int(x) for x in model.fit_predict(matrix)]
    from sklearn.cluster import AgglomerativeClustering

    agglomerative = AgglomerativeClustering(
        n_clusters=None,
        distance_threshold=DISTANCE_THRESHOLD,
        metric="cosine",
        linkage="average",
    )
    dense = matrix.toarray()
    # A title of stop words only is a zero vector, which has no cosine distance.
    dense[~dense.any(axis=1), 0] = 1e-9
    return [int(x) for x in agglomerative.fit_predict(dense)]


def _name(group: list[str], counts: Counter[str]) -> str:
    words = Counter(w for key in group for w in set(key.split()) for _ in range(counts[key]))
    total = sum(counts[k] for k in group)
    common = max(group, key=lambda k: (counts[k], -len(k)))
    # The words most of the cluster's tickets share, in the order its most common title has them.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    shared = [w for w in common.split() if words[w] * 2 >= total and w not in ENGLISH_STOP_WORDS]
    chosen = shared[:4] or common.split()[:4]
    return " ".join(chosen)
