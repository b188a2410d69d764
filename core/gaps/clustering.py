"""Recurring problems among sessions no flow matched: text clustering of their problem summaries.

Input is the distinct normalised summaries with their session counts (never one row per
session), so the work grows with how varied the summaries are, not with volume. Summaries are
vectorised with TF-IDF on words (1-2 grams) and characters (3-5 grams within words), so that
both shared vocabulary ("mapped drive") and shared spelling ("reconnect"/"disconnects") count,
and clustered by average-linkage agglomeration on cosine distance with a distance threshold:
no preset number of clusters, and a one-off stays alone unless something is close to it.

Words alone miss paraphrases that share none ("One-way audio on calls" / "Caller can't hear
us"). When the summaries come with the fixes that resolved their sessions, clusters that share a
*specific* fix are joined (``join_by_shared_fix``): one that resolved a good share of each, is
worded in several content words, and is not common to many clusters. "Disabled SIP ALG and
opened the RTP range" joins; "Rebooted the PC" does not.

Up to ``DENSE_LIMIT`` distinct texts the full distance matrix is used. Beyond that (tens of
thousands of distinct summaries), the most frequent ``DENSE_LIMIT`` are clustered in full and the
rest join the nearest cluster centre within the threshold, or stay alone (see ``_labels``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# scikit-learn and SciPy are imported where they are used: together they take some 150 MB,
# and every process that merely imports core.gaps (the CLI, the exports) would pay for them.

DENSE_LIMIT = 3000
LABEL_TERMS = 4
# A fix is one of a cluster's own when it resolved at least this share of the cluster's resolved
# sessions, and at least this many of them; it is specific when it has at least this many content
# words and is one of no more than this many clusters' own (else it is generic: "Rebooted the PC").
FIX_SHARE = 0.25
FIX_MIN_SESSIONS = 3
FIX_MIN_WORDS = 4
FIX_MAX_CLUSTERS = 4
# Words that say nothing about which problem it is; left in, they pull unrelated tickets together.
FILLER_WORDS = frozenset({
    "user", "users", "user's", "issue", "issues", "problem", "problems", "working", "work", "works",
    "urgent", "again", "today", "yesterday", "since", "help", "please", "pls", "asap", "error",
    "new", "starter", "office", "team", "md", "reception", "says", "say", "said", "called",
})
_SPACE = re.compile(r"\s+")
_EDGE_PUNCTUATION = " \t.,;:!?"
_WORD = re.compile(r"(?u)\b[a-z0-9][a-z0-9'.:/-]*[a-z0-9]\b|\b[a-z0-9]\b")


# Ways MSP engineers name the same thing, folded to one token before vectorising, so that
# paraphrases with no word in common ("S: drive shows a red X at login" / "mapped drive
# disconnects after reboot") still meet. General IT vocabulary, not tied to any one problem.
SYNONYMS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    # A drive letter is a mapped drive, but for C:, the local system disk ("C: drive full").
    (r"\b(?:[abd-z]: ?drive|(?:mapped|network|shared) (?:drive|share)s?|drive mappings?|mapped drives?)\b",
     " mappeddrive "),
    (r"\b(?:red x|unavailable|not reconnecting|disconnect(?:s|ed|ing)?|lost|missing|drops?)\b", " disconnected "),
    (r"\b(?:re-?boots?|restarts?|rebooted|restarted|start ?up|log ?[io]n|every morning)\b", " atlogon "),
    (r"\b(?:mfa|2fa|multi-?factor|two-?factor|authenticator|otp)\b", " mfa "),
    (r"\b(?:prompts?|notifications?|codes?)\b", " prompt "),
    (r"\b(?:sync(?:ing|s|ed)?|processing changes)\b", " sync "),
    (r"\b(?:pcs?|laptops?|computers?|desktops?|workstations?)\b", " computer "),
    (r"\b(?:e-?mails?|mail)\b", " email "),
    (r"\b(?:wi-?fi|wireless|wlan)\b", " wifi "),
    (r"\b(?:passwords?|passcodes?)\b", " password "),
    (r"\b(?:won't|can't|cannot|unable to|fails? to|not able to)\b", " cannot "),
))


_READABLE = {"mappeddrive": "mapped drive", "atlogon": "at logon/restart", "cannot": "cannot"}


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS | FILLER_WORDS)


def canonical(text: str) -> str:
    for pattern, replacement in SYNONYMS:
        text = pattern.sub(replacement, text)
    return _SPACE.sub(" ", text).strip()


def normalise(text: str) -> str:
    """The form texts are grouped by: case-folded, single-spaced, without edge punctuation."""
    return _SPACE.sub(" ", text.casefold()).strip(_EDGE_PUNCTUATION)


def content_words(text: str) -> list[str]:
    stop = stop_words()
    return [w for w in _WORD.findall(text) if w not in stop]


@dataclass(frozen=True)
class TextCount:
    text: str
    count: int


@dataclass(frozen=True)
class Cluster:
    members: tuple[int, ...]  # indexes into the input, most frequent first
    terms: tuple[str, ...]  # distinctive words, most distinctive first
    representative: int  # index of the summary closest to the cluster's centre


def _vectorise(texts: Sequence[str]):
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), stop_words=sorted(stop_words()),
                            token_pattern=_WORD.pattern, sublinear_tf=True, min_df=1)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1)
    folded = [canonical(t) for t in texts]
    word_matrix = words.fit_transform(folded)
    char_matrix = chars.fit_transform([" ".join(content_words(t)) or t for t in folded])
    # Equal say for words and characters; the row norm keeps cosine meaning cosine.
    combined = normalize(hstack([normalize(word_matrix), normalize(char_matrix)]).tocsr())
    return combined, word_matrix, words.get_feature_names_out()


def _dense_labels(matrix, threshold: float) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics.pairwise import cosine_distances

    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold,
                                    metric="precomputed", linkage="average")
    return model.fit_predict(cosine_distances(matrix))


def _labels(matrix, counts: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster labels. Beyond DENSE_LIMIT texts, the most frequent DENSE_LIMIT are clustered in
    full and every other text joins the cluster whose centre is nearest, if within the threshold,
    or stays alone: memory stays linear, and a recurring problem has frequent variants."""
    from scipy.sparse import csr_matrix
    from sklearn.preprocessing import normalize

    n = matrix.shape[0]
    if n <= DENSE_LIMIT:
        return _dense_labels(matrix, threshold)
    head = np.argsort(-counts, kind="stable")[:DENSE_LIMIT]
    head_labels = _dense_labels(matrix[head], threshold)
    groups = np.unique(head_labels)
    membership = csr_matrix((np.ones(len(head)), (np.searchsorted(groups, head_labels), np.arange(len(head)))),
                            shape=(len(groups), len(head)))
    centres = normalize(membership @ matrix[head]).T.tocsc()
    labels = np.full(n, -1, dtype=np.int64)
    labels[head] = head_labels
    rest = np.setdiff1d(np.arange(n), head)
    for chunk in np.array_split(rest, max(1, len(rest) // 5000)):
        similarity = (matrix[chunk] @ centres).toarray()
        best = similarity.argmax(axis=1)
        close = similarity.max(axis=1) >= 1 - threshold
        labels[chunk] = np.where(close, groups[best], -1)
    loners = np.flatnonzero(labels == -1)
    labels[loners] = groups.max() + 1 + np.arange(len(loners))
    return labels


def join_by_shared_fix(labels: np.ndarray, fixes: Sequence[Mapping[str, int]]) -> np.ndarray:
    """``labels`` with the clusters that share a specific fix joined (see the module's docstring).
    ``fixes``: per text, its resolved sessions by normalised fix."""
    per_cluster: dict[int, Counter] = defaultdict(Counter)
    for label, counts in zip(labels.tolist(), fixes):
        per_cluster[label].update(counts)
    owners: dict[str, list[int]] = defaultdict(list)
    for label in sorted(per_cluster):
        counts = per_cluster[label]
        total = sum(counts.values())
        for fix, n in counts.items():
            if n >= FIX_MIN_SESSIONS and n >= FIX_SHARE * total:
                owners[fix].append(label)
    parent = {label: label for label in per_cluster}

    def root(label: int) -> int:
        while parent[label] != label:
            label = parent[label]
        return label

    for fix in sorted(owners):
        joined = owners[fix]
        if 2 <= len(joined) <= FIX_MAX_CLUSTERS and len(content_words(canonical(fix))) >= FIX_MIN_WORDS:
            first = root(joined[0])
            for label in joined[1:]:
                parent[root(label)] = first
    return np.array([root(label) for label in labels.tolist()], dtype=np.int64)


def cluster_texts(items: Sequence[TextCount], distance_threshold: float, min_count: int,
                  fixes: Sequence[Mapping[str, int]] | None = None) -> list[Cluster]:
    """Clusters of similar texts whose counts add up to at least ``min_count``, biggest first;
    ``fixes`` (per item, its resolved sessions by fix) also joins clusters resolved the same
    specific way.

    Texts with no content words ("help!!", "see ticket") say nothing about the problem and are
    left out rather than clustered together on their emptiness.
    """
    usable = [i for i, item in enumerate(items) if content_words(item.text)]
    if not usable:
        return []
    texts = [items[i].text for i in usable]
    counts = np.array([items[i].count for i in usable], dtype=np.int64)
    matrix, word_matrix, vocabulary = _vectorise(texts)
    labels = _labels(matrix, counts, distance_threshold) if len(texts) > 1 else np.zeros(1, dtype=int)
    if fixes is not None:
        labels = join_by_shared_fix(labels, [fixes[i] for i in usable])

    weights = counts / counts.sum()
    background = np.asarray(word_matrix.T @ weights).ravel()
    clusters = []
    for label in np.unique(labels):
        local = np.flatnonzero(labels == label)
        if counts[local].sum() < min_count:
            continue
        local = local[np.argsort(-counts[local], kind="stable")]
        local_weights = counts[local] / counts[local].sum()
        centre = np.asarray(matrix[local].T @ local_weights).ravel()
        closeness = matrix[local] @ centre
        representative = local[int(np.argmax(closeness + 1e-9 * local_weights))]
        # Distinctive: weighted more inside the cluster than across all unmatched summaries.
        inside = np.asarray(word_matrix[local].T @ local_weights).ravel()
        lift = inside - background
        order = [j for j in np.argsort(-lift) if inside[j] > 0 and " " not in vocabulary[j]]
        terms = tuple(_READABLE.get(vocabulary[j], vocabulary[j]) for j in order[:LABEL_TERMS])
        clusters.append(Cluster(tuple(usable[i] for i in local), terms, usable[representative]))
    clusters.sort(key=lambda c: (-sum(items[i].count for i in c.members), items[c.representative].text))
    return clusters
