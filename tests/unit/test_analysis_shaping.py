"""Session analysis, the pure part: paths, classification, trees, clustering, merging."""

from __future__ import annotations

from datetime import datetime, timezone

from core.analysis import clustering
from core.analysis.classify import classify
from core.analysis.evidence import Analysed, FlowRef, Tallies, confidence, merge_batch
from core.analysis.paths import PathStep, clip, session_path
from core.analysis.tree_building import UNEXPLORED, End, graft, merge_into_tree, tree_from_path
from core.flows.diff import tree_diff
from core.flows.trees import tree_problems

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)

FLOW_TREE = {"root": "q_client", "nodes": {
    "q_client": {"type": "question", "text": "Which Outlook is the user on?",
                 "options": [{"label": "Classic Outlook", "next": "a_ost"}, {"label": "Outlook mobile", "next": "a_mobile"}]},
    "a_ost": {"type": "action", "text": "Rebuild the OST", "next": "q_ok"},
    "a_mobile": {"type": "action", "text": "Re-add the account on the phone", "next": "q_ok"},
    "q_ok": {"type": "question", "text": "Is mail arriving now?",
             "options": [{"label": "Yes", "next": "r_ok"}, {"label": "No", "next": "e_mail"}]},
    "r_ok": {"type": "resolution", "text": "Mail is flowing again"},
    "e_mail": {"type": "escalation", "text": "Escalate to the messaging team"},
}}
FLOW = FlowRef(7, "fl-outlook", "Outlook not syncing", 2, FLOW_TREE, "email")


def q(node, text, answer, *, free=False, options=()):
    return PathStep("question", node, text, tuple(options), answer, free, None)


def act(node, text, outcome="succeeded", kind="action"):
    return PathStep(kind, node, text, (), None, False, outcome)


def res(node, text="Mail is flowing again"):
    return PathStep("resolution", node, text)


def conforming_path():
    return [q("q_client", "Which Outlook is the user on?", "Classic Outlook"), act("a_ost", "Rebuild the OST"),
            q("q_ok", "Is mail arriving now?", "Yes"), res("r_ok")]


def new_outlook_path(answer="New Outlook"):
    return [q("q_client", "Which Outlook is the user on?", answer, free=True), act("a_ost", "Rebuild the OST"),
            q("q_ok", "Is mail arriving now?", "Yes"), res("r_ok")]


MAPPED_DRIVE = [
    q(None, "Does the drive reconnect when the user clicks it?", "Yes, after a few seconds",
      options=("Yes, after a few seconds", "No, it asks for credentials")),
    act(None, "List the mapped drives and test SMB to the file server", kind="script"),
    res(None, "Set the drive map to Replace"),
]


# --- paths -------------------------------------------------------------------------------------


def test_a_path_drops_notes_keeps_the_last_try_of_a_retried_action_and_stops_at_the_resolution():
    rows = [
        (1, "question", "q_client", "Which Outlook is the user on?", ["Classic Outlook"], "Classic Outlook", False, None),
        (2, "note", None, None, None, "Called the user back", False, None),
        (3, "action", "a_ost", "Rebuild the OST", None, None, False, "failed"),
        (4, "action", "a_ost", "Rebuild the OST", None, None, False, "succeeded"),
        (5, "resolution", "r_ok", "Mail is flowing again", None, None, False, None),
        (6, "action", None, "Something after the end", None, None, False, "succeeded"),
    ]
    path = session_path(reversed(rows))
    assert [(s.kind, s.node_id, s.outcome) for s in path] == [
        ("question", "q_client", None), ("action", "a_ost", "succeeded"), ("resolution", "r_ok", None)]


def test_untrusted_free_text_is_kept_as_plain_text_and_clipped_to_the_tree_limits():
    typed = "<script>alert(1)</script>   " + "x" * 300
    path = session_path([(1, "question", None, "Which?", None, typed, True, None)])
    assert path[0].answer.startswith("<script>alert(1)</script> x")
    tree = tree_from_path([*path, act(None, "Do it"), res(None, "Done")])
    labels = [o["label"] for o in tree["nodes"][tree["root"]]["options"]]
    assert len(labels[0]) == 200 and labels[0].startswith("<script>")
    assert tree_problems(tree) == []
    assert len(clip("y" * 5000)) == 2000


# --- classification ----------------------------------------------------------------------------


def test_a_session_that_followed_its_flow_to_a_resolution_needs_no_proposal():
    assert classify(conforming_path(), FLOW_TREE, True, None).kind == "conforming"


