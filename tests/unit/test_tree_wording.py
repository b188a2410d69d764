"""Proposed trees read as an engineer's: the wording rules (``core.flows.trees.tree_warnings``) and the
analysis's wording of the trees it proposes (``core.analysis.wording``), on hand-made sessions."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.analysis.classify import classify
from core.analysis.evidence import Analysed, FlowRef, merge_batch, question_noun
from core.analysis.paths import PathStep, clip
from core.analysis.tree_building import merge_into_tree, tree_from_path
from core.analysis.wording import DID_IT_WORK, WHICH_FIX, merged_label, present, short_label, still_there
from core.flows.trees import imperative, title_warnings, tree_problems, tree_warnings

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def q(text, answer, *, options=(), free=False, node=None):
    return PathStep("question", node, text, tuple(options), answer, free, None)


def act(text, outcome="succeeded", kind="action", node=None):
    return PathStep(kind, node, text, (), None, False, outcome)


def res(text, node=None):
    return PathStep("resolution", node, text)


def analysed(n, path, *, summary="One-way audio on calls", domain="voip", flow=None):
    verdict = classify(path, flow.tree if flow else None, flow is not None, None)
    return Analysed(queue_id=n, session_id=n, account_id=1, domain=domain, summary=summary,
                    resolution_summary=None, verdict=verdict, flow=flow)


def proposal_of(*paths, **kwargs):
    merge = merge_batch([analysed(n, p, **kwargs) for n, p in enumerate(paths, start=1)], [], {}, NOW)
    (proposal,) = merge.proposals
    return proposal, merge


def walk(tree):
    """Every node's text with its type, root first: what a reader of the tree sees."""
    return {k: (n["type"], n["text"], [(o["label"], o["next"]) for o in n.get("options", [])]) for k, n in
            tree["nodes"].items()}


AUDIO = "Is the audio missing on inbound calls, outbound calls, or both?"
SIP = "Check SIP ALG and the RTP port range on the firewall"
CAPTURE = "Place a test call and capture the RTP stream"
FIX = "Disabled SIP ALG and opened the RTP range to the provider"


def audio_session(answer, *, sip_outcome="succeeded", capture=False):
    steps = [q(AUDIO, answer, options=("Inbound", "Outbound", "Both")), act(SIP, sip_outcome)]
    if capture:
        steps.append(act(CAPTURE))
    return [*steps, res(FIX)]


# --- the rules -----------------------------------------------------------------------------------

GOOD = {"root": "q1", "nodes": {
    "q1": {"type": "question", "text": "Is the printer offline?",
           "options": [{"label": "Yes", "next": "a1"}, {"label": "No", "next": "e1"}]},
    "a1": {"type": "action", "text": "Restart the Print Spooler service", "next": "r1"},
    "r1": {"type": "resolution", "text": "Restarted the spooler"},
    "e1": {"type": "escalation", "text": "Escalate to the network team"},
}}


def changed(change):
    tree = copy.deepcopy(GOOD)
    change(tree["nodes"])
    return tree


def one_way(nodes):
    """Both answers of q1 lead on to a1 (and the escalation, reached no more, goes)."""
    nodes["q1"]["options"][1]["next"] = "a1"
    del nodes["e1"]


def warned(tree, base=None):
    return [str(w) for w in tree_warnings(tree, base)]


def test_a_tree_an_engineer_wrote_has_no_warnings():
    assert warned(GOOD) == []


def test_a_question_whose_answers_all_lead_to_one_step_decides_nothing():
    tree = changed(one_way)
    assert tree_problems(tree) == []  # structurally fine: only a warning
    assert warned(tree) == ["nodes.q1.options: every answer leads to the same step: the question decides nothing "
                            "(drop it, or make the answers lead apart)"]


def test_adding_an_answer_to_a_published_question_that_records_a_fact_is_not_warned_about():
    published = changed(one_way)
    proposed = copy.deepcopy(published)
    proposed["nodes"]["q1"]["options"].append({"label": "Paused", "next": "a1"})
    assert warned(proposed, published) == []
    assert warned(proposed) != []  # judged as a whole tree, the question still decides nothing


