"""The knowledge-gap signals, as pure functions: rows from ``queries`` in, gaps out.

No database here, so each rule is tested on hand-made rows. A gap's ``locator`` says which
sessions are behind it; the report fetches their ids only for the gaps it keeps.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.gaps.clustering import TextCount, cluster_texts, learn_from_matched, normalise
from core.gaps.queries import (
    DomainRow, FlowInfo, ImprovisedStepRow, MatchedSummaryRow, StepRow, StopRow, SummaryRow,
)
from core.gaps.severity import Judgement, judge_count, judge_rate, wilson_interval
from core.gaps.thresholds import SEVERITIES, GapThresholds
from core.metrics.figures import percent
from core.models import ESCALATED_STATUSES, FINISHED_STATUSES

TOP_ANSWERS = 5
NO_DOMAIN = "(no domain)"


@dataclass(frozen=True)
class Gap:
    gap_type: str
    domain: str | None
    severity: str
    title: str
    description: str
    evidence: Mapping[str, Any]
    suggested_action: str
    impact: int  # sessions or answers affected: the order within a severity
    emerging: bool = False
    # What identifies its sessions, when the evidence does not list them yet (the report reads them).
    locator: tuple = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"gap_type": self.gap_type, "domain": self.domain, "severity": self.severity,
                "title": self.title, "description": self.description, "evidence": dict(self.evidence),
                "suggested_action": self.suggested_action, "emerging": self.emerging}


def period_sessions(rows: Iterable[DomainRow]) -> int:
    """The account's sessions started in the period, whatever their status: what the volume bars
    of ``core.gaps.severity`` are a share of."""
    return sum(row.sessions for row in rows if row.current)


def _band_words(low: float) -> str:
    return f"the {percent(low, 0)} Low band"


def is_emerging(current: int, previous: int, t: GapThresholds) -> bool:
    """Volume rose sharply against the previous period of equal length."""
    return current >= t.emerging_min and current >= t.emerging_ratio * max(previous, 1)


def _rate_evidence(hits: int, n: int, t: GapThresholds) -> dict[str, float]:
    low, high = wilson_interval(hits, n, t.confidence_z)
    return {"rate": round(hits / n, 4) if n else 0.0, "rate_interval": [round(low, 4), round(high, 4)]}


def _flow_label(flows: Mapping[str, FlowInfo], flow_id: str | None) -> str:
    if flow_id is None:
        return "sessions with no matched flow"
    info = flows.get(flow_id)
    return f'"{info.name}"' if info else flow_id


def _node(flows: Mapping[str, FlowInfo], flow_id: str | None, node_id: str | None) -> dict[str, Any]:
    info = flows.get(flow_id) if flow_id else None
    return (info.tree.get("nodes", {}).get(node_id) or {}) if info and node_id else {}


def _flow_domain(flows: Mapping[str, FlowInfo], flow_id: str | None) -> str | None:
    info = flows.get(flow_id) if flow_id else None
    return info.domain if info else None


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _step_key(row: StepRow) -> tuple[str | None, str | None, str]:
    """(flow, node, text): the node when the step has one, else the normalised question text."""
    return row.flow_id, row.node_id, "" if row.node_id is not None else normalise(row.text_key or "")


@dataclass
class _StepTally:
    responses: int = 0
    free_text: int = 0
    failed: int = 0
    succeeded: int = 0
    previous_free_text: int = 0
    previous_failed: int = 0
    answers: Counter = field(default_factory=Counter)
    sample: str | None = None
    sql_keys: set = field(default_factory=set)  # the texts as grouped in SQL, for reading the session ids


def _step_locator(flow_id, node_id, tally: _StepTally, step_types: tuple[str, ...], flag: str) -> tuple:
    """Which sessions are behind a step gap: this period's that have such a step flagged (typed
    answer, or failed attempt); the report reads the newest of them."""
    texts = () if node_id is not None else tuple(sorted(tally.sql_keys, key=lambda k: (k is None, k or "")))
    return ("steps", flow_id, node_id, texts, step_types, flag)


def _tally_steps(rows: Iterable[StepRow], step_types: tuple[str, ...]) -> dict[tuple, _StepTally]:
    tallies: dict[tuple, _StepTally] = defaultdict(_StepTally)
    for row in rows:
        if row.step_type not in step_types:
            continue
        tally = tallies[_step_key(row)]
        tally.sql_keys.add(row.text_key)
        if not row.current:
            tally.previous_free_text += row.free_text
            tally.previous_failed += row.failed
            continue
        tally.responses += row.responses
        tally.free_text += row.free_text
        tally.failed += row.failed
        tally.succeeded += row.succeeded
        tally.sample = tally.sample or row.sample_text
        if row.free_text_answer is not None and row.free_text:
            answer = normalise(row.free_text_answer)
            if answer:
                tally.answers[answer] += row.free_text
    return tallies


def weak_options(rows: Sequence[StepRow], flows: Mapping[str, FlowInfo], t: GapThresholds,
                 volume: int = 0) -> list[Gap]:
    gaps = []
    for (flow_id, node_id, text), tally in _tally_steps(rows, ("question",)).items():
        if tally.free_text < t.min_free_text:
            continue
        judged = judge_rate(tally.free_text, tally.responses, t.free_text_low,
                            (t.free_text_low, t.free_text_medium, t.free_text_high), t, volume, "typed answers",
                            _band_words(t.free_text_low))
        if judged is None:
            continue
        node = _node(flows, flow_id, node_id)
        question = node.get("text") or tally.sample or text or node_id
        options = [o.get("label") for o in node.get("options", [])]
        answers = [{"answer": a, "count": c} for a, c in tally.answers.most_common(TOP_ANSWERS)]
        where = f"{_flow_label(flows, flow_id)}" + (f", node {node_id}" if node_id else "")
        top = answers[0]["answer"] if answers else None
        description = (f"{tally.free_text} of {tally.responses} answers ({percent(tally.free_text / tally.responses, 0)}) "
                       f"to \"{_short(question)}\" ({where}) were typed instead of picked.")
        if answers:
            typed = "; ".join(f"\"{_short(a['answer'], 60)}\" ({a['count']})" for a in answers[:3])
            description += f" Most typed: {typed}."
        if node_id is not None and top:
            action = (f"Add an option for \"{_short(top, 60)}\" to node {node_id} of {where.split(',')[0]} "
                      "with its own branch; check the other typed answers for further missing options.")
        elif top:
            action = (f"The copilot improvised this question (no flow node asked it): capture it in a flow, "
                      f"with an option for \"{_short(top, 60)}\".")
        else:
            action = "Review the typed answers and add the options they show are missing."
        evidence = {
            "flow_id": flow_id, "flow_name": flows[flow_id].name if flow_id in flows else None,
            "node_id": node_id, "question": question, "options": options,
            "responses": tally.responses, "free_text_count": tally.free_text,
            "free_text_rate": round(tally.free_text / tally.responses, 4),
            "free_text_rate_interval": _rate_evidence(tally.free_text, tally.responses, t)["rate_interval"],
            "top_free_text_answers": answers,
            "previous_period_free_text_count": tally.previous_free_text,
            "severity_reason": judged.reason,
            "session_ids": [],  # read by the report
        }
        gaps.append(Gap(
            "weak_options", _flow_domain(flows, flow_id), judged.severity,
            f"Missing option at \"{_short(question, 70)}\" ({_flow_label(flows, flow_id)})",
            description, evidence, action, tally.free_text,
            is_emerging(tally.free_text, tally.previous_free_text, t),
            _step_locator(flow_id, node_id, tally, ("question",), "free_text"),
        ))
    return gaps


def failing_actions(rows: Sequence[StepRow], flows: Mapping[str, FlowInfo], t: GapThresholds,
                    volume: int = 0) -> list[Gap]:
    gaps = []
    for (flow_id, node_id, text), tally in _tally_steps(rows, ("action", "script")).items():
        attempts = tally.failed + tally.succeeded
        judged = judge_rate(tally.failed, attempts, t.failure_low, (t.failure_low, t.failure_medium, t.failure_high),
                            t, volume, "failed attempts", _band_words(t.failure_low))
        if judged is None:
            continue
        node = _node(flows, flow_id, node_id)
        kind = node.get("type") or "step"
        what = node.get("text") or tally.sample or text or node_id
        where = _flow_label(flows, flow_id) + (f", node {node_id}" if node_id else "")
        rate = tally.failed / attempts
        evidence = {
            "flow_id": flow_id, "flow_name": flows[flow_id].name if flow_id in flows else None,
            "node_id": node_id, "step": what, "attempts": attempts, "failed": tally.failed,
            "succeeded": tally.succeeded, "failure_rate": round(rate, 4),
            "failure_rate_interval": _rate_evidence(tally.failed, attempts, t)["rate_interval"],
            "previous_period_failed": tally.previous_failed,
            "severity_reason": judged.reason,
            "session_ids": [],  # read by the report
        }
        gaps.append(Gap(
            "failing_action", _flow_domain(flows, flow_id), judged.severity,
            f"\"{_short(what, 70)}\" fails {percent(rate, 0)} of the time ({_flow_label(flows, flow_id)})",
            f"{tally.failed} of {attempts} attempts at this {kind} ({where}) failed.",
            evidence,
            ("Check the instructions and prerequisites of this step (permissions, versions, the exact "
             "command); add a branch for when it fails rather than leaving the engineer to improvise."
             if node_id else
             "The copilot improvises this step without a flow; capture a tested procedure for it in a flow."),
            tally.failed, is_emerging(tally.failed, tally.previous_failed, t),
            _step_locator(flow_id, node_id, tally, ("action", "script"), "failed"),
        ))
    return gaps


def dead_ends(reached: Mapping[tuple[str, str], int], stops: Sequence[StopRow], flows: Mapping[str, FlowInfo],
              t: GapThresholds, volume: int = 0) -> list[Gap]:
    """Flow nodes after which sessions most often stop: ``reached`` counts this period's arrivals
    at each (flow, node), ``stops`` the sessions that went no further there."""
    current: dict[tuple, Counter] = defaultdict(Counter)
    previous: Counter = Counter()
    for row in stops:
        key = (row.flow_id, row.node_id)
        if row.current:
            current[key]["abandoned" if row.status == "abandoned" else "escalated"] += row.sessions
        else:
            previous[key] += row.sessions
    gaps = []
    for (flow_id, node_id), ended in current.items():
        total = sum(ended.values())
        n = reached.get((flow_id, node_id), 0)
        if total < t.min_dead_ends or n < total:
            continue
        judged = judge_rate(total, n, t.dead_end_low, (t.dead_end_low, t.dead_end_medium, t.dead_end_high), t,
                            volume, "sessions that went no further", _band_words(t.dead_end_low))
        if judged is None:
            continue
        node = _node(flows, flow_id, node_id)
        what = node.get("text") or node_id
        abandoned, escalated = ended["abandoned"], ended["escalated"]
        where = _flow_label(flows, flow_id)
        if abandoned >= escalated:
            action = ("Engineers walk away at this step: make it answerable from where they are (an option "
                      "such as \"can't check\" or \"not on site\"), or split it into smaller checks.")
        else:
            action = ("Engineers leave the flow and escalate here: read those tickets for what second line "
                      "did next and add it as the next steps or a resolution after this node.")
        evidence = {
            "flow_id": flow_id, "flow_name": flows[flow_id].name if flow_id in flows else None,
            "node_id": node_id, "step": what, "sessions_reaching": n, "ended_here": total,
            "escalated": escalated, "abandoned": abandoned, "end_rate": round(total / n, 4),
            "end_rate_interval": _rate_evidence(total, n, t)["rate_interval"],
            "previous_period_ended_here": previous[(flow_id, node_id)],
            "severity_reason": judged.reason,
            "session_ids": [],  # read by the report
        }
        gaps.append(Gap(
            "dead_end", _flow_domain(flows, flow_id), judged.severity,
            f"Sessions stop at \"{_short(what, 70)}\" ({where})",
            (f"{total} of {n} sessions reaching node {node_id} of {where} went no further in the flow "
             f"({percent(total / n, 0)}): {escalated} escalated off the flow, {abandoned} abandoned."),
            evidence, action, total, is_emerging(total, previous[(flow_id, node_id)], t),
            ("dead_end", flow_id, node_id),
        ))
    return gaps


def _domain_name(domain: str | None) -> str:
    return domain if domain is not None else NO_DOMAIN


def high_escalation(rows: Sequence[DomainRow], t: GapThresholds, volume: int | None = None) -> list[Gap]:
    """Domains that escalate more than the account as a whole: surely more (the interval), or
    by FlowPilot's original rule (``escalation_listed_count`` escalations at above
    ``escalation_listed_rate``), at low when the sample is too thin to be sure."""
    volume = period_sessions(rows) if volume is None else volume
    finished: Counter = Counter()
    escalated: Counter = Counter()
    requesting: Counter = Counter()
    previous: Counter = Counter()
    for row in rows:
        if row.status not in FINISHED_STATUSES:
            continue
        if not row.current:
            if row.status in ESCALATED_STATUSES:
                previous[row.domain] += row.sessions
            continue
        finished[row.domain] += row.sessions
        if row.status in ESCALATED_STATUSES:
            escalated[row.domain] += row.sessions
        if row.status == "requesting_escalation":
            requesting[row.domain] += row.sessions
    total = sum(finished.values())
    if not total:
        return []
    account_rate = sum(escalated.values()) / total
    gaps = []
    for domain, n in finished.items():
        hits = escalated[domain]
        name = _domain_name(domain)
        judged = judge_rate(hits, n, account_rate, (t.escalation_low, t.escalation_medium, t.escalation_high), t,
                            volume, "escalations", f"the account's {percent(account_rate, 0)}")
        rate = hits / n
        if judged is None and hits >= t.escalation_listed_count and rate > max(t.escalation_listed_rate, account_rate):
            low, high = wilson_interval(hits, n, t.confidence_z)
            thin = (f"fewer than {t.min_sample} finished sessions are too few to judge the rate" if n < t.min_sample
                    else f"its 95% interval ({percent(low, 0)}–{percent(high, 0)}) still reaches the account's {percent(account_rate, 0)}")
            judged = Judgement("low", (
                f"Low: {hits} of {n:,} escalated ({percent(rate, 0)}), at least {t.escalation_listed_count} at over "
                f"{percent(t.escalation_listed_rate, 0)}, so listed; but {thin}."))
        if judged is None:
            continue
        evidence = {
            "finished_sessions": n, "escalated": hits, "requesting_escalation": requesting[domain],
            "escalation_rate": round(hits / n, 4),
            "escalation_rate_interval": _rate_evidence(hits, n, t)["rate_interval"],
            "account_escalation_rate": round(account_rate, 4),
            "previous_period_escalated": previous[domain],
            "escalated_above_account_rate": round(hits - n * account_rate, 1),
            "severity_reason": judged.reason,
        }
        gaps.append(Gap(
            "high_escalation", domain, judged.severity,
            f"{name} sessions escalate {percent(hits / n, 0)} of the time (account: {percent(account_rate, 0)})",
            (f"{hits} of {n} finished {name} sessions were escalated or are waiting for escalation, "
             f"against {percent(account_rate, 0)} across the account."),
            evidence,
            (f"Read the escalated {name} tickets for what second line fixed, and add those fixes to the "
             f"{name} flows; see this domain's dead ends and failing steps for where the flows run out."),
            hits, is_emerging(hits, previous[domain], t), ("domain", domain, ESCALATED_STATUSES, None),
        ))
    return gaps


def uncharted_territory(rows: Sequence[DomainRow], flows: Mapping[str, FlowInfo], t: GapThresholds,
                        volume: int | None = None) -> list[Gap]:
    volume = period_sessions(rows) if volume is None else volume
    discovered: Counter = Counter()
    resolved: Counter = Counter()
    previous: Counter = Counter()
    for row in rows:
        if row.status != "resolved":
            continue
        if row.current:
            resolved[row.domain] += row.sessions
        if row.tier == "discovery":
            (discovered if row.current else previous)[row.domain] += row.sessions
    flows_per_domain = Counter(f.domain for f in flows.values())
    gaps = []
    for domain, count in discovered.items():
        name = _domain_name(domain)
        # A named domain with no flow at all is one flow to write, however large the account.
        no_flow = domain is not None and not flows_per_domain[domain]
        judged = judge_count(count, t.uncharted_min, t.uncharted_medium, t.uncharted_high, t, volume,
                             "resolved without a flow",
                             "the domain has no published flow: engineers keep solving it by hand" if no_flow else None)
        if judged is None:
            continue
        share = count / resolved[domain]
        evidence = {
            "resolved_in_discovery": count, "resolved_sessions": resolved[domain],
            "discovery_share": round(share, 4), "published_flows": flows_per_domain[domain] if domain else 0,
            "previous_period_resolved_in_discovery": previous[domain],
            "severity_reason": judged.reason,
        }
        if domain is None:
            title = f"{count} sessions with no recognised domain were resolved without a flow"
            action = ("The copilot could not tell what these were about: check their problem summaries "
                      "(and this report's repeated patterns) and improve how tickets are described at intake.")
        else:
            title = f"{count} {name} sessions were resolved without a flow"
            action = (f"Capture how these {name} problems were solved as flows; this report's repeated "
                      f"patterns show which {name} problems recur most.")
        gaps.append(Gap(
            "uncharted_territory", domain, judged.severity, title,
            (f"{count} of {resolved[domain]} resolved {name} sessions ({percent(share, 0)}) were solved in discovery: "
             f"no published flow matched and the copilot improvised."),
            evidence, action, count, is_emerging(count, previous[domain], t),
            ("domain", domain, ("resolved",), "discovery"),
        ))
    return gaps


@dataclass
class _SummaryTally:
    current: int = 0
    previous: int = 0
    resolved: int = 0
    domains: Counter = field(default_factory=Counter)
    sql_keys: set = field(default_factory=set)
    fixes: Counter = field(default_factory=Counter)  # resolved sessions by fix, both periods
    current_fixes: Counter = field(default_factory=Counter)


def repeated_patterns(rows: Sequence[SummaryRow], t: GapThresholds, volume: int = 0,
                      steps: Sequence[ImprovisedStepRow] = (), matched: Sequence[MatchedSummaryRow] = ()) -> list[Gap]:
    """Recurring problems among the unmatched summaries (``rows``), told apart with the help of
    their improvised ``steps`` and the vocabulary of the account's ``matched`` sessions."""
    tallies: dict[str, _SummaryTally] = defaultdict(_SummaryTally)
    for row in rows:
        text = normalise(row.summary)
        if not text:
            continue
        tally = tallies[text]
        tally.sql_keys.add(row.summary)
        fix = normalise(row.fix) if row.fix and row.resolved else ""
        if fix:
            tally.fixes[fix] += row.resolved
        if row.current:
            tally.current += row.sessions
            tally.resolved += row.resolved
            tally.domains[row.domain] += row.sessions
            if fix:
                tally.current_fixes[fix] += row.resolved
        else:
            tally.previous += row.sessions
    texts = sorted(tallies)
    # Both periods are clustered together so a pattern's previous volume is measured on the same cluster.
    items = [TextCount(text, tallies[text].current + tallies[text].previous) for text in texts]
    fixes = [tallies[text].fixes for text in texts]
    tried: dict[str, Counter] = defaultdict(Counter)
    for step in steps:
        tried[normalise(step.summary)][normalise(step.step)] += step.sessions
    evidence = [fixes[i] + tried.get(text, Counter()) for i, text in enumerate(texts)]
    by_flow: dict[str, list[str]] = defaultdict(list)
    for m in matched:
        by_flow[m.flow_id].append(normalise(m.summary))
    gaps = []
    for cluster in cluster_texts(items, t.cluster_distance, t.pattern_min, fixes, evidence, learn_from_matched(by_flow)):
        members = [tallies[texts[i]] for i in cluster.members]
        sessions = sum(m.current for m in members)
        judged = judge_count(sessions, t.pattern_min, t.pattern_medium, t.pattern_high, t, volume,
                             "sessions with no matched flow")
        if judged is None:
            continue
        previous = sum(m.previous for m in members)
        resolved = sum(m.resolved for m in members)
        domains: Counter = sum((m.domains for m in members), Counter())
        common_fixes: Counter = sum((m.current_fixes for m in members), Counter())
        domain = domains.most_common(1)[0][0] if domains else None
        representative = texts[cluster.representative]
        examples = sorted(((texts[i], tallies[texts[i]].current) for i in cluster.members if tallies[texts[i]].current),
                          key=lambda e: (-e[1], e[0]))
        # The most frequent variants until 200 sessions are covered: enough to list the ids.
        keys, covered = [], 0
        for text, count in examples:
            keys.extend(sorted(tallies[text].sql_keys))
            covered += count
            if covered >= 200:
                break
        evidence = {
            "sessions": sessions, "resolved": resolved, "resolution_rate": round(resolved / sessions, 4),
            "distinct_summaries": len(examples), "terms": list(cluster.terms),
            "representative_summary": representative,
            "example_summaries": [{"summary": s, "count": c} for s, c in examples[:TOP_ANSWERS]],
            "domains": {_domain_name(d): c for d, c in domains.most_common()},
            "common_fixes": [{"fix": f, "count": c} for f, c in
                             sorted(common_fixes.items(), key=lambda fc: (-fc[1], fc[0]))[:TOP_ANSWERS]],
            "previous_period_sessions": previous,
            "severity_reason": judged.reason,
        }
        gaps.append(Gap(
            "repeated_pattern", domain, judged.severity,
            f"Recurring problem with no flow: \"{_short(representative, 70)}\" ({sessions} sessions)",
            (f"{sessions} sessions with no matched flow describe this problem"
             + (f" in {len(examples)} different wordings" if len(examples) > 1 else "")
             + f" (key terms: {', '.join(cluster.terms)}); {resolved} were resolved."),
            evidence,
            _pattern_action(domain, resolved),
            sessions, is_emerging(sessions, previous, t), ("summaries", tuple(keys)),
        ))
    return gaps


def _pattern_action(domain: str | None, resolved: int) -> str:
    if domain is None:
        return ("The copilot could not tell the domain of these tickets: if they are one real problem, "
                "write a flow for it; if they are too vague to work, tighten how tickets are described at intake.")
    if resolved:
        return ("Write a flow for this problem from the resolved sessions' fixes and publish it, so the "
                "copilot guides the next one instead of improvising.")
    return "None of these were resolved: work out the fix with second line, then publish it as a flow."


_SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def sort_gaps(gaps: Iterable[Gap]) -> list[Gap]:
    """Most severe first, then the most sessions affected."""
    return sorted(gaps, key=lambda g: (_SEVERITY_ORDER[g.severity], -g.impact, g.gap_type, g.title))
