"""Recurring problems among sessions no flow matched: text clustering of their problem summaries.

Input is the distinct normalised summaries with their session counts (never one row per
session), so the work grows with how varied the summaries are, not with volume. Summaries that
say nothing ("see ticket", ``vocabulary.is_informative``) are left out. The rest are vectorised
with TF-IDF on lightly stemmed words (1-2 grams) and characters (3-5 grams within words), so that
both shared vocabulary ("mapped drive") and shared spelling ("reconnect"/"disconnects") count;
product names are folded to one token each, device words ("laptop") count little. Two summaries
are as similar as their wording (with words the account's matched sessions use for one problem
counted as related: ``vocabulary.learn_vocabulary``) or the evidence of their sessions (fixes and
improvised steps) says, in a noisy-or, and not at all when they name different products. They are
clustered by average-linkage agglomeration on that distance with a threshold: no preset number of
clusters, and a one-off stays alone unless something is close to it.

Clusters that share a *specific* fix are then joined (``join_by_shared_fix``): one that resolved
a good share of each, is worded in several content words, and is not common to many clusters.
"Disabled SIP ALG and opened the RTP range" joins; "Rebooted the PC" does not.

Up to ``DENSE_LIMIT`` distinct texts the full similarity matrix is used. Beyond that (tens of
thousands of distinct summaries), the most frequent ``DENSE_LIMIT`` are clustered in full and the
rest join the nearest cluster centre within the threshold, or stay alone (see ``_labels``).
How well it works is measured on ``tests/data/paraphrase_families.json`` (``cluster_eval``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.gaps.vocabulary import (
    GENERIC_WORDS, PRODUCT_TOKENS, LearnedVocabulary, anchors, fold_products,
    is_informative, normalise, stop_words,
)

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
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"(?u)\b[a-z0-9][a-z0-9'.:/-]*[a-z0-9]\b|\b[a-z0-9]\b")


# Ways MSP engineers name the same thing, folded to one token before vectorising, so that
# paraphrases with no word in common ("S: drive shows a red X at login" / "mapped drive
# disconnects after reboot") still meet. General IT vocabulary, not tied to any one problem.
SYNONYMS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    # A drive letter is a mapped drive, but for C:, the local system disk ("C: drive full").
    (r"\b(?:[abd-z]: ?drives?|[bd-z] drive|(?:mapped|network|shared) (?:drive|share)s?|drive mappings?|mapped drives?)\b",
     " mappeddrive "),
    (r"\b(?:red x|unavailable|not reconnecting|disconnect(?:s|ed|ing)?|lost|missing|drops?)\b", " disconnected "),
    (r"\b(?:re-?boots?|restarts?|rebooted|restarted|start ?up|log ?[io]n|every morning)\b", " atlogon "),
    (r"\b(?:mfa|2fa|multi-?factor|two-?factor|authenticator|otp)\b", " mfa "),
    (r"\b(?:prompts?|notifications?|codes?)\b", " prompt "),
    (r"\b(?:sync(?:ing|s|ed)?|processing changes)\b", " sync "),
    (r"\b(?:e-?mails?|mail)\b", " email "),
    (r"\b(?:wi-?fi|wireless|wlan)\b", " wifi "),
    (r"\b(?:passwords?|passcodes?)\b", " password "),
    (r"\b(?:won't|can't|cannot|unable to|fails? to|not able to)\b", " cannot "),
))


_READABLE = {"mappeddrive": "mapped drive", "atlogon": "at logon/restart", "cannot": "cannot"}


def canonical(text: str) -> str:
    text = fold_products(text.replace("\u2019", "'"))
    for pattern, replacement in SYNONYMS:
        text = pattern.sub(replacement, text)
    return _SPACE.sub(" ", text).strip()


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


# A device says little about which problem it is ("laptop"): its word counts this much. A product
# needs no weight of its own: its names are folded to one token, and two texts naming different
# products are never similar (``_similarity``).
GENERIC_WEIGHT = 0.3
# How far a word learned as related (``vocabulary.learn_vocabulary``) counts as the same word.
LEARNED_WEIGHT = 1.0
# How much similar fixes and improvised steps add to the similarity of two summaries: at 1 it is a
# noisy-or, 1 - (1 - wording)(1 - evidence): either can bring two summaries together, neither can
# push them apart.
EVIDENCE_WEIGHT = 1.0
# A fix or improvised step is routine, and no evidence, when it goes with more than this share of
# the distinct summaries (and more than this many).
EVIDENCE_ROUTINE_SHARE = 0.05
EVIDENCE_ROUTINE_MIN = 5
# Evidence words that say nothing about which fix it was: what was done, without what to ("Replaced
# the charger" / "Replaced the mouse" are different problems).
EVIDENCE_FILLER = frozenset({
    "fixed", "resolved", "sorted", "done", "working", "now", "issue", "user", "users", "checked", "tested",
    "confirmed", "ok", "okay", "all", "good", "replaced", "installed", "reinstalled", "updated", "restarted",
    "rebooted", "cleaned", "added", "removed", "reset", "changed", "enabled", "disabled", "ran", "set", "new",
})


@dataclass(frozen=True)
class _Vectors:
    combined: object  # words and characters, one normalised row per text (the tail's nearest centre)
    words: object  # weighted word TF-IDF, normalised rows
    chars: object
    vocabulary: np.ndarray
    anchors: list[frozenset[str]]


_SUFFIXES = ("ings", "ing", "edly", "ed", "es", "s")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stemmer, so that "locked", "locking" and "locks" are one word; products,
    folded tokens and words with digits or punctuation are left as they are."""
    if len(word) <= 4 or not word.isalpha() or word in PRODUCT_TOKENS or word in _READABLE:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix in ("ing", "ings", "ed") and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # dropped -> drop, mapping -> map
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def terms(text: str, stop: frozenset[str] | None = None) -> list[str]:
    """The stemmed content words of a (folded) text."""
    stop = stop_words() if stop is None else stop
    return [stem(w) for w in _WORD.findall(text) if w not in stop]