def test_cut_texts_and_labels_machine_phrases_missing_question_marks_and_past_tense_actions_are_warned_about():
    def spoil(n):
        n["q1"]["text"] = "Is the printer offline"
        n["q1"]["options"][0]["label"] = "Place a test call and capture the RTP s…"
        n["a1"]["text"] = "Restarted the Print Spooler service"
        n["e1"]["text"] = "Which applies after the restart? (sessions went different ways here)"
    messages = warned(changed(spoil))
    assert any("nodes.q1.text: a question ends with a question mark" == m for m in messages)
    assert any(m.startswith("nodes.q1.options[0].label: the answer") and "cut off" in m for m in messages)
    assert any(m.startswith("nodes.a1.text: an action says what to do (“Restart”)") for m in messages)
    assert any(m.startswith("nodes.e1.text:") and "sessions went different ways" in m for m in messages)


def test_a_resolution_may_say_what_was_done():
    assert imperative("Restarted the spooler") == "Restart the spooler"
    assert warned(GOOD) == []  # r1 "Restarted the spooler" is a resolution


def test_a_cut_title_is_warned_about():
    assert title_warnings("Outlook: add the answer “New Outlook” to “Which Outlook is the…") != []
    assert title_warnings("Outlook not syncing: add “New Outlook” as a client") == []


# --- choosing words ------------------------------------------------------------------------------


def test_a_long_step_is_named_by_its_first_clause_and_nothing_is_ever_cut_mid_word():
    assert short_label("Set the GPO drive map to Replace and enable 'Always wait for the network at startup'") \
        == "Set the GPO drive map to Replace"
    assert short_label("Rebuild the OST") == "Rebuild the OST"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=400))
def test_whatever_was_typed_a_label_or_a_clipped_text_never_ends_in_an_ellipsis(text):
    label = short_label(text)
    assert label is None or (not label.endswith(("…", "...")) or text.strip().endswith(("…", "...")))
    assert label is None or len(label) <= 200
    flat = " ".join(text.split())
    clipped = clip(text, 50)
    assert len(clipped) <= 50 and flat.startswith(clipped)


def test_answers_that_lead_to_the_same_step_are_listed_together_or_summed_up():
    assert merged_label(["Inbound", "outbound"]) == "Inbound / Outbound"
    many = merged_label(["New phone, the old one was wiped", "Lost their phone", "Phone was stolen",
                         "Got a new phone and didn't move Authenticator over"])
    assert many == "Lost their phone / Phone was stolen or similar"


def test_the_noun_a_which_question_asks_for_names_the_new_answer_in_a_title():
    assert question_noun("Which dock is it?") == "dock"
    assert question_noun("Which backup product raised the alert?") == "backup product"
    assert question_noun("What is the user's MFA method?") == "MFA method"
    assert question_noun("What does the OneDrive icon show?") is None


# --- proposals from hand-made sessions ------------------------------------------------------------


def test_a_question_whose_answers_all_lead_to_the_same_step_is_dropped_from_a_new_flow():
    proposal, _ = proposal_of(audio_session("Inbound"), audio_session("Outbound"), audio_session("Both"))
    texts = [n["text"] for n in proposal.tree["nodes"].values()]
    assert AUDIO not in texts
    assert proposal.tree["nodes"][proposal.tree["root"]]["text"] == SIP
    # The merge still knows the question, so the next session walks the same tree.
    assert AUDIO in [n["text"] for n in proposal.working_tree["nodes"].values()]


def test_a_question_only_one_of_whose_answers_a_session_took_is_not_asked_in_a_new_flow():
    proposal, _ = proposal_of(audio_session("Inbound"))
    assert proposal.tree["nodes"][proposal.tree["root"]]["text"] == SIP
    assert AUDIO not in [n["text"] for n in proposal.tree["nodes"].values()]
    assert "No session has taken" not in str(proposal.tree)
    # The working tree keeps every answer offered, so a later session can take another.
    assert AUDIO in [n["text"] for n in proposal.working_tree["nodes"].values()]