def test_a_typed_answer_at_a_question_is_an_enhancement_adding_that_option():
    verdict = classify(new_outlook_path(), FLOW_TREE, True, None)
    assert verdict.kind == "enhancement"
    (deviation,) = verdict.deviations
    assert (deviation.anchor, deviation.exit_kind, deviation.label, deviation.end.node) == (
        "q_client", "free", "New Outlook", "a_ost")


def test_off_flow_steps_and_a_resolution_the_tree_does_not_reach_are_an_enhancement():
    path = [q("q_client", "Which Outlook is the user on?", "Classic Outlook"), act("a_ost", "Rebuild the OST", "failed"),
            act(None, "Repair the Office installation"), res(None, "Repaired Office")]
    (deviation,) = classify(path, FLOW_TREE, True, None).deviations
    assert deviation.anchor == "a_ost" and deviation.exit_kind == "next"
    assert [s.text for s in deviation.steps] == ["Repair the Office installation"]
    assert deviation.end == End(kind="resolution", text="Repaired Office")


def test_a_session_without_a_matched_flow_is_evidence_for_a_new_flow_unless_nothing_was_done():
    assert classify(MAPPED_DRIVE, None, False, None).kind == "new_flow"
    nothing_done = [q(None, "What is the user seeing?", "It's slow", options=("It's slow", "An error")),
                    res(None, "Went away")]
    verdict = classify(nothing_done, None, False, None)
    assert verdict.kind == "unusable" and "no action" in verdict.reason


# --- trees -------------------------------------------------------------------------------------


def test_the_enhancement_tree_adds_the_option_and_the_diff_says_so():
    (deviation,) = classify(new_outlook_path(), FLOW_TREE, True, None).deviations
    tree = graft(FLOW_TREE, deviation.anchor, deviation.exit_kind, deviation.label, deviation.steps, deviation.end)
    assert tree_problems(tree) == []
    diff = tree_diff(FLOW_TREE, tree)
    assert diff["options_added"] == [{"node": "q_client", "label": "New Outlook", "next": "a_ost"}]
    assert diff["nodes_added"] == diff["nodes_removed"] == diff["options_removed"] == []


def test_a_new_branch_after_an_action_forks_instead_of_cutting_off_the_published_path():
    path = [q("q_client", "Which Outlook is the user on?", "Classic Outlook"), act("a_ost", "Rebuild the OST"),
            act(None, "Repair the Office installation"), res(None, "Repaired Office")]
    (deviation,) = classify(path, FLOW_TREE, True, None).deviations
    tree = graft(FLOW_TREE, deviation.anchor, deviation.exit_kind, deviation.label, deviation.steps, deviation.end)
    assert tree_problems(tree) == []
    fork = tree["nodes"][tree["nodes"]["a_ost"]["next"]]
    assert fork["type"] == "question"
    assert [o["label"] for o in fork["options"]] == ["Is mail arriving now?", "Repair the Office installation"]


def test_a_new_flow_tree_offers_every_answer_seen_and_unexplored_ones_escalate():
    tree = tree_from_path(MAPPED_DRIVE)
    assert tree_problems(tree) == []
    root = tree["nodes"][tree["root"]]
    assert [o["label"] for o in root["options"]] == ["Yes, after a few seconds", "No, it asks for credentials"]
    assert root["options"][1]["next"] == UNEXPLORED


def test_a_second_path_becomes_a_branch_where_it_parts_from_the_first_and_shares_the_rest():
    other = [q(None, MAPPED_DRIVE[0].text, "No, it asks for credentials", options=MAPPED_DRIVE[0].options),
             *MAPPED_DRIVE[1:]]
    tree = merge_into_tree(tree_from_path(MAPPED_DRIVE), other)
    assert tree_problems(tree) == []
    root = tree["nodes"][tree["root"]]
    assert root["options"][0]["next"] == root["options"][1]["next"], "the common tail is shared, not copied"
    assert UNEXPLORED not in tree["nodes"]

    different_fix = [*MAPPED_DRIVE[:2], res(None, "Re-mapped the drive by FQDN")]
    forked = merge_into_tree(tree, different_fix)
    assert tree_problems(forked) == []
    script = next(n for n in forked["nodes"].values() if n["type"] == "script")
    fork = forked["nodes"][script["next"]]
    assert {o["label"] for o in fork["options"]} == {"Set the drive map to Replace", "Re-mapped the drive by FQDN"}


# --- clustering --------------------------------------------------------------------------------


def proposal_features_for(summary, path, resolution):
    return clustering.proposal_features(f"New flow: {summary}", [summary], tree_from_path(path, resolution))


