"""Merging a batch of analysed sessions into proposals: one open proposal per change, its
tree, diff, counts, confidence and rationale kept up to date. Pure: the caller loads the
proposals a batch can touch and writes back the ones marked dirty.

Evidence tallies (sessions, clean outcomes, path shapes, typed answers, summaries) live in
the proposal's ``diff`` under ``"evidence"``, so merging never re-reads old sessions.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from core.analysis import clustering
from core.analysis import wording
from core.analysis.classify import Deviation, Verdict
from core.analysis.paths import DOING, PathStep, clip, normal, signature
from core.analysis.tree_building import UNEXPLORED, CannotGraft, graft, merge_into_tree, rename_option, tree_from_path
from core.flows.diff import tree_diff
from core.flows.trees import DANGLING, imperative, title_warnings, tree_problems, tree_warnings
from core.metrics.figures import percent

# Proposal titles say what is proposed; the published flow is named without it.
NEW_FLOW_TITLE_PREFIX = "New flow: "

OPEN = ("pending", "dismissed")  # new evidence merges in; a dismissed one comes back as pending
SETTLED = ("approved", "published")
REPROPOSE_MIN = 5  # after a rejection: at least this many new sessions ...
# ... and at least as many as the rejected proposal had (the evidence must double).
TALLY_CAP = 50  # distinct paths / answers / summaries kept per proposal, most frequent first


@dataclass(frozen=True)
class FlowRef:
    id: int
    external_id: str
    name: str
    version: int
    tree: dict[str, Any]
    domain: str | None = None


@dataclass
class Analysed:
    queue_id: int
    session_id: int
    account_id: int
    domain: str | None
    summary: str | None
    resolution_summary: str | None
    verdict: Verdict
    flow: FlowRef | None = None
    # A new flow's text features and path shape, worked out with the verdict (before the
    # write transaction), so the merge under the evidence locks only compares them.
    features: clustering.Features | None = field(default=None, init=False, repr=False)
    shape: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        if self.verdict.kind == "new_flow":
            self.features = clustering.session_features(self.summary, self.verdict.path, self.resolution_summary)
            self.shape = signature(self.verdict.path)


@dataclass
class Tallies:
    sessions: int = 0
    clean: int = 0  # sessions in which no action or script failed or was skipped
    paths: Counter = field(default_factory=Counter)
    answers: Counter = field(default_factory=Counter)
    summaries: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)  # steps (normalised text) recorded as failed

    @classmethod
    def from_json(cls, doc: dict[str, Any] | None) -> Tallies:
        doc = doc or {}
        return cls(doc.get("sessions", 0), doc.get("clean", 0), Counter(doc.get("paths", {})),
                   Counter(doc.get("answers", {})), Counter(doc.get("summaries", {})), Counter(doc.get("failed", {})))

    def to_json(self) -> dict[str, Any]:
        return {"sessions": self.sessions, "clean": self.clean,
                **{name: dict(getattr(self, name).most_common(TALLY_CAP))
                   for name in ("paths", "answers", "summaries", "failed")}}

    def add(self, path: Sequence[PathStep], shape: str, answer: str | None, summary: str | None) -> None:
        self.sessions += 1
        self.clean += all(s.outcome not in ("failed", "skipped") for s in path if s.kind in DOING)
        self.paths[shape] += 1
        for step in path:
            if step.kind in DOING and step.outcome == "failed":
                self.failed[normal(step.text)] += 1
        if answer:
            self.answers[_same_text_key(self.answers, answer)] += 1
        if summary:
            self.summaries[_same_text_key(self.summaries, clip(summary, 200))] += 1


def _same_text_key(counter: Counter, text: str) -> str:
    """The key a text is counted under: an earlier spelling that differs only in case wins."""
    if text in counter:
        return text
    folded = text.casefold()
    return next((k for k in counter if k.casefold() == folded), text)


@dataclass
class ProposalState:
    id: int | None
    account_id: int
    proposal_type: str
    status: str
    domain: str | None
    title: str
    summary: str | None
    evidence_key: str | None
    target_flow_id: int | None
    target_flow_version: int | None
    tree: dict[str, Any]
    diff: dict[str, Any] | None
    support_count: int
    confidence: float
    confidence_rationale: str | None
    created_at: datetime
    updated_at: datetime
    row_version: int = 1
    reviewed_at: datetime | None = None
    review_reason: str | None = None
    held_back: int = 0  # sessions linked since this proposal was rejected
    new_links: list[int] = field(default_factory=list)
    copy_links_since: tuple[int, datetime] | None = None  # (rejected proposal id, its review time)
    dirty: bool = False
    _features: clustering.Features | None = None
    # The tree sessions are merged into (``wording``): every question and answer they met. The
    # proposal's ``tree`` is what ``wording.present`` makes of it; kept in ``diff.working_tree``.
    working_tree: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.working_tree is None:
            self.working_tree = (self.diff or {}).get("working_tree") or self.tree

    @property
    def tallies(self) -> Tallies:
        return Tallies.from_json((self.diff or {}).get("evidence"))

    def features(self) -> clustering.Features:
        if self._features is None:
            self._features = clustering.proposal_features(self.title, self.tallies.summaries, self.working_tree)
        return self._features


@dataclass
class BatchMerge:
    outcomes: dict[int, tuple[str, str]]  # queue id -> (result, detail)
    proposals: list[ProposalState]  # every proposal the batch created or changed
    held_back: list[tuple[ProposalState, int]]  # (rejected proposal, session) links without a row change


def merge_batch(analysed: Iterable[Analysed], proposals: Iterable[ProposalState],
                already_linked: dict[int, list[int]], now: datetime) -> BatchMerge:
    """Fold each analysed session into the proposals; ``already_linked`` maps a session id to
    the proposals it already supports (a second analysis never counts it again)."""
    merger = _Merger(list(proposals), now)
    for item in analysed:
        outcome = settled_outcome(item, already_linked)
        if outcome is not None:
            merger.outcomes[item.queue_id] = outcome
        else:
            merger.take(item)
    touched = [p for p in merger.proposals if p.dirty]
    return BatchMerge(merger.outcomes, touched, merger.held_back)


def settled_outcome(item: Analysed, already_linked: dict[int, list[int]]) -> tuple[str, str] | None:
    """The outcome of a session that no proposal can change (it conforms, teaches nothing, or
    already supports a proposal), or None when it has to be merged into the proposals."""
    if item.session_id in already_linked:
        ids = ", ".join(f"#{p}" for p in already_linked[item.session_id])
        return "already_counted", f"already supports proposal {ids}"
    if item.verdict.kind == "conforming":
        return "conforming", "followed the flow to its resolution"
    if item.verdict.kind == "unusable":
        return "no_proposal", item.verdict.reason
    return None


class _Merger:
    def __init__(self, proposals: list[ProposalState], now: datetime):
        self.proposals = proposals
        self.now = now
        self.outcomes: dict[int, tuple[str, str]] = {}
        self.held_back: list[tuple[ProposalState, int]] = []

    def take(self, item: Analysed) -> None:
        verdict = item.verdict
        if verdict.kind == "new_flow":
            self.outcomes[item.queue_id] = self._new_flow(item)
        else:
            results = [self._enhancement(item, d) for d in verdict.deviations]
            kinds = {r for r, _ in results}
            result = "enhancement" if "enhancement" in kinds else sorted(kinds)[0]
            self.outcomes[item.queue_id] = (result, "; ".join(d for _, d in results))

    # --- enhancements ------------------------------------------------------------------------

    def _enhancement(self, item: Analysed, deviation: Deviation) -> tuple[str, str]:
        flow = item.flow
        assert flow is not None
        key = deviation.key(flow.external_id, flow.version)
        family = sorted((p for p in self.proposals if p.account_id == item.account_id and p.evidence_key == key),
                        key=lambda p: p.id or math.inf)
        answer = deviation.label if deviation.exit_kind == "free" else None
        shape = signature([*deviation.steps, PathStep(deviation.end.kind, None, deviation.end.node or deviation.end.text)])

        def build(base: ProposalState | None) -> dict[str, Any]:
            tree = base.working_tree if base else flow.tree
            # A typed answer is the new option's label; a picked option is the branch's.
            label = answer if deviation.exit_kind == "free" else deviation.label
            if base is not None and answer is not None:
                label = _current_label(base, deviation) or answer
            return graft(tree, deviation.anchor, deviation.exit_kind, label, deviation.steps, deviation.end)

        def refresh(p: ProposalState, tallies: Tallies) -> dict[str, Any]:
            if answer is not None:
                old, top = _current_label(p, deviation), tallies.answers.most_common(1)[0][0]
                if old and old != top:
                    p.working_tree = rename_option(p.working_tree, deviation.anchor, old, top)
            p.tree = wording.present(p.working_tree, flow.tree, tallies.failed, symptom=flow.name)
            p.title = _enhancement_title(flow, deviation, tallies)
            p.summary = _enhancement_summary(flow, deviation, tallies)
            p.diff = {**tree_diff(flow.tree, p.tree), "evidence": tallies.to_json(), "working_tree": p.working_tree}
            return flow.tree

        return self._place(item, family, key, "enhancement", build, refresh, shape, answer,
                           describe=deviation.describe(flow.tree["nodes"]))

    # --- new flows -----------------------------------------------------------------------------

    def _new_flow(self, item: Analysed) -> tuple[str, str]:
        path = item.verdict.path
        features = item.features
        assert features is not None
        best, best_score = None, -1.0
        for p in self.proposals:
            if p.account_id != item.account_id or p.proposal_type != "new_flow":
                continue
            if not clustering.domains_compatible(item.domain, p.domain):
                continue
            score = clustering.similarity(features, p.features())
            if score is not None and score > best_score:
                best, best_score = p, score
        family = [best] if best is not None else []
        key = f"new_flow:{item.domain or '-'}:{'-'.join(sorted(features.summary))[:120] or 'untitled'}"

        def build(base: ProposalState | None) -> dict[str, Any]:
            if base is None:
                return tree_from_path(path, item.resolution_summary)
            return merge_into_tree(base.working_tree, path, item.resolution_summary)

        def refresh(p: ProposalState, tallies: Tallies) -> dict[str, Any] | None:
            if p.domain is None and item.domain is not None:
                p.domain = item.domain
            p.title = _new_flow_title(tallies, path)
            p.tree = wording.present(p.working_tree, None, tallies.failed, symptom=flow_name_from_title(p.title))
            p.summary = _new_flow_summary(p, tallies)
            p.diff = {**tree_diff(None, p.tree), "evidence": tallies.to_json(), "working_tree": p.working_tree}
            return None

        return self._place(item, family, key, "new_flow", build, refresh, item.shape, None,
                           describe="a new flow")

    # --- shared: open, settled, rejected or new ------------------------------------------------

    def _place(self, item: Analysed, family: list[ProposalState], key: str, kind: str, build, refresh,
               shape: str, answer: str | None, describe: str) -> tuple[str, str]:
        open_ = [p for p in family if p.status in OPEN]
        settled = [p for p in family if p.status in SETTLED]
        rejected = [p for p in family if p.status == "rejected"]
        if open_:
            target = open_[-1]
            try:
                grown = build(target)
            except CannotGraft:
                grown = None
            return self._grow(target, item, grown, refresh, shape, answer, describe)
        if settled:
            return "already_proposed", f"{describe}: already {settled[-1].status} as proposal #{settled[-1].id}"
        if rejected:
            old = rejected[-1]
            if item.session_id in old.new_links:
                return "held_back", f"already held back for rejected proposal #{old.id}"
            old.held_back += 1
            old.new_links.append(item.session_id)
            self.held_back.append((old, item.session_id))
            needed = max(REPROPOSE_MIN, old.support_count)
            if old.held_back < needed:
                return "held_back", (f"{describe}: proposal #{old.id} was rejected; {old.held_back} of {needed} "
                                     f"new sessions needed to propose it again")
            tree, problem = _checked(build, old)
            if problem:
                return "no_proposal", problem
            fresh = self._create(item, kind, key, tree)
            # The rejected proposal's figures stand in for the held-back sessions' own.
            tallies = old.tallies
            tallies.add(item.verdict.path, shape, answer, item.summary)
            fresh.support_count = old.held_back
            outcome = self._finish(fresh, tallies, refresh, item, describe, "new", rejected_from=old)
            if fresh not in self.proposals:
                return outcome
            fresh.copy_links_since = (old.id, old.reviewed_at or old.updated_at)
            fresh.new_links.clear()  # this session is among the held-back links copied over
            return outcome
        tree, problem = _checked(build, None)
        if problem:
            return "no_proposal", problem
        fresh = self._create(item, kind, key, tree)
        tallies = Tallies()
        tallies.add(item.verdict.path, shape, answer, item.summary)
        fresh.support_count = 1
        return self._finish(fresh, tallies, refresh, item, describe, "new")

    def _grow(self, p: ProposalState, item: Analysed, tree: dict[str, Any], refresh, shape: str,
              answer: str | None, describe: str) -> tuple[str, str]:
        if tree is None:
            return "no_proposal", f"the path cannot be merged into proposal #{p.id}"
        unchanged = tree is p.working_tree  # the path was already in it: nothing new to check
        problems = [] if unchanged else tree_problems(tree)
        if problems:
            return "no_proposal", f"the path cannot be merged into proposal #{p.id} as a valid tree: {problems[0]}"
        saved = _snapshot(p)
        p.working_tree = tree
        tallies = p.tallies
        tallies.add(item.verdict.path, shape, answer, item.summary)
        # A relabel never clashes: rename_option refuses a label already taken.
        problem = _reads_right(p, refresh(p, tallies))
        if problem:
            _restore(p, saved)
            return "no_proposal", f"the path would make proposal #{p.id} read wrong: {problem}"
        p.support_count += 1
        if p.status == "dismissed":
            p.status = "pending"
        features = p._features
        outcome = self._finish(p, tallies, lambda *_: None, item, describe, "updated")
        if unchanged and features is not None:  # only the summaries grew: no need to re-read the tree
            p._features = clustering.Features(features.summary | clustering.words(item.summary),
                                              features.steps, features.resolution)
        return outcome

    def _create(self, item: Analysed, kind: str, key: str, tree: dict[str, Any]) -> ProposalState:
        flow = item.flow if kind == "enhancement" else None
        fresh = ProposalState(
            id=None, account_id=item.account_id, proposal_type=kind, status="pending",
            domain=(flow.domain if flow else None) or item.domain, title="", summary=None, evidence_key=key,
            target_flow_id=flow.id if flow else None, target_flow_version=flow.version if flow else None,
            tree=tree, diff=None, support_count=0, confidence=0.0, confidence_rationale=None,
            created_at=self.now, updated_at=self.now, working_tree=tree)
        self.proposals.append(fresh)
        return fresh

    def _finish(self, p: ProposalState, tallies: Tallies, refresh, item: Analysed, describe: str, how: str,
                rejected_from: ProposalState | None = None) -> tuple[str, str]:
        if p.id is None and not p.dirty:  # just created: its tree is worded here, and checked
            problem = _reads_right(p, refresh(p, tallies))
            if problem:
                self.proposals.remove(p)
                return "no_proposal", f"the path cannot make a tree that reads right: {problem}"
        else:
            refresh(p, tallies)
        if p.diff is not None:
            p.diff["evidence"] = tallies.to_json()
        p.confidence, p.confidence_rationale = confidence(tallies, p.support_count)
        if rejected_from is not None:
            reason = f" (reason given: {rejected_from.review_reason})" if rejected_from.review_reason else ""
            p.confidence_rationale += (f" Proposed again: {rejected_from.held_back} sessions arrived after "
                                       f"proposal #{rejected_from.id} was rejected{reason}.")
        p.updated_at = self.now
        p.new_links.append(item.session_id)
        p.dirty = True
        p._features = None
        label = f"#{p.id}" if p.id is not None else f"#{{new:{id(p)}}}"
        return p.proposal_type, f"{describe}: supports {label} ({how})"


def _reads_right(p: ProposalState, base: dict[str, Any] | None) -> str | None:
    """Why the proposal, as worded, breaks a tree rule or reads wrong (``core.flows.trees``), or None."""
    problems = tree_problems(p.tree) or tree_warnings(p.tree, base) or title_warnings(p.title)
    return str(problems[0]) if problems else None


_KEPT = ("tree", "working_tree", "title", "summary", "diff", "domain")


def _snapshot(p: ProposalState) -> tuple:
    return tuple(getattr(p, name) for name in _KEPT)


def _restore(p: ProposalState, saved: tuple) -> None:
    for name, value in zip(_KEPT, saved, strict=True):
        setattr(p, name, value)


def _checked(build, base: ProposalState | None) -> tuple[dict[str, Any] | None, str | None]:
    """The built tree, or why the path cannot make a valid one (never a broken proposal)."""
    try:
        tree = build(base)
    except CannotGraft as exc:
        return None, f"the path cannot make a valid tree: {exc}"
    problems = tree_problems(tree)
    if problems:
        return None, f"the path cannot make a valid tree: {problems[0]}"
    return tree, None


def _current_label(p: ProposalState, deviation: Deviation) -> str | None:
    """The label the proposal's tree gives the new option (the most common answer so far)."""
    tallies = p.tallies
    if p.diff is None:
        return None
    added = [o for o in p.diff.get("options_added", []) if o["node"] == deviation.anchor]
    if not added:
        return None
    known = {a.casefold() for a in tallies.answers}
    for option in added:
        if option["label"].casefold() in known:
            return option["label"]
    return added[0]["label"]