def test_answers_no_session_took_are_not_offered_where_the_question_tells_situations_apart():
    method = "What is the user's MFA method?"
    options = ("Authenticator push", "SMS or phone call", "Hardware token")
    push = [q(method, "Authenticator push", options=options), act("Re-register the Authenticator app"),
            res("MFA working")]
    sms = [q(method, "SMS or phone call", options=options), act("Update the phone number in Entra ID"),
           res("MFA working again")]
    proposal, _ = proposal_of(push, sms, summary="MFA not working", domain="identity")
    root = proposal.tree["nodes"][proposal.tree["root"]]
    assert root["text"] == method
    assert [o["label"] for o in root["options"]] == ["Authenticator push", "SMS or phone call"]
    assert warned(proposal.tree) == []


def test_a_check_after_a_step_keeps_its_untaken_answer_which_escalates_in_plain_words():
    check = "Is more than 15% of the disk free now?"
    path = [act("Clean temp files and the Windows Update cache", kind="script"),
            q(check, "Yes", options=("Yes", "No")), res("Disk space recovered")]
    proposal, _ = proposal_of(path, summary="C: drive full", domain="endpoint")
    nodes = proposal.tree["nodes"]
    (question,) = [n for n in nodes.values() if n["text"] == check]
    yes, no = question["options"]
    assert (yes["label"], nodes[yes["next"]]["type"]) == ("Yes", "resolution")
    assert (no["label"], nodes[no["next"]]["type"], nodes[no["next"]]["text"]) == (
        "No", "escalation", "Escalate to second line")
    assert "No session has answered “No” at “Is more than 15% of the disk free now?” yet" in proposal.summary
    assert warned(proposal.tree) == []


def test_where_sessions_parted_after_a_failed_action_the_tree_asks_did_that_fix_it():
    proposal, _ = proposal_of(audio_session("Inbound"), audio_session("Inbound", sip_outcome="failed", capture=True))
    nodes = proposal.tree["nodes"]
    (sip,) = [k for k, n in nodes.items() if n["text"] == SIP]
    fork = nodes[nodes[sip]["next"]]
    assert fork["text"] == DID_IT_WORK
    yes, no = fork["options"]
    assert (yes["label"], nodes[yes["next"]]["type"], nodes[yes["next"]]["text"]) == ("Yes", "resolution", FIX)
    assert (no["label"], nodes[no["next"]]["text"]) == ("No", CAPTURE)
    assert proposal.summary.count("different ways") == 1 and "Which applies" not in proposal.summary


def test_where_sessions_reached_different_fixes_the_tree_asks_which_fix_applies_in_imperatives():
    check = "Check for a running backup, antivirus scan or DFS replication backlog"
    paths = [[act(check), res("Moved the antivirus full scan out of business hours")],
             [act(check), res("Cleared a DFS replication backlog")]]
    proposal, _ = proposal_of(*paths, summary="File server very slow", domain="server")
    nodes = proposal.tree["nodes"]
    fork = nodes[nodes[proposal.tree["root"]]["next"]]
    assert fork["text"] == WHICH_FIX
    assert [o["label"] for o in fork["options"]] == ["Move the antivirus full scan out of business hours",
                                                    "Clear a DFS replication backlog"]


def test_a_proposed_tree_from_many_kinds_of_session_breaks_no_rule():
    paths = [audio_session("Inbound"), audio_session("Outbound", sip_outcome="failed", capture=True),
             audio_session("Both", capture=True), audio_session("Not sure", sip_outcome="failed"),
             [q(AUDIO, "only when calling mobiles " * 12, free=True), act(SIP), res(FIX)]]
    proposal, _ = proposal_of(*paths)
    assert tree_problems(proposal.tree) == []
    assert tree_warnings(proposal.tree) == [] and title_warnings(proposal.title) == []
    assert proposal.title == "New flow: One-way audio on calls"


