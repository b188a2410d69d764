"""Clustering benchmark: pairwise precision and recall of the repeated-pattern clustering on the
hand-written evaluation set (``tests/data/paraphrase_families.json``), beside a trivial baseline
(one cluster per normalised wording).

    .venv/bin/python benchmarks/clustering_bench.py [--set FILE] [--distance 0.75] [--families]

Target, with the defaults: precision at least 0.9 and recall at least 0.75.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.gaps import cluster_eval  # noqa: E402

DEFAULT_SET = REPO / "tests" / "data" / "paraphrase_families.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default=str(DEFAULT_SET), help="the evaluation set (JSON)")
    parser.add_argument("--distance", type=float, default=None, help="cluster distance (default: the thresholds')")
    parser.add_argument("--families", action="store_true", help="print each family's best share and the clusters")
    args = parser.parse_args()

    evaluation = cluster_eval.load(args.set)
    cases = evaluation.cases
    families = {c.family for c in cases if c.family}
    print(f"{len(cases)} summaries: {len(families)} families, "
          f"{sum(1 for c in cases if c.family is None and c.informative)} one-offs, "
          f"{sum(1 for c in cases if not c.informative)} non-informative")
    cluster_eval.clustering_labels(evaluation, args.distance)  # imports scikit-learn: not part of the timing
    started = time.perf_counter()
    labels = cluster_eval.clustering_labels(evaluation, args.distance)
    elapsed = time.perf_counter() - started
    rows = [("exact normalised match", cluster_eval.score(cases, cluster_eval.exact_match_labels(cases))),
            ("clustering (defaults)", cluster_eval.score(cases, labels)),
            ("  without learned words", cluster_eval.score(
                cases, cluster_eval.clustering_labels(evaluation, args.distance, learned=False))),
            ("  without fixes and steps", cluster_eval.score(
                cases, cluster_eval.clustering_labels(evaluation, args.distance, evidence=False))),
            ("  summaries alone", cluster_eval.score(
                cases, cluster_eval.clustering_labels(evaluation, args.distance, evidence=False, learned=False)))]
    print(f"{'method':<26}{'precision':>10}{'recall':>8}{'pairs found':>14}{'predicted':>11}{'non-inf. clustered':>20}")
    for name, s in rows:
        print(f"{name:<26}{s.precision:>10.3f}{s.recall:>8.3f}{s.found_pairs:>8}/{s.true_pairs:<5}"
              f"{s.predicted_pairs:>11}{s.non_informative_clustered:>20}")
    print(f"clustering took {elapsed:.2f} s; target: precision >= 0.9 and recall >= 0.75")
    if args.families:
        for family, share in rows[1][1].families.items():
            print(f"  {family:<24} {share:.0%} in one cluster")
        groups: dict[int, list[str]] = {}
        for case, label in zip(cases, labels):
            groups.setdefault(label, []).append(f"{case.family or '-'}: {case.summary}")
        for members in sorted((m for m in groups.values() if len(m) > 1), key=len, reverse=True):
            print("  cluster:\n    " + "\n    ".join(members))
    s = rows[1][1]
    return 0 if s.precision >= 0.9 and s.recall >= 0.75 else 1


if __name__ == "__main__":
    sys.exit(main())