def confidence(tallies: Tallies, support: int) -> tuple[float, str]:
    """A 0..1 score from how many sessions support the change, how alike their paths are and
    how cleanly their actions worked, with the reasons in plain words."""
    n = max(support, 1)
    seen = max(tallies.sessions, 1)
    same = tallies.paths.most_common(1)[0][1] if tallies.paths else 0
    volume = 1 - math.exp(-n / 4)
    consistency = same / seen
    clean = tallies.clean / seen
    score = round(volume * (0.55 + 0.45 * consistency) * (0.7 + 0.3 * clean), 2)
    sessions = f"{n} resolved session{'s' if n != 1 else ''}"
    parts = [f"Supported by {sessions}."]
    if seen > 1:
        parts.append(f"{same} of {seen} ({percent(same / seen, 0)}) took the same path.")
    parts.append(f"Every action worked in {tallies.clean} of {seen}.")
    if n < 5:
        parts.append("Few sessions so far: more evidence would raise the confidence.")
    elif consistency < 0.5:
        parts.append("The paths vary: the proposed tree has branches where they part.")
    return score, " ".join(parts)


def _quoted_counts(counter: Counter, limit: int = 5) -> str:
    return ", ".join(f"“{text}” ({count})" for text, count in counter.most_common(limit))


def _typed_label(deviation: Deviation, tallies: Tallies) -> str | None:
    """The answer a new option is named after: the one engineers typed most, not the first seen."""
    return tallies.answers.most_common(1)[0][0] if tallies.answers else deviation.label


