"""Pairwise precision and recall of the repeated-pattern clustering on a hand-written evaluation set
(``tests/data/paraphrase_families.json``): families of wordings of one problem, one-off problems and
summaries that say nothing. Used by ``benchmarks/clustering_bench.py`` and the unit tests.

Every wording is one distinct summary of one session. A pair of summaries is *true* when both
belong to the same family; *predicted* when the clustering puts them in one cluster. Precision is
the share of predicted pairs that are true, recall the share of true pairs predicted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from core.gaps.clustering import TextCount, cluster_texts, learn_from_matched, normalise
from core.gaps.thresholds import DEFAULT_THRESHOLDS


@dataclass(frozen=True)
class Case:
    summary: str
    family: str | None  # None: a one-off or a non-informative summary
    domain: str | None
    resolution: str | None
    steps: tuple[str, ...]
    informative: bool = True


@dataclass(frozen=True)
class EvaluationSet:
    cases: tuple[Case, ...]
    flows: tuple[tuple[str, str | None, tuple[str, ...]], ...]  # (flow, domain, matched summaries)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    found_pairs: int
    # Per family: the largest share of its wordings found in one cluster.
    families: dict[str, float]
    # Clusters of two or more that hold a non-informative summary.
    non_informative_clustered: int


def load(path: str | Path) -> EvaluationSet:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    cases = []
    for family in data["families"]:
        for item in family["items"]:
            cases.append(Case(item["summary"], family["id"], item.get("domain", family.get("domain")),
                              item.get("resolution"), tuple(item.get("steps", ()))))
    for item in data["one_offs"]:
        cases.append(Case(item["summary"], None, item.get("domain"), item.get("resolution"), tuple(item.get("steps", ()))))
    for item in data["non_informative"]:
        cases.append(Case(item["summary"], None, item.get("domain"), item.get("resolution"),
                          tuple(item.get("steps", ())), informative=False))
    flows = tuple((f["flow"], f.get("domain"), tuple(f["summaries"])) for f in data.get("account_flows", ()))
    return EvaluationSet(tuple(cases), flows)


def exact_match_labels(cases: Sequence[Case]) -> list[int]:
    """The trivial baseline: one cluster per normalised wording."""
    ids: dict[str, int] = {}
    return [ids.setdefault(normalise(c.summary), len(ids)) for c in cases]


def clustering_labels(evaluation: EvaluationSet, distance_threshold: float | None = None, *,
                      evidence: bool = True, learned: bool = True) -> list[int]:
    """The clustering's labels, with the inputs the repeated-pattern signal gives it: each
    summary's fix and improvised steps (``evidence``) and the vocabulary learned from the
    account's matched sessions (``learned``); either can be left out to measure what it brings."""
    cases = evaluation.cases
    threshold = DEFAULT_THRESHOLDS.cluster_distance if distance_threshold is None else distance_threshold
    items = [TextCount(normalise(c.summary), 1) for c in cases]
    fixes = [Counter({normalise(c.resolution): 1}) if c.resolution else Counter() for c in cases]
    context = [fix + Counter(normalise(s) for s in c.steps) for fix, c in zip(fixes, cases)]
    vocabulary = learn_from_matched({flow: [normalise(t) for t in texts] for flow, _, texts in evaluation.flows})
    labels = list(range(len(cases), 2 * len(cases)))  # alone unless clustered
    for n, cluster in enumerate(cluster_texts(items, threshold, 1, fixes, context if evidence else None,
                                              vocabulary if learned else None)):
        for i in cluster.members:
            labels[i] = n
    return labels


def score(cases: Sequence[Case], labels: Sequence[int]) -> Score:
    true = predicted = found = 0
    for i, j in combinations(range(len(cases)), 2):
        same_family = cases[i].family is not None and cases[i].family == cases[j].family
        same_cluster = labels[i] == labels[j]
        true += same_family
        predicted += same_cluster
        found += same_family and same_cluster
    families: dict[str, float] = {}
    for family in sorted({c.family for c in cases if c.family}):
        members = [labels[i] for i, c in enumerate(cases) if c.family == family]
        families[family] = Counter(members).most_common(1)[0][1] / len(members)
    sizes = Counter(labels)
    clustered = sum(1 for c, label in zip(cases, labels) if not c.informative and sizes[label] > 1)
    return Score(found / predicted if predicted else 1.0, found / true if true else 1.0, true, predicted, found,
                 families, clustered)