def test_paraphrased_summaries_of_the_same_problem_cluster_together():
    existing = proposal_features_for("Mapped drive disconnects after reboot", MAPPED_DRIVE, None)
    session = clustering.session_features("Drive mappings lost after Windows update", MAPPED_DRIVE, None)
    assert clustering.similarity(session, existing) is not None


def test_different_problems_that_share_only_generic_steps_stay_apart():
    generic = [q(None, "How many users are affected?", "Just this user", options=("Just this user", "Everyone")),
               act(None, "Reproduce the problem on a remote session"), res(None, "Updated the AirPlay receiver")]
    existing = proposal_features_for("Boardroom TV won't mirror from a MacBook", generic, None)
    other = [*generic[:2], res(None, "Recalibrated the label printer")]
    session = clustering.session_features("Label printer prints blank labels", other, None)
    assert clustering.similarity(session, existing) is None


def test_a_session_that_walked_the_whole_path_of_a_proposal_and_went_on_joins_it():
    sip = act(None, "Turn off SIP ALG on the firewall and restart the phones")
    fixed_first = [sip, res(None, "Turned off SIP ALG on the firewall")]
    existing = proposal_features_for("One-way audio on calls", fixed_first, None)
    went_on = [act(None, sip.text, outcome="failed"),
               q(None, "Which way is the audio missing?", "The other party can't hear us",
                 options=("The other party can't hear us", "We can't hear the other party")),
               act(None, "Set the phone system's external NAT address to the site's public IP"),
               res(None, "Corrected the phone system's external NAT address")]
    session = clustering.session_features("Calls connect but no audio from the other side", went_on, None)
    assert clustering.similarity(session, existing) is not None


def test_sessions_without_a_domain_may_join_any_cluster_but_domains_must_otherwise_agree():
    assert clustering.domains_compatible(None, "server")
    assert clustering.domains_compatible("server", None)
    assert not clustering.domains_compatible("email", "server")


# --- merging into proposals --------------------------------------------------------------------


def analysed(n, path, *, flow=None, summary="Mapped drive disconnects after reboot", domain="server", account=1):
    verdict = classify(path, flow.tree if flow else None, flow is not None, None)
    return Analysed(queue_id=n, session_id=n, account_id=account, domain=domain, summary=summary,
                    resolution_summary=None, verdict=verdict, flow=flow)


def test_two_similar_sessions_feed_one_proposal_and_a_later_third_grows_it():
    first = merge_batch([analysed(1, MAPPED_DRIVE), analysed(2, MAPPED_DRIVE, summary="S: drive shows a red X at login")],
                        [], {}, NOW)
    (proposal,) = first.proposals
    assert proposal.proposal_type == "new_flow" and proposal.support_count == 2
    assert proposal.new_links == [1, 2]
    assert proposal.title == "New flow: Mapped drive disconnects after reboot"

    proposal.id, proposal.new_links, proposal.dirty = 41, [], False
    later = merge_batch([analysed(3, MAPPED_DRIVE, summary="Network drive not reconnecting after restart")],
                        [proposal], {}, NOW)
    assert later.proposals == [proposal]
    assert proposal.support_count == 3 and proposal.new_links == [3]
    assert later.outcomes[3] == ("new_flow", "a new flow: supports #41 (updated)")


def test_domainless_sessions_merge_by_text():
    merge = merge_batch([analysed(1, MAPPED_DRIVE), analysed(2, MAPPED_DRIVE, domain=None)], [], {}, NOW)
    (proposal,) = merge.proposals
    assert proposal.support_count == 2 and proposal.domain == "server"


def test_typed_paraphrases_of_one_missing_option_make_one_enhancement_named_after_the_most_common():
    items = [analysed(1, new_outlook_path("The new Outlook for Windows"), flow=FLOW),
             analysed(2, new_outlook_path("New Outlook"), flow=FLOW),
             analysed(3, new_outlook_path("new outlook"), flow=FLOW),
             analysed(4, conforming_path(), flow=FLOW)]
    merge = merge_batch(items, [], {}, NOW)
    (proposal,) = merge.proposals
    assert proposal.proposal_type == "enhancement" and proposal.support_count == 3
    assert (proposal.target_flow_id, proposal.target_flow_version, proposal.domain) == (7, 2, "email")
    labels = [o["label"] for o in proposal.tree["nodes"]["q_client"]["options"]]
    assert labels == ["Classic Outlook", "Outlook mobile", "New Outlook"]
    assert proposal.diff["options_added"] == [{"node": "q_client", "label": "New Outlook", "next": "a_ost"}]
    assert "add the answer “New Outlook”" in proposal.title
    assert proposal.summary.startswith("New option “New Outlook” at ")  # as the title, not the first typed
    assert merge.outcomes[4][0] == "conforming"