def _enhancement_title(flow: FlowRef, deviation: Deviation, tallies: Tallies) -> str:
    """The flow, then the change in a few words: "Outlook not syncing: add “New Outlook” as a
    client". Every part is whole; the question and the full steps are in the summary."""
    nodes = flow.tree["nodes"]
    anchor = nodes.get(deviation.anchor, {})
    name = _whole(flow.name, 60)
    if deviation.exit_kind == "free":
        answer = _whole(_typed_label(deviation, tallies) or "", 50)
        noun = question_noun(anchor.get("text", ""))
        return f"{name}: add “{answer}” as {_article(noun)} {noun}" if noun else f"{name}: add the answer “{answer}”"
    if deviation.exit_kind == "option":
        after = f" after “{_whole(deviation.label or '', 40)}”"
    else:
        after = f" after “{_whole(anchor.get('text', ''), 50)}”"
    if deviation.steps:
        change = f"add “{_whole(imperative(deviation.steps[0].text), 60)}”"
    elif deviation.end.node is None:
        change = f"new {deviation.end.kind} “{_whole(deviation.end.text, 60)}”"
    else:
        change = f"go on to “{_whole(nodes.get(deviation.end.node, {}).get('text', ''), 50)}”"
    title = f"{name}: {change}"
    return title + after if len(title + after) <= 130 else title