def test_a_question_with_no_mark_and_a_past_tense_step_from_a_session_are_worded_for_the_reader():
    path = [q("Is the phone registered", "No", options=("Yes", "No")), act("Rebooted the phone"),
            res("Phone registered")]
    other = [q("Is the phone registered", "Yes", options=("Yes", "No")), act("Checked the handset's line key"),
             res("Line key reassigned")]
    tree = present(merge_into_tree(tree_from_path(path), other, None))
    texts = [n["text"] for n in tree["nodes"].values()]
    assert "Is the phone registered?" in texts and "Reboot the phone" in texts
    assert tree_warnings(tree) == []


OUTLOOK = {"root": "q_client", "nodes": {
    "q_client": {"type": "question", "text": "Which client is the user on?",
                 "options": [{"label": "Classic Outlook", "next": "a_ost"}, {"label": "Outlook mobile", "next": "a_ost"}]},
    "a_ost": {"type": "action", "text": "Rebuild the OST", "next": "r_ok"},
    "r_ok": {"type": "resolution", "text": "Mail is flowing again"}}}


def test_an_enhancement_adds_the_missing_answer_to_a_published_fact_question_and_its_title_names_it():
    flow = FlowRef(7, "fl-outlook", "Outlook not syncing", 2, OUTLOOK, "email")
    path = [q("Which client is the user on?", "New Outlook", free=True, node="q_client"),
            act("Rebuild the OST", node="a_ost"), res("Mail is flowing again", node="r_ok")]
    proposal, _ = proposal_of(path, flow=flow, summary="Outlook not receiving mail", domain="email")
    labels = [o["label"] for o in proposal.tree["nodes"]["q_client"]["options"]]
    assert labels == ["Classic Outlook", "Outlook mobile", "New Outlook"]  # kept, though all lead on to a_ost
    assert tree_warnings(proposal.tree, OUTLOOK) == []
    assert proposal.title == "Outlook not syncing: add “New Outlook” as a client"


QUESTIONS = [("Is the audio missing on inbound calls, outbound calls, or both", ("Inbound", "Outbound", "Both")),
             ("Which handset model is it?", ("Yealink T54W", "Poly VVX 450")),
             ("Does it happen on every call?", ("Yes", "No"))]
ACTIONS = [SIP, CAPTURE, "Rebooted the handset", "Check the provider's status page for incidents",
           "Set the handset's codec to G.711 and disable the others so that the provider and the PBX agree"]
FIXES = [FIX, "Replaced the handset", "Provider fixed a routing fault"]


@st.composite
def sessions(draw):
    """A discovery session about one problem: questions answered (offered or typed), actions done
    (some failed), a resolution."""
    steps = []
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            text, offered = draw(st.sampled_from(QUESTIONS))
            typed = draw(st.sampled_from(["", "only when calling mobiles", "no idea " * 40]))
            steps.append(q(text, typed or draw(st.sampled_from(offered)), options=offered, free=bool(typed)))
        else:
            steps.append(act(draw(st.sampled_from(ACTIONS)), draw(st.sampled_from(["succeeded", "failed"]))))
    if not any(s.kind == "action" for s in steps):
        steps.append(act(SIP))
    return [*steps, res(draw(st.sampled_from(FIXES)))]


@settings(max_examples=60, deadline=None)
@given(st.lists(sessions(), min_size=1, max_size=8))
def test_whatever_sessions_arrive_every_proposal_the_analysis_keeps_reads_right(paths):
    merge = merge_batch([analysed(n, p) for n, p in enumerate(paths, start=1)], [], {}, NOW)
    for proposal in merge.proposals:
        assert tree_problems(proposal.tree) == []
        assert tree_warnings(proposal.tree) == [], [str(w) for w in tree_warnings(proposal.tree)]
        assert title_warnings(proposal.title) == []
    # No session's evidence is turned away for its wording: the analysis words it right itself.
    assert not [d for _, d in merge.outcomes.values() if "reads right" in d or "read wrong" in d]