@lru_cache(maxsize=1)
def _generic_stems() -> frozenset[str]:
    return frozenset(GENERIC_WORDS | {stem(w) for w in GENERIC_WORDS})


def _surface_words(texts: Sequence[str]) -> dict[str, str]:
    """Per stem, its most frequent word in ``texts``: what a cluster's terms are shown as."""
    stop = stop_words()
    seen: dict[str, Counter] = defaultdict(Counter)
    for text in texts:
        for word in _WORD.findall(text):
            if word not in stop:
                seen[stem(word)][word] += 1
    return {s: max(sorted(c), key=c.__getitem__) for s, c in seen.items()}


def _word_vectoriser(stop: frozenset[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    def analyse(text: str) -> list[str]:
        words = terms(text, stop)
        return words + [f"{a} {b}" for a, b in zip(words, words[1:])]

    return TfidfVectorizer(analyzer=analyse, sublinear_tf=True, min_df=1)


def _vectorise(texts: Sequence[str]) -> _Vectors:
    from scipy.sparse import diags, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    words = _word_vectoriser(stop_words())
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1)
    folded = [canonical(t) for t in texts]
    word_matrix = words.fit_transform(folded)
    vocabulary = words.get_feature_names_out()
    generic = _generic_stems()
    weights = np.array([GENERIC_WEIGHT if generic & set(w.split()) else 1.0 for w in vocabulary])
    word_matrix = normalize(word_matrix @ diags(weights))
    # Characters catch spellings ("reconnect" / "disconnects"); products are folded to one token
    # already, and a long product name would otherwise share a dozen n-grams on its own.
    specific = [" ".join(w for w in content_words(t) if w not in GENERIC_WORDS and w not in PRODUCT_TOKENS)
                for t in folded]
    char_matrix = normalize(chars.fit_transform([s or t for s, t in zip(specific, folded)]))
    # Equal say for words and characters; the row norm keeps cosine meaning cosine.
    combined = normalize(hstack([word_matrix, char_matrix]).tocsr())
    return _Vectors(combined, word_matrix.tocsr(), char_matrix.tocsr(), vocabulary,
                    [anchors(content_words(t)) for t in folded])


def _learned_similarity(words, vocabulary: np.ndarray, learned: LearnedVocabulary):
    """Soft cosine of the word vectors: a word counts towards a related one (learned from the
    account's matched sessions) at ``LEARNED_WEIGHT`` times their relatedness."""
    from scipy.sparse import csr_matrix, identity

    index = {w: i for i, w in enumerate(vocabulary)}
    rows, cols, values = [], [], []
    for word, related in learned.related.items():
        i = index.get(word)
        if i is None:
            continue
        for other, relatedness in related.items():
            j = index.get(other)
            if j is not None:
                rows.append(i)
                cols.append(j)
                values.append(LEARNED_WEIGHT * relatedness)
    n = len(vocabulary)
    relate = identity(n, format="csr") + csr_matrix((values, (rows, cols)), shape=(n, n))
    inner = (words @ relate @ words.T).toarray()
    norms = np.sqrt(np.clip(np.diag(inner), 1e-12, None))
    return inner / np.outer(norms, norms)


def _evidence_similarity(evidence: Sequence[Mapping[str, int]]):
    """Cosine of what resolved the texts' sessions and what the engineers tried (words and
    characters), and which texts have any such evidence."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    stop = stop_words() | EVIDENCE_FILLER | _generic_stems()
    # A fix or step that goes with many different summaries is routine ("Reproduce the problem on a
    # remote session"), not evidence of which problem it was.
    spread = Counter(normalise(t) for e in evidence for t in {normalise(t) for t in e})
    routine = max(EVIDENCE_ROUTINE_MIN, EVIDENCE_ROUTINE_SHARE * len(evidence))
    documents = [" ".join(canonical(normalise(t)) for t in sorted(e) if spread[normalise(t)] <= routine)
                 for e in evidence]
    present = np.array([bool([w for w in _WORD.findall(d) if w not in stop]) for d in documents])
    if present.sum() < 2:
        return None, present
    words = _word_vectoriser(stop)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1)
    kept = [d if p else "" for d, p in zip(documents, present)]
    word_matrix = normalize(words.fit_transform(kept))
    char_matrix = normalize(chars.fit_transform([" ".join(w for w in _WORD.findall(d) if w not in stop) for d in kept]))
    matrix = normalize(hstack([word_matrix, char_matrix]).tocsr())
    return (matrix @ matrix.T).toarray(), present


def _similarity(vectors: _Vectors, rows: np.ndarray, evidence: Sequence[Mapping[str, int]] | None,
                learned: LearnedVocabulary | None) -> np.ndarray:
    """Similarity of every two of the texts ``rows``: their wording (words, with learned
    relatedness, and characters), raised by similar evidence, and nil between texts naming
    different products."""
    words, chars = vectors.words[rows], vectors.chars[rows]
    if learned:
        similarity = _learned_similarity(words, vectors.vocabulary, learned)
    else:
        similarity = (words @ words.T).toarray()
    # In place: at 3,000 texts every temporary matrix is 72 MB.
    similarity += (chars @ chars.T).toarray()
    similarity *= 0.5
    if evidence is not None:
        evidence_similarity, present = _evidence_similarity([evidence[i] for i in rows.tolist()])
        if evidence_similarity is not None:
            # Noisy-or: similar evidence raises the similarity towards 1, never lowers it.
            evidence_similarity[~present, :] = 0.0
            evidence_similarity[:, ~present] = 0.0
            evidence_similarity *= EVIDENCE_WEIGHT
            evidence_similarity *= 1.0 - similarity
            similarity += evidence_similarity
            del evidence_similarity
    products = [vectors.anchors[i] for i in rows.tolist()]
    names = sorted(set().union(*products))
    if names:
        column = {name: k for k, name in enumerate(names)}
        named_rows = np.array([i for i, found in enumerate(products) if found])
        named = np.zeros((len(named_rows), len(names)))
        for k, i in enumerate(named_rows.tolist()):
            named[k, [column[name] for name in products[i]]] = 1.0
        block = similarity[np.ix_(named_rows, named_rows)]
        block[(named @ named.T) == 0] = 0.0
        similarity[np.ix_(named_rows, named_rows)] = block
    np.fill_diagonal(similarity, 1.0)
    return np.clip(similarity, 0.0, 1.0, out=similarity)


def _dense_labels(similarity: np.ndarray, threshold: float) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold,
                                    metric="precomputed", linkage="average")
    similarity *= -1.0
    similarity += 1.0  # the distance, in place
    return model.fit_predict(similarity)


def _labels(vectors: _Vectors, counts: np.ndarray, threshold: float, similarity) -> np.ndarray:
    """Cluster labels; ``similarity(indexes)`` gives the similarity matrix of those texts. Beyond
    DENSE_LIMIT texts, the most frequent DENSE_LIMIT are clustered in full and every other text
    joins the cluster whose centre is nearest (by wording), if within the threshold and not about
    another product, or stays alone: memory stays linear, and a recurring problem has frequent variants."""
    from scipy.sparse import csr_matrix
    from sklearn.preprocessing import normalize

    matrix = vectors.combined
    n = matrix.shape[0]
    if n <= DENSE_LIMIT:
        return _dense_labels(similarity(np.arange(n)), threshold)
    head = np.argsort(-counts, kind="stable")[:DENSE_LIMIT]
    head_labels = _dense_labels(similarity(head), threshold)
    groups = np.unique(head_labels)
    membership = csr_matrix((np.ones(len(head)), (np.searchsorted(groups, head_labels), np.arange(len(head)))),
                            shape=(len(groups), len(head)))
    centres = normalize(membership @ matrix[head]).T.tocsc()
    # A text naming a product joins only a cluster mostly about that product (by sessions).
    mentions: dict[int, Counter] = defaultdict(Counter)
    for i, label in zip(head.tolist(), head_labels.tolist()):
        mentions[label].update({product: int(counts[i]) for product in vectors.anchors[i]})
    named = {label: {p for p, n in c.items() if n == max(c.values())} for label, c in mentions.items()}
    labels = np.full(n, -1, dtype=np.int64)
    labels[head] = head_labels
    rest = np.setdiff1d(np.arange(n), head)
    for chunk in np.array_split(rest, max(1, len(rest) // 5000)):
        closeness = (matrix[chunk] @ centres).toarray()
        best = closeness.argmax(axis=1)
        close = closeness.max(axis=1) >= 1 - threshold
        for i, b, c in zip(chunk.tolist(), best.tolist(), close.tolist()):
            products = vectors.anchors[i]
            if c and (not products or not named.get(groups[b]) or products & named[groups[b]]):
                labels[i] = groups[b]
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
                  fixes: Sequence[Mapping[str, int]] | None = None,
                  evidence: Sequence[Mapping[str, int]] | None = None,
                  learned: LearnedVocabulary | None = None) -> list[Cluster]:
    """Clusters of similar texts whose counts add up to at least ``min_count``, biggest first.

    ``fixes`` (per item, its resolved sessions by fix) also joins clusters resolved the same
    specific way; ``evidence`` (per item, its fixes and improvised steps by text) makes texts
    with similar evidence closer; ``learned`` relates words the account's matched sessions use
    for the same problem. Texts that say nothing about the problem ("see ticket", "user says it's
    not working": ``vocabulary.is_informative``) are left out, never clustered on their emptiness.
    """
    usable = [i for i, item in enumerate(items) if is_informative(item.text) and content_words(canonical(item.text))]
    if not usable:
        return []
    texts = [items[i].text for i in usable]
    counts = np.array([items[i].count for i in usable], dtype=np.int64)
    vectors = _vectorise(texts)
    usable_evidence = [evidence[i] for i in usable] if evidence is not None else None

    def similarity(rows: np.ndarray) -> np.ndarray:
        return _similarity(vectors, rows, usable_evidence, learned)

    labels = _labels(vectors, counts, distance_threshold, similarity) if len(texts) > 1 else np.zeros(1, dtype=int)
    if fixes is not None:
        labels = join_by_shared_fix(labels, [fixes[i] for i in usable])

    matrix, word_matrix, vocabulary = vectors.combined, vectors.words, vectors.vocabulary
    surface = _surface_words(canonical(t) for t in texts)
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
        present = np.flatnonzero(inside > 0)
        order = [j for j in present[np.argsort(-lift[present], kind="stable")] if " " not in vocabulary[j]]
        label_terms = tuple(_READABLE.get(vocabulary[j], surface.get(vocabulary[j], vocabulary[j]))
                            for j in order[:LABEL_TERMS])
        clusters.append(Cluster(tuple(usable[i] for i in local), label_terms, usable[representative]))
    clusters.sort(key=lambda c: (-sum(items[i].count for i in c.members), items[c.representative].text))
    return clusters


def learn_from_matched(summaries: Mapping[str, Sequence[str]]) -> LearnedVocabulary:
    """The account's vocabulary (``vocabulary.learn_vocabulary``) from its matched sessions'
    normalised summaries, per flow, in the clustering's own words."""
    from core.gaps.vocabulary import learn_vocabulary

    return learn_vocabulary(summaries, lambda text: [w for w in terms(canonical(text)) if w not in GENERIC_WORDS])