def question_noun(question: str) -> str | None:
    """What a "Which …" or "What is the …" question asks for, in its own words ("Which dock is
    it?": dock; "Which backup product raised the alert?": backup product), or None."""
    match = re.match(r"(?:which|what)\s+(?:is\s+the\s+(?:user's\s+)?)?(.*)", question.strip(), re.IGNORECASE)
    if not match:
        return None
    words = []
    for word in match.group(1).rstrip("?").split():
        bare = word.strip(",.")
        if (bare.casefold() in NOT_NOUN or not bare.isalpha() or not (bare.islower() or bare.isupper())
                or bare.endswith("ed")):
            break
        words.append(bare)
    return " ".join(words) if 0 < len(words) <= 3 else None


NOT_NOUN = frozenset("is are was were does do did has have can will should would the a an of on in for to this that "
                     "it its".split())


def _article(noun: str) -> str:
    first = noun.split()[0]
    if first.isupper():  # an acronym is read letter by letter: "an MFA method", "a VPN client"
        return "an" if first[0] in "AEFHILMNORSX" else "a"
    return "an" if first[:1].casefold() in "aeiou" else "a"


def _whole(text: str, limit: int) -> str:
    """``text`` whole when it fits ``limit``, else the shorter wording ``wording.short_label`` picks
    (a whole clause), else ``text`` kept to whole words: a title part never ends in an ellipsis."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    short = wording.short_label(flat, limit)
    return short if short and len(short) <= limit else clip(flat, limit)


def _enhancement_summary(flow: FlowRef, deviation: Deviation, tallies: Tallies) -> str:
    if deviation.exit_kind == "free":
        deviation = replace(deviation, label=_typed_label(deviation, tallies))
    text = deviation.describe(flow.tree["nodes"]) + "."
    if tallies.answers:
        text += f" Engineers typed: {_quoted_counts(tallies.answers)}."
    return text


def _new_flow_title(tallies: Tallies, path: Sequence[PathStep]) -> str:
    """"New flow: " and the problem as engineers most often described it, without the detail
    one of them tacked on ("- urgent", "for the MD")."""
    if tallies.summaries:
        top = _shared_start(tallies.summaries.most_common(1)[0][0], tallies.summaries)
        top = re.sub(r"\s+[-–—]\s+[^-–—]{1,30}$", "", top)  # "Xero bank feed not updating - urgent"
    else:
        top = next((s.text for s in path if s.text), "untitled")
    top = _whole(top, 90)
    return f"{NEW_FLOW_TITLE_PREFIX}{top[:1].upper()}{top[1:]}"


def flow_name_from_title(title: str) -> str:
    """The name a published new flow takes: its proposal's title without the proposal's framing."""
    name = title.removeprefix(NEW_FLOW_TITLE_PREFIX).strip()
    return name or title


def _shared_start(top: str, summaries: Iterable[str], at_least: int = 3) -> str:
    """The words the variants of ``top`` all start with ("Printer offline" + " - urgent",
    " again", ...), so a title does not carry one engineer's detail; ``top`` when none share."""
    words = top.split()
    folded = [w.casefold() for w in words]
    shared = len(words)
    for other in summaries:
        other_words = [w.casefold() for w in other.split()]
        if other_words[:at_least] != folded[:at_least] or other_words == folded:
            continue
        common = 0
        while common < min(len(folded), len(other_words)) and folded[common] == other_words[common]:
            common += 1
        shared = min(shared, common)
    while shared > 0 and words[shared - 1].casefold() in DANGLING:  # "… not updating at the"
        shared -= 1
    return " ".join(words[:shared]).rstrip(" -–,;:") if shared >= at_least else top


def _new_flow_summary(p: ProposalState, tallies: Tallies) -> str:
    where = f" in {p.domain}" if p.domain else ""
    text = f"Resolved sessions{where} that no published flow covers."
    if tallies.summaries:
        text += f" Described as: {_quoted_counts(tallies.summaries)}."
    untried = [f"“{o['label']}” at “{node['text']}”" for node in p.tree["nodes"].values()
               for o in node.get("options", []) if o["next"] == UNEXPLORED]
    if untried:
        text += (f" No session has answered {', '.join(untried[:2])}{' and others' if len(untried) > 2 else ''} "
                 "yet: the tree escalates there.")
    forks = sum(1 for k in p.working_tree["nodes"] if k.startswith("q_fork"))
    if forks:
        text += (f" The sessions went different ways at {forks} point{'s' if forks != 1 else ''}: the tree asks "
                 "there whether the step fixed it, or what to try next.")
    return text