def test_after_did_that_fix_it_yes_is_the_fix_the_step_made_when_the_other_fixes_come_later_anyway():
    reset, check = "Reset the OneDrive client", "Check for files with invalid names"
    renamed, resynced = "Renamed files with invalid characters", "Reset OneDrive and let it resync"
    paths = [[act(reset, "failed"), act(check), res(renamed)], [act(reset), res(resynced)],
             [act(reset), res(renamed)], [act(reset, "failed"), act(check), res(resynced)]]
    # A summary that names no symptom to ask about again ("stuck on" is no state a question can test).
    proposal, _ = proposal_of(*paths, summary="OneDrive stuck on processing changes", domain="m365")
    nodes = proposal.tree["nodes"]
    fork = nodes[nodes[proposal.tree["root"]]["next"]]
    assert fork["text"] == DID_IT_WORK
    yes, no = (nodes[o["next"]] for o in fork["options"])
    assert yes["text"] == resynced and no["text"] == check
    assert renamed in [n["text"] for n in nodes.values()]  # still reached, after the check


def test_where_the_summary_names_the_symptom_the_tree_asks_whether_it_is_still_there():
    reset, check = "Reset the OneDrive client", "Check for files with invalid names"
    renamed, resynced = "Renamed files with invalid characters", "Reset OneDrive and let it resync"
    paths = [[act(reset, "failed"), act(check), res(renamed)], [act(reset), res(resynced)],
             [act(reset, "failed"), act(check), res(renamed)]]
    proposal, _ = proposal_of(*paths, summary="OneDrive not syncing", domain="m365")
    nodes = proposal.tree["nodes"]
    fork = nodes[nodes[proposal.tree["root"]]["next"]]
    assert fork["text"] == "Is OneDrive still not syncing?"
    # Yes, still there: the next thing the sessions tried; No: the fix the reset made.
    assert [(o["label"], nodes[o["next"]]["text"]) for o in fork["options"]] == [("Yes", check), ("No", resynced)]
    assert tree_warnings(proposal.tree) == []


@pytest.mark.parametrize(("summary", "question"), [
    ("OneDrive not syncing", "Is OneDrive still not syncing?"),
    ("Files not syncing to SharePoint", "Are files still not syncing to SharePoint?"),
    ("Mapped drive disconnects after reboot", "Does the mapped drive still disconnect after reboot?"),
    ("S: drive shows a red X at login", "Does the S: drive still show a red X at login?"),
    ("Wi-Fi keeps dropping", "Does Wi-Fi still keep dropping?"),
    # A name or a plain noun cannot be told apart ("Outlook", "Printer", "Xero bank feed"), nor a
    # symptom without a verb: "Did that fix it?" is asked there.
    ("Outlook not receiving new emails", None), ("Printer shows as offline", None),
    ("Xero bank feed not updating", None), ("One-way audio on calls", None), ("", None),
])
def test_the_symptom_is_asked_about_again_only_where_the_summary_says_it_plainly(summary, question):
    assert still_there(summary) == question


@given(st.text(max_size=120))
def test_a_symptom_question_is_always_whole_and_ends_with_a_question_mark(summary):
    question = still_there(summary)
    if question is not None:
        assert question.endswith("?") and question.count("?") == 1 and " still " in question
        assert "…" not in question and tree_warnings(
            {"root": "q", "nodes": {"q": {"type": "question", "text": question, "options": [
                {"label": "Yes", "next": "r1"}, {"label": "No", "next": "r2"}]},
                "r1": {"type": "resolution", "text": "Fixed"}, "r2": {"type": "resolution", "text": "Also fixed"}}}) == []


def test_a_new_flow_title_never_ends_on_the_words_the_summaries_shared_before_they_parted():
    summaries = ["Xero bank feed not updating at the Leeds office", "Xero bank feed not updating at the warehouse"]
    proposal, _ = proposal_of(*[[act("Re-authorise the bank connection"), res("Bank feed updating")]] * 2,
                              summary=summaries[0], domain="finance")
    proposal.id, proposal.dirty, proposal.new_links = 7, False, []
    merge = merge_batch([analysed(9, [act("Re-authorise the bank connection"), res("Bank feed updating")],
                                  summary=summaries[1], domain="finance")], [proposal], {}, NOW)
    assert merge.proposals[0].title == "New flow: Xero bank feed not updating"
    assert title_warnings("New flow: Xero bank feed not updating at the") != []
