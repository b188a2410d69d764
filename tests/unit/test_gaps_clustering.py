"""The repeated-pattern clustering on wordings it was not tuned on: the evaluation set's targets,
product names, device words, summaries that say nothing, and the vocabulary learned from the
account's matched sessions."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from core.gaps import cluster_eval, signals
from core.gaps.clustering import TextCount, canonical, cluster_texts, content_words, learn_from_matched, normalise
from core.gaps.queries import MatchedSummaryRow, SummaryRow
from core.gaps.thresholds import DEFAULT_THRESHOLDS as T
from core.gaps.vocabulary import FILLER_WORDS, is_informative, non_informative_sessions

EVALUATION_SET = Path(__file__).resolve().parents[1] / "data" / "paraphrase_families.json"


def groups(texts, **kwargs):
    items = [TextCount(normalise(t), 1) for t in texts]
    clusters = cluster_texts(items, T.cluster_distance, 1, **kwargs)
    return sorted(sorted(items[i].text for i in c.members) for c in clusters)


def test_the_evaluation_set_is_as_large_and_varied_as_promised():
    evaluation = cluster_eval.load(EVALUATION_SET)
    families = {}
    for case in evaluation.cases:
        if case.family:
            families.setdefault(case.family, []).append(case)
    assert len(families) >= 12 and all(len(members) >= 6 for members in families.values())
    assert sum(1 for c in evaluation.cases if c.family is None and c.informative) >= 40
    assert len({c.domain for c in evaluation.cases if c.family}) >= 8


def test_the_clustering_meets_its_precision_and_recall_targets_on_the_evaluation_set_with_the_defaults():
    evaluation = cluster_eval.load(EVALUATION_SET)
    score = cluster_eval.score(evaluation.cases, cluster_eval.clustering_labels(evaluation))
    assert score.precision >= 0.9, score
    assert score.recall >= 0.75, score
    assert score.non_informative_clustered == 0


def test_the_scoring_counts_pairs_of_one_family_in_one_cluster():
    cases = [cluster_eval.Case(s, f, None, None, ()) for s, f in
             [("a", "x"), ("b", "x"), ("c", "x"), ("d", None), ("e", "y"), ("f", "y")]]
    score = cluster_eval.score(cases, [1, 1, 2, 1, 3, 3])
    # True pairs: ab ac bc ef (4); predicted: ab ad bd ef (4); found: ab ef.
    assert (score.true_pairs, score.predicted_pairs, score.found_pairs) == (4, 4, 2)
    assert (score.precision, score.recall) == (0.5, 0.5)
    assert score.families == {"x": 2 / 3, "y": 1.0}


def test_the_product_teams_is_not_swallowed_as_filler_and_anchors_its_cluster():
    assert "team" not in FILLER_WORDS and "teams" not in FILLER_WORDS
    assert "teams" in content_words(canonical("ms teams won't open"))
    teams = ["Teams won't open", "Microsoft Teams won't open", "MS Teams not opening"]
    others = ["Outlook won't open", "Sage won't open"]
    assert groups(teams + others) == sorted([sorted(normalise(t) for t in teams), [normalise(others[0])],
                                             [normalise(others[1])]])


def test_different_products_are_different_problems_whatever_else_they_share():
    assert groups(["OneDrive not syncing", "SharePoint not syncing"]) == [["onedrive not syncing"],
                                                                          ["sharepoint not syncing"]]


def test_laptop_pc_and_computer_do_not_join_unrelated_problems():
    texts = ["Laptop won't charge", "Laptop screen cracked", "Computer fan very loud", "PC won't power on",
             "Laptop keyboard keys sticking", "Desktop computer beeping at start"]
    assert all(len(g) == 1 for g in groups(texts))


def test_see_ticket_and_its_kind_never_form_a_recurring_problem():
    rows = [SummaryRow(t, None, True, 40, 10, "called user back") for t in
            ("see ticket", "see ticket #4412", "as per call", "user says it's not working", "laptop not working")]
    assert signals.repeated_patterns(rows, T) == []
    assert non_informative_sessions((r.summary, r.sessions) for r in rows) == 200


@given(st.sampled_from(["see ticket", "as per call", "as per email", "see attached", "please call user",
                        "user says it's not working", "not working", "issue", "urgent!!", "ref ticket #4521"]),
       st.sampled_from(["", " ", "!!", ".", " - pls"]))
@settings(max_examples=60, deadline=None)
def test_references_and_complaints_without_a_problem_say_nothing(text, tail):
    assert not is_informative(normalise(text + tail))


def test_a_summary_naming_a_product_or_a_symptom_says_something():
    for text in ("outlook", "vpn down", "printer jammed", "c: drive full", "can't scan to email", "teams"):
        assert is_informative(normalise(text)), text


def test_wordings_sharing_no_word_join_when_the_accounts_matched_sessions_use_them_for_one_problem():
    matched = {
        "fl-copier-jam": ["copier jammed", "mfp paper stuck", "copier paper stuck", "mfp jammed again",
                          "paper jam on the copier", "mfp stuck on paper jam"],
        "fl-password": ["password expired", "forgot password", "password reset", "reset the password"],
    }
    learned = learn_from_matched(matched)
    assert learned.related.get("mfp", {}).get("copier", 0) > 0.5
    texts = ["copier jammed", "mfp stuck"]
    assert groups(texts) == [["copier jammed"], ["mfp stuck"]]
    assert groups(texts, learned=learned) == [["copier jammed", "mfp stuck"]]


def test_similar_fixes_and_improvised_steps_bring_differently_worded_summaries_together():
    texts = ["Outlook search not returning results", "Can't find old emails with the search bar"]
    evidence = [{"rebuilt the windows search index": 1, "open indexing options": 1},
                {"rebuilt search index from indexing options": 1}]
    assert len(groups(texts)) == 2
    assert groups(texts, evidence=evidence) == [sorted(normalise(t) for t in texts)]


def test_the_repeated_pattern_signal_uses_the_matched_sessions_vocabulary():
    rows = [SummaryRow("copier jammed", "printing", True, 3, 0), SummaryRow("mfp stuck", "printing", True, 3, 0)]
    matched = [MatchedSummaryRow("fl-copier-jam", t, 2) for t in
               ("copier jammed", "mfp paper stuck", "copier paper stuck", "mfp jammed again")]
    assert signals.repeated_patterns(rows, T) == []  # two patterns of 3: each under the minimum of 5
    [gap] = signals.repeated_patterns(rows, T, matched=matched)
    assert gap.evidence["sessions"] == 6 and gap.evidence["distinct_summaries"] == 2


def test_a_routine_step_tried_on_every_kind_of_problem_is_no_evidence_that_they_are_one():
    texts = ["Boardroom TV won't mirror from a MacBook", "Label printer prints blank labels",
             "Excel macro throws runtime error 1004", "Xero bank feed not updating", "AutoCAD licence not found",
             "Guest Wi-Fi captive portal not showing", "Smart thermostat can't join the IoT VLAN",
             "Certificate warning on the intranet site"]
    routine = [{"reproduce the problem with the user on a remote session": 1}] * len(texts)
    assert all(len(g) == 1 for g in groups(texts, evidence=routine))