def test_a_session_analysed_twice_is_not_counted_twice():
    merge = merge_batch([analysed(1, MAPPED_DRIVE)], [], {1: [41]}, NOW)
    assert merge.proposals == []
    assert merge.outcomes[1] == ("already_counted", "already supports proposal #41")


def test_a_path_that_cannot_make_a_valid_tree_is_recorded_with_the_reason_never_proposed():
    nameless = [q(None, "", "Yes", options=("Yes", "No")), *MAPPED_DRIVE[1:]]
    merge = merge_batch([analysed(1, nameless)], [], {}, NOW)
    assert merge.proposals == []
    result, detail = merge.outcomes[1]
    assert result == "no_proposal" and "cannot make a valid tree" in detail and "text" in detail


def open_proposal(status, support, *, reviewed=None):
    merge = merge_batch([analysed(100 + k, MAPPED_DRIVE) for k in range(support)], [], {}, NOW)
    (p,) = merge.proposals
    p.id, p.status, p.new_links, p.dirty, p.reviewed_at = 9, status, [], False, reviewed
    return p


def test_a_dismissed_proposal_comes_back_as_pending_when_new_evidence_arrives():
    dismissed = open_proposal("dismissed", 2)
    merge_batch([analysed(1, MAPPED_DRIVE)], [dismissed], {}, NOW)
    assert dismissed.status == "pending" and dismissed.support_count == 3


def test_a_rejected_proposal_is_proposed_again_only_when_the_evidence_has_doubled():
    rejected = open_proposal("rejected", 6, reviewed=NOW)
    rejected.held_back = 4
    held = merge_batch([analysed(1, MAPPED_DRIVE)], [rejected], {}, NOW)
    assert held.outcomes[1][0] == "held_back" and "5 of 6" in held.outcomes[1][1]
    assert [(p.id, s) for p, s in held.held_back] == [(9, 1)]
    assert [p for p in held.proposals if p.id is None] == []

    again = merge_batch([analysed(2, MAPPED_DRIVE)], [rejected], {}, NOW)
    (fresh,) = [p for p in again.proposals if p.id is None]
    assert fresh.status == "pending" and fresh.support_count == 6
    assert fresh.copy_links_since == (9, NOW)
    assert "rejected" in fresh.confidence_rationale


def test_confidence_grows_with_support_and_with_consistent_clean_paths():
    def score(sessions, same, clean):
        tallies = Tallies(sessions=sessions, clean=clean)
        tallies.paths.update({"a": same, "b": sessions - same} if sessions > same else {"a": same})
        return confidence(tallies, sessions)

    one, rationale = score(1, 1, 1)
    assert one < score(5, 5, 5)[0] < score(20, 20, 20)[0] <= 1
    assert score(20, 5, 20)[0] < score(20, 20, 20)[0]
    assert score(20, 20, 5)[0] < score(20, 20, 20)[0]
    assert "Supported by 1 resolved session." in rationale and "more evidence" in rationale


def test_a_new_flow_title_drops_the_details_engineers_tack_onto_the_same_summary():
    items = [analysed(n, MAPPED_DRIVE, summary=f"Out-of-office not sent to external senders{detail}")
             for n, detail in enumerate((" at the warehouse", "", " - urgent"), start=1)]
    (proposal,) = merge_batch(items, [], {}, NOW).proposals
    assert proposal.title == "New flow: Out-of-office not sent to external senders"


def test_sessions_that_pick_an_offered_answer_and_then_do_something_else_propose_that_branch():
    # "Classic Outlook" leads to rebuilding the OST; these sessions repaired Office instead.
    repaired = [q("q_client", "Which Outlook is the user on?", "Classic Outlook"),
                act(None, "Run the Office quick repair"), res(None, "Office repaired, mail flows")]
    merge = merge_batch([analysed(1, repaired, flow=FLOW), analysed(2, repaired, flow=FLOW)], [], {}, NOW)

    assert [result for result, _ in merge.outcomes.values()] == ["enhancement", "enhancement"]
    (proposal,) = merge.proposals
    assert proposal.support_count == 2
    fork = proposal.tree["nodes"][proposal.tree["nodes"]["q_client"]["options"][0]["next"]]
    assert [o["label"] for o in fork["options"]] == ["Rebuild the OST", "Run the Office quick repair"]
    assert tree_problems(proposal.tree) == []
