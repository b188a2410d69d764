"""Demo data: published flows and a stream of copilot sessions for a few made-up MSPs, in the
interchange format, and their import.

The templates (flows, problems, phrasings) and the knowledge-gap signals they plant are in
``core.demo.catalog``; this module turns them into records. Sessions come out as a stream in
created_at order, hour by hour over the 90 days before the anchor, so memory stays flat for
millions of them. One ``random.Random`` drives the whole stream: the same seed and anchor give
the same records, byte for byte.
"""

from __future__ import annotations

import math
import random
import re
import time
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine

from core.demo import catalog as cat
from core.sessions.importer import ProgressCallback, import_flows, import_sessions

WINDOW_DAYS = 90
HOUR = 3600
DAY = 86400
RECENT = 4 * DAY  # escalations this fresh may still be waiting for second line
_TERMINAL = ("resolution", "escalation")

T = TypeVar("T")
Step = tuple  # (step_type, node_id, context, options, response, free_text, outcome, created, responded)

# Office-hours shape, by local hour and by weekday (Monday first): Monday mornings are busiest.
HOUR_SHAPE = (0.04, 0.03, 0.02, 0.02, 0.03, 0.06, 0.15, 0.45, 0.95, 1.0, 0.95, 0.85, 0.6,
              0.8, 0.9, 0.85, 0.7, 0.45, 0.25, 0.15, 0.1, 0.08, 0.06, 0.05)
WEEKDAY_SHAPE = (1.25, 1.1, 1.0, 1.0, 0.85, 0.12, 0.08)
# How each account's volume moves over the window (cycled by account index).
ACCOUNT_TRENDS = (
    cat.FLAT,
    cat.Trend(days_ago=50, factor=1.6),  # took on a new client
    cat.Trend(days_ago=60, factor=1.35, ramp=True),  # growing
    cat.Trend(days_ago=25, factor=0.7),  # lost a client
)
ONE_OFF_WEIGHT = 3.0
VAGUE_WEIGHT = 2.5
# How engineers behave at any step, on top of what the catalog says about particular nodes.
RETRY_CHANCE = 0.45  # a failed action is tried again (at most twice)
ESCALATE_AFTER_FAILURE = 0.35  # ... or, failing for good, the engineer escalates
SKIP_CHANCE = 0.03
NOTE_CHANCE = 0.03


@dataclass(frozen=True)
class DemoSummary:
    accounts: tuple[str, ...]
    flows: int  # flow records imported
    sessions: int  # session records imported
    seconds: float

    def describe(self) -> str:
        return (f"Demo data: {self.flows:,} flows and {self.sessions:,} sessions across "
                f"{len(self.accounts)} accounts ({', '.join(self.accounts)}) in {self.seconds:.1f}s.")


def default_accounts(n: int) -> list[str]:
    """``n`` stable account slugs; past the named list, the names come round again numbered."""
    if n < 0:
        raise ValueError("the number of accounts cannot be negative")
    names = cat.ACCOUNT_SLUGS
    return [names[i % len(names)] + (f"-{i // len(names) + 1}" if i >= len(names) else "") for i in range(n)]


def generate_flows(accounts: Sequence[str], seed: int, anchor: datetime | None = None) -> list[dict[str, Any]]:
    """The published flows of every account: the core flows everywhere, each optional flow in
    about two accounts out of three, so every account has uncharted domains of its own.

    With ``anchor``, the flows of ``core.demo.catalog.REVISIONS`` also get a newer version
    published inside the 90 days (their base version long before), so the Impact page has
    changes to measure; the sessions walk whichever version was live when they started."""
    _check_accounts(accounts)
    optional = [spec.id for spec in cat.FLOWS if not spec.core]
    records = []
    for index, slug in enumerate(accounts):
        rng = random.Random(f"flows:{seed}:{slug}")
        for spec in cat.FLOWS:
            version = rng.choice((1, 1, 2, 3, 4))  # drawn for every flow so inclusion never shifts it
            if not spec.core and (index + optional.index(spec.id)) % 3 == 2:
                continue
            records.append({"id": spec.id, "account": slug, "name": spec.name, "domain": spec.domain,
                            "version": version, "tree": spec.tree()})
            revision = cat.REVISION_BY_FLOW.get(spec.id) if anchor is not None else None
            if revision is not None:
                records[-1]["published_at"] = _iso(anchor - timedelta(days=cat.BASE_VERSION_DAYS_AGO))
                records.append({**records[-1], "version": version + 1, "tree": revision.spec().tree(),
                                "published_at": _iso(anchor - timedelta(days=revision.days_ago))})
    return records


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_sessions(
    accounts: Sequence[str], flows: Sequence[dict[str, Any]], count: int, seed: int, anchor: datetime,
    follow_ups: bool = False,
) -> Iterator[dict[str, Any]]:
    """``count`` session records created in the 90 days before ``anchor``, oldest first, lazily.

    With ``follow_ups``, an escalated or abandoned session's ticket is often worked again by a
    later session of the same problem in the same account within three days (same ticket id),
    so first-contact resolution differs from the resolution rate."""
    _check_accounts(accounts)
    if count < 0:
        raise ValueError("count cannot be negative")
    if count and not accounts:
        raise ValueError("sessions need at least one account")
    if anchor.tzinfo is None or anchor.utcoffset() is None:
        raise ValueError("anchor must be a timezone-aware datetime")
    # Checked above, generated below: argument errors surface at the call, not at the first next().
    return _Generator(list(accounts), flows, seed, anchor.astimezone(timezone.utc), follow_ups).sessions(count)


def run_demo(
    engine: Engine,
    accounts: int = 3,
    sessions: int = 20000,
    seed: int = 42,
    anchor: datetime | None = None,
    batch_size: int = 5000,
    progress: ProgressCallback | None = None,
) -> DemoSummary:
    """Generate demo flows and sessions and import them, streaming (no file, flat memory)."""
    started = time.perf_counter()
    if anchor is None:
        anchor = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    slugs = default_accounts(accounts)
    flows = generate_flows(slugs, seed, anchor)
    flow_result = import_flows(engine, enumerate(flows, start=1), "demo flows")
    stream = generate_sessions(slugs, flows, sessions, seed, anchor, follow_ups=True)
    session_result = import_sessions(engine, enumerate(stream, start=1), "demo sessions",
                                     batch_size=batch_size, progress=progress)
    return DemoSummary(tuple(slugs), flow_result.records, session_result.records, time.perf_counter() - started)


_SLUG = re.compile(r"[a-z0-9-]{1,64}")


def _check_accounts(accounts: Sequence[str]) -> None:
    for slug in accounts:
        if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
            raise ValueError(f"account slug {slug!r} must match [a-z0-9-]{{1,64}}")
    if len(set(accounts)) != len(accounts):
        raise ValueError("account slugs must be unique")


# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------


class _Pick(Generic[T]):
    """A weighted choice driven by one uniform number, via bisect (random.choices is slower)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items: Sequence[T], weights: Sequence[float]):
        self.items = tuple(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def __call__(self, u: float) -> T:
        return self.items[bisect(self.cum, u * self.total)]

    @classmethod
    def most_common_first(cls, items: Sequence[T]) -> _Pick[T]:
        return cls(items, [1.0 / (k + 1) for k in range(len(items))])


# isoformat/strftime cost microseconds; a session has ~20 timestamps. Times are whole seconds
# after the clock's base and formatted from small tables.
_HH_MM = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
_SS_Z = [f"{s:02d}Z" for s in range(60)]


class _Clock:
    def __init__(self, base: datetime, days: int):
        self.base = base
        self.days = [(base + timedelta(days=d)).strftime("%Y-%m-%dT") for d in range(days)]

    def fmt(self, t: int) -> str:
        day, second = divmod(t, DAY)
        if 0 <= day < len(self.days):
            return self.days[day] + _HH_MM[second // 60] + _SS_Z[second % 60]
        return (self.base + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Node:
    __slots__ = ("kind", "text", "labels", "pick", "next", "free_text", "fail", "abandon", "escalate", "fix")

    def __init__(self, node_id: str, node: dict[str, Any], spec: cat.Node | None):
        self.kind: str = node["type"]
        self.text: str = node["text"]
        options = node.get("options") or []
        self.labels = [o["label"] for o in options]
        weights = {label: w for label, _, w in spec.options} if spec else {}
        self.pick = (_Pick([(o["label"], o["next"]) for o in options], [weights.get(o["label"], 1.0) for o in options])
                     if options else None)
        self.next: str | None = node.get("next")
        self.free_text = _Answers(spec.free_text) if spec and spec.free_text else None
        self.fail = spec.fail if spec else 0.1
        self.abandon = spec.abandon if spec else 0.0
        self.escalate = spec.escalate if spec else 0.0
        self.fix = spec.fix if spec else None


class _Answers:
    """A compiled FreeText: how often, where next, and which paraphrase."""

    __slots__ = ("rate", "next", "pick")

    def __init__(self, free_text: cat.FreeText):
        self.rate = free_text.rate
        self.next = free_text.next
        self.pick = _Pick.most_common_first(free_text.answers)


def _plan(steps: Sequence[cat.Improvised]) -> list[tuple[cat.Improvised, _Pick[str] | None]]:
    """Improvised steps with their answer pickers (None for actions and scripts)."""
    return [(s, _Pick([o for o, _ in s.options], [w for _, w in s.options]) if s.options else None) for s in steps]


class _Flow:
    def __init__(self, flow_id: str, tree: dict[str, Any], spec: cat.FlowSpec | None = None):
        spec = spec or cat.FLOW_BY_ID.get(flow_id)
        behaviour = {n.id: n for n in spec.nodes} if spec else {}
        self.id = flow_id
        self.root: str = tree["root"]
        self.nodes = {nid: _Node(nid, node, behaviour.get(nid)) for nid, node in tree["nodes"].items()}


@dataclass
class _Source:
    """One way a session comes about in an account: a problem walked through a published flow,
    improvised along a flow the account lacks, improvised from scratch, a one-off, or vague."""

    kind: str  # flow | template | improvised | one_off | vague
    problem: cat.Problem | None
    flow: _Flow | None
    weight: float
    summaries: _Pick[str | None] | None = None
    free_text: dict[str, _Answers] | None = None
    improvised: list[tuple[cat.Improvised, _Pick[str] | None]] | None = None
    # Versions published later, as (clock second it went live, tree): a session walks the last
    # one live at its start.
    later: tuple[tuple[int, _Flow], ...] = ()

    def flow_at(self, t: int) -> _Flow | None:
        flow = self.flow
        for published, newer in self.later:
            if t >= published:
                flow = newer
        return flow


class _Account:
    def __init__(self, slug: str, index: int, rng: random.Random, sources: list[_Source]):
        self.slug = slug
        self.size = rng.uniform(0.85, 1.15) / (1 + 0.9 * index)  # the first account is the largest
        self.offset = cat.ACCOUNT_UTC_OFFSETS[index % len(cat.ACCOUNT_UTC_OFFSETS)] * HOUR
        self.trend = ACCOUNT_TRENDS[index % len(ACCOUNT_TRENDS)]
        self.psa = cat.PSA_SYSTEMS[index % len(cat.PSA_SYSTEMS)]
        self.ticket = rng.randrange(20_000, 480_000)
        self.ticket_day, self.ticket_day_count = -1, 0
        # Per source: (ticket, when) of its last escalated or abandoned session, for follow-ups.
        self.open_tickets: dict[int, tuple[dict[str, Any], int]] = {}
        # Clients differ: one has more printers, another more remote workers.
        affinity = {d: rng.uniform(0.7, 1.4) for d in cat.DOMAINS}
        self.sources = sources
        self.base_weights = [s.weight * affinity.get(s.problem.domain if s.problem else "", 1.0) for s in sources]
        self.source_pick: _Pick[_Source] = _Pick(sources, self.base_weights)
        names = rng.sample([(f, l) for f in cat.FIRST_NAMES for l in cat.LAST_NAMES], 4 + round(10 * self.size))
        self.engineers = _Pick([(f"{first}.{last}@{slug}.example", rng.uniform(0.6, 1.6)) for first, last in names],
                               [1.0 / (k + 1) ** 0.7 for k in range(len(names))])
        self.day_noise = [rng.uniform(0.85, 1.15) for _ in range(WINDOW_DAYS)]
        # Drawn last and from a generator of their own, so the clients leave every other figure
        # of the stream as it was.
        clients = rng.sample(cat.CLIENT_COMPANIES, cat.CLIENTS_PER_ACCOUNT)
        self.clients = _Pick(clients, [1.0 / (k + 1) ** cat.CLIENT_SIZE_EXPONENT for k in range(len(clients))])
        self.client_rng = random.Random(rng.random())

    def client(self) -> str | None:
        u = self.client_rng.random()
        if u < cat.INTERNAL_TICKET_SHARE:
            return None
        return self.clients((u - cat.INTERNAL_TICKET_SHARE) / (1 - cat.INTERNAL_TICKET_SHARE))

    def set_day(self, days_before_anchor: float) -> None:
        weights = [w * (s.problem.trend.at(days_before_anchor) if s.problem else 1.0)
                   for w, s in zip(self.base_weights, self.sources)]
        self.source_pick = _Pick(self.sources, weights)


# ---------------------------------------------------------------------------------------------
# The stream
# ---------------------------------------------------------------------------------------------


class _Generator:
    def __init__(self, accounts: list[str], flows: Sequence[dict[str, Any]], seed: int, anchor: datetime,
                 follow_ups: bool = False):
        self.rng = random.Random(seed)
        self.follow_ups = follow_ups
        base = (anchor - timedelta(days=WINDOW_DAYS + 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        self.clock = _Clock(base, WINDOW_DAYS + 12)
        self.end = int((anchor - base).total_seconds())  # the anchor, in clock seconds
        self.start = self.end - WINDOW_DAYS * DAY
        self.templates = {spec.id: _Flow(spec.id, spec.tree()) for spec in cat.FLOWS}
        published: dict[tuple[str, str], list[tuple[int, _Flow]]] = {}
        for record in flows:
            if record["account"] in accounts:
                revision = cat.REVISION_BY_FLOW.get(record["id"])
                spec = revision.spec() if revision and record["tree"] == revision.spec().tree() else None
                at = record.get("published_at")
                t = int((datetime.fromisoformat(at) - base).total_seconds()) if at else -DAY * 10_000
                published.setdefault((record["account"], record["id"]), []).append(
                    (t, _Flow(record["id"], record["tree"], spec)))
        for versions in published.values():
            versions.sort(key=lambda v: v[0])
        # Each account's profile has its own generator, so it does not shift with the others.
        self.accounts = [_Account(slug, i, random.Random(f"account:{seed}:{slug}"), self._sources(slug, published))
                         for i, slug in enumerate(accounts)]
        self.domain_priority = {d: _Pick(range(4), spec.priorities) for d, spec in cat.DOMAINS.items()}
        self.unknown_priority = _Pick(range(4), cat.UNKNOWN_DOMAIN.priorities)
        self.one_offs = _Pick(cat.ONE_OFFS, [1.0] * len(cat.ONE_OFFS))
        self.one_off_steps = _plan(cat.ONE_OFF_STEPS)
        self.vague = _Pick(cat.VAGUE_SUMMARIES, [1.0] * len(cat.VAGUE_SUMMARIES))
        self.vague_question = _plan((cat.VAGUE_QUESTION,))[0]

    def _sources(self, slug: str, published: dict[tuple[str, str], list[tuple[int, _Flow]]]) -> list[_Source]:
        sources = []
        for problem in cat.PROBLEMS:
            summaries = _Pick.most_common_first(problem.summaries)
            free_text = {nid: _Answers(ft) for nid, ft in problem.free_text.items()} or None
            improvised = _plan(problem.improvised)
            if problem.flow and (slug, problem.flow) in published:
                (_, first), *later = published[(slug, problem.flow)]
                source = _Source("flow", problem, first, problem.weight, summaries, free_text, later=tuple(later))
            elif problem.flow:
                source = _Source("template", problem, self.templates[problem.flow], problem.weight, summaries, free_text)
            else:
                source = _Source("improvised", problem, None, problem.weight, summaries, None, improvised)
            sources.append(source)
        sources.append(_Source("one_off", None, None, ONE_OFF_WEIGHT))
        sources.append(_Source("vague", None, None, VAGUE_WEIGHT))
        return sources

    def _account_weight(self, account: _Account, t: int) -> float:
        local = self.clock.base + timedelta(seconds=t + account.offset)
        day = (t - self.start) // DAY
        return (account.size * account.trend.at((self.end - t) / DAY) * account.day_noise[day]
                * HOUR_SHAPE[local.hour] * WEEKDAY_SHAPE[local.weekday()])

    def sessions(self, count: int) -> Iterator[dict[str, Any]]:
        if count == 0:
            return
        rng = self.rng
        hours = WINDOW_DAYS * 24
        # Two passes over the hours: totals first, so each hour gets its exact share of count
        # without keeping per-account weights for every hour.
        hour_noise = [rng.uniform(0.8, 1.2) for _ in range(hours)]
        totals = [hour_noise[h] * sum(self._account_weight(a, self.start + h * HOUR) for a in self.accounts)
                  for h in range(hours)]
        cumulative = list(accumulate(totals))
        grand = cumulative[-1] if cumulative else 0.0
        number, done, day = 0, 0, -1
        for h in range(hours):
            upto = count if h == hours - 1 else int(count * cumulative[h] / grand)
            n, done = upto - done, upto
            if n <= 0:
                continue
            t0 = self.start + h * HOUR
            if h // 24 != day:
                day = h // 24
                for account in self.accounts:
                    account.set_day(WINDOW_DAYS - day - 0.5)
            pick_account = _Pick(self.accounts, [self._account_weight(a, t0) for a in self.accounts])
            for offset in sorted(rng.randrange(HOUR) for _ in range(n)):
                number += 1
                yield self._session(f"fp-{number:08d}", pick_account(rng.random()), t0 + offset)

    # --- one session ---------------------------------------------------------------------------

    def _session(self, session_id: str, account: _Account, t0: int) -> dict[str, Any]:
        r = self.rng.random
        source = account.source_pick(r())
        engineer, skill = account.engineers(r())
        if r() < 0.005:
            engineer = None  # started by an automation, not a person
        kind = source.kind
        problem = source.problem
        matched = None
        if kind == "flow" or kind == "template":
            domain = problem.domain
            summary = source.summaries(r())
            give_up = cat.DOMAINS[domain].give_up * skill
            if kind == "flow":
                matched = source.flow.id
                tier, boost = ("assisted", 1.8) if r() < problem.assisted else ("guided", 1.0)
                give_up *= 1.4 if tier == "assisted" else 1.0
            else:
                tier, boost = "discovery", 1.3
                give_up *= 1.5
            steps, t, status, fix = self._walk(source.flow_at(t0), source.free_text, t0, give_up, boost, kind == "flow")
        elif kind == "improvised":
            domain, summary, tier = problem.domain, source.summaries(r()), "discovery"
            steps, t, status, fix = self._improvise(source.improvised, problem.resolutions, problem.outcomes, t0, skill)
        elif kind == "one_off":
            domain, text, resolution, cause = self.one_offs(r())
            summary = text + cat.ONE_OFF_DETAILS[int(r() * len(cat.ONE_OFF_DETAILS))]
            tier = "discovery" if r() < 0.85 else None
            steps, t, status, fix = self._improvise(self.one_off_steps, ((resolution, cause),), (0.6, 0.25, 0.15), t0, skill)
        else:
            domain, summary, tier = None, self.vague(r()), ("discovery" if r() < 0.4 else None)
            steps, t, status, fix = self._vague(t0)
        if summary is not None and r() < 0.15:
            summary = summary[0].lower() + summary[1:]  # engineers type quickly
        record = self._record(session_id, account, engineer, t0, domain, summary, tier, matched, steps, t, status, fix)
        if self.follow_ups and problem is not None:
            self._follow_up(account, id(source), record, t0)
        return record

    def _follow_up(self, account: _Account, source: int, record: dict[str, Any], t0: int) -> None:
        """Work an open ticket of the same problem again (same ticket), or leave this one open."""
        ticket = record["psa_ticket"]
        opened = account.open_tickets.pop(source, None)
        # A ticket worked again is most often worked until it is solved: a follow-up that resolved is
        # likelier to be on an open ticket than one that failed too. So first-contact resolution
        # (tickets) sits below the resolution rate (sessions), as in a real service desk.
        chance = 0.7 if record["status"] == "resolved" else 0.15
        if ticket is not None and opened is not None and t0 - opened[1] < 3 * DAY and self.rng.random() < chance:
            earlier = opened[0]
            ticket["id"], ticket["opened_at"] = earlier["id"], earlier.get("opened_at")
            ticket["company"] = earlier.get("company")
            if ticket.get("closed_at") is not None and ticket.get("opened_at") is not None \
                    and ticket["closed_at"] < ticket["opened_at"]:
                ticket["closed_at"] = None
        elif ticket is not None and record["status"] in ("escalated", "requesting_escalation", "abandoned"):
            account.open_tickets[source] = (ticket, t0)

    def _walk(self, flow: _Flow, overrides: dict[str, _Answers] | None, t: int, give_up: float,
              boost: float, keep_ids: bool) -> tuple[list[Step], int, str, Any]:
        """Follow a flow's tree as an engineer would: pick options, type free text where an option
        is missing, run actions that sometimes fail (and retry them), give up or walk away."""
        r = self.rng.random
        steps: list[Step] = []
        fix = None
        nid = flow.root
        for _ in range(200):  # trees are acyclic; this only guards against a foreign one
            node = flow.nodes[nid]
            kind = node.kind
            shown = nid if keep_ids else None
            t += 3 + int(r() * 20)
            if kind == "resolution" or kind == "escalation":
                steps.append((kind, shown, node.text, None, None, False, None, t, None))
                return steps, t, "resolved" if kind == "resolution" else "escalated", fix
            if node.abandon and r() < node.abandon:
                steps.append((kind, shown, node.text, list(node.labels) or None, None, False, None, t, None))
                return steps, t, "abandoned", fix
            if kind == "question":
                done = t + 10 + int(r() * r() * 170)
                answers = (overrides and overrides.get(nid)) or node.free_text
                if answers is not None and r() < answers.rate * boost:
                    steps.append((kind, shown, node.text, list(node.labels), answers.pick(r()), True, None, t, done))
                    nid = answers.next
                else:
                    label, nid = node.pick(r())
                    steps.append((kind, shown, node.text, list(node.labels), label, False, None, t, done))
                t = done
                if r() < NOTE_CHANCE:
                    t += 5 + int(r() * 60)
                    done = t + 30 + int(r() * 90)
                    steps.append(("note", None, None, None, cat.ENGINEER_NOTES[int(r() * len(cat.ENGINEER_NOTES))],
                                  False, None, t, done))
                    t = done
            else:
                fail, retries = node.fail, 0
                while True:
                    done = t + (60 + int(r() * r() * 840) if kind == "action" else 20 + int(r() * 200))
                    outcome = "failed" if r() < fail else ("skipped" if r() < SKIP_CHANCE else "succeeded")
                    steps.append((kind, shown, node.text, None, None, False, outcome, t, done))
                    t = done
                    if outcome != "failed" or retries == 2 or r() >= RETRY_CHANCE:
                        break
                    retries += 1
                    fail *= 0.7  # a second go, more carefully, works more often
                    t += 10 + int(r() * 60)
                if outcome == "succeeded" and node.fix:
                    fix = node.fix
                if outcome == "failed" and r() < ESCALATE_AFTER_FAILURE:
                    return self._escalate_off_flow(steps, t, fix)
                nid = node.next
            if r() < give_up + node.escalate:
                return self._escalate_off_flow(steps, t, fix)
        raise ValueError(f"flow {flow.id!r} does not end within 200 steps")

    def _escalate_off_flow(self, steps: list[Step], t: int, fix: Any) -> tuple[list[Step], int, str, Any]:
        t += 20 + int(self.rng.random() * 120)
        steps.append(("escalation", None, cat.OFF_FLOW_ESCALATION, None, None, False, None, t, None))
        return steps, t, "escalated", fix

    def _improvise(self, plan: list[tuple[cat.Improvised, _Pick[str] | None]],
                   resolutions: Sequence[tuple[str, str | None]], outcomes: tuple[float, float, float],
                   t: int, skill: float) -> tuple[list[Step], int, str, Any]:
        """A discovery session: the copilot's own steps (no node ids), then an outcome. Where the
        plan has fix steps, the fix follows the answers given (``Improvised.when``) and the
        outcome is known first: a session that ends unresolved tried its fixes in vain."""
        r = self.rng.random
        resolved, escalated, abandoned = outcomes
        fixes = any(step.fix for step, _ in plan)
        u = r() * (resolved / skill + escalated * skill + abandoned) if fixes else 0.0
        fixable = u < resolved / skill
        steps: list[Step] = []
        answers: set[str] = set()
        fix = None
        for step, options in plan:
            if fix is not None:
                break  # it worked: the engineer stops here
            if step.when and answers.isdisjoint(step.when):
                continue
            if step.include < 1.0 and r() >= step.include:
                continue
            t += 5 + int(r() * 40)
            if options is not None:
                done = t + 15 + int(r() * r() * 200)
                answer = options(r())
                answers.add(answer)
                steps.append(("question", None, step.text, list(options.items), answer, False, None, t, done))
            else:
                done = t + (60 + int(r() * r() * 900) if step.type == "action" else 30 + int(r() * 240))
                fails = r() < step.fail or (step.fix is not None and not fixable)
                steps.append((step.type, None, step.text, None, None, False, "failed" if fails else "succeeded",
                              t, done))
                if step.fix is not None and not fails:
                    fix = step.fix
            t = done
        if not fixes:
            u = r() * (resolved / skill + escalated * skill + abandoned)
        t += 10 + int(r() * 60)
        if u < resolved / skill and (fix is not None or not fixes):
            if fix is None:
                fix = resolutions[int(r() * len(resolutions))] if resolutions else ("Resolved with the user", None)
            steps.append(("resolution", None, fix[0], None, None, False, None, t, None))
            return steps, t, "resolved", fix
        if u < resolved / skill + escalated * skill or not steps or fixable:
            steps.append(("escalation", None, "Escalate to second line: no known fix", None, None, False, None, t, None))
            return steps, t, "escalated", None
        return _unanswered_last(steps), steps[-1][7], "abandoned", None

    def _vague(self, t: int) -> tuple[list[Step], int, str, Any]:
        r = self.rng.random
        steps: list[Step] = []
        if r() < 0.4:
            question, options = self.vague_question
            t += 10 + int(r() * 40)
            done = t + 20 + int(r() * 200)
            steps.append(("question", None, question.text, list(options.items), options(r()), False, None, t, done))
            t = done
        if r() < 0.5:
            t += 60 + int(r() * 600)
            steps.append(("note", None, None, None, cat.VAGUE_NOTES[int(r() * len(cat.VAGUE_NOTES))], False, None,
                          t, t + 30))
            t += 30
        u = r()
        if u < 0.3:
            return steps, t, "resolved", ("User reports the issue went away", None)
        if u < 0.45 and steps:
            t += 30
            steps.append(("escalation", None, "Escalate for triage", None, None, False, None, t, None))
            return steps, t, "escalated", None
        return steps, t, "abandoned", None

    # --- from steps to a record ----------------------------------------------------------------

    def _record(self, session_id: str, account: _Account, engineer: str | None, t0: int, domain: str | None,
                summary: str | None, tier: str | None, matched: str | None, steps: list[Step], last: int,
                status: str, fix: tuple[str, str | None] | None) -> dict[str, Any]:
        """The record as of the anchor: what had not happened by then is cut, and left open."""
        r = self.rng.random
        fmt = self.clock.fmt
        end = self.end
        age = end - t0
        if status == "abandoned":
            ended: int | None = last + 1200 + int(r() * 12600)  # the copilot closes idle sessions
        else:
            ended = last + 5 + int(r() * 40)
        if age < 3 * DAY and len(steps) > 1 and r() < 0.07:
            steps = _unanswered_last(steps[: 1 + int(r() * (len(steps) - 1))])  # left open mid-flow
            status, ended = "active", None
        if ended is None or ended >= end:
            # Still open at the anchor: keep what had happened by then.
            steps = [s for s in steps if s[7] < end and s[0] not in _TERMINAL]
            if steps and (steps[-1][8] is None or steps[-1][8] >= end):
                steps = _unanswered_last(steps)
            status, ended = "active", None
        if status == "escalated" and ((age < RECENT and r() < 0.4) or r() < 0.015):
            status, ended = "requesting_escalation", None

        resolution = None
        if status == "resolved":
            summary_text, cause = fix if fix else (steps[-1][2] if steps else "Resolved", None)
            resolution = {"summary": summary_text, "root_cause": cause if r() >= 0.12 else None}

        ticket = None if r() < 0.04 else self._ticket(account, t0, domain, status, ended)
        return {
            "id": session_id,
            "account": account.slug,
            "engineer": engineer,
            "created_at": fmt(t0),
            "ended_at": fmt(ended) if ended is not None else None,
            "status": status,
            "problem_domain": domain,
            "problem_summary": summary,
            "confidence_tier": tier,
            "matched_flow": matched,
            "resolution": resolution,
            "psa_ticket": ticket,
            "steps": [
                {"seq": seq, "step_type": s[0], "node_id": s[1], "context_message": s[2], "options": s[3],
                 "response": s[4], "was_free_text": s[5], "outcome": s[6], "created_at": fmt(s[7]),
                 "responded_at": fmt(s[8]) if s[8] is not None else None}
                for seq, s in enumerate(steps, start=1)
            ],
        }

    def _ticket(self, account: _Account, t0: int, domain: str | None, status: str, ended: int | None) -> dict[str, Any]:
        r = self.rng.random
        fmt = self.clock.fmt
        psa = account.psa
        opened = t0 - 60 - int(r() * r() * 3 * HOUR)  # the ticket came in by phone, email or alert first
        priority = self.domain_priority.get(domain, self.unknown_priority)(r())
        due = opened + cat.SLA_HOURS[priority] * HOUR
        kind = cat.DOMAINS[domain].board if domain in cat.DOMAINS else "service"
        if status in ("escalated", "requesting_escalation") and r() < 0.7:
            kind = "escalated"
        closed: int | None = None
        if ended is not None:
            if status == "resolved":
                closed = ended + 60 + int(r() * 5400)
            elif status == "escalated" and r() < 0.9:
                closed = ended + HOUR + int(r() * r() * 5 * DAY)  # second line's work shows up here
            elif status == "abandoned" and r() < 0.85:
                closed = ended + 600 + int(r() * r() * 2 * DAY)
            if closed is not None and closed >= self.end:
                closed = None
        minutes: float | None = None
        if ended is not None:
            minutes = (ended - t0) / 60 + r() * 25
            minutes = 15 * math.ceil(minutes / 15) if psa.quarter_hours else max(1, round(minutes))
        return {
            "id": self._ticket_id(account, t0),
            "system": psa.name,
            "company": account.client(),
            "board": psa.boards[kind],
            "priority": psa.priorities[priority],
            "opened_at": fmt(opened),
            "closed_at": fmt(closed) if closed is not None else None,
            "sla_due_at": fmt(due),
            "time_spent_minutes": minutes,
        }

    def _ticket_id(self, account: _Account, t0: int) -> str:
        account.ticket += 1
        if account.psa.name != "autotask":
            return str(account.ticket)
        # Autotask numbers tickets per day: T20261102.0042.
        day = t0 // DAY
        if day != account.ticket_day:
            account.ticket_day, account.ticket_day_count = day, 0
        account.ticket_day_count += 1
        return f"T{self.clock.days[day][:10].replace('-', '')}.{account.ticket_day_count:04d}"


def _unanswered_last(steps: list[Step]) -> list[Step]:
    """The steps with the last one shown but never answered."""
    if not steps:
        return steps
    kind, node_id, context, options, *_ = steps[-1]
    if kind in _TERMINAL:
        return steps
    if kind == "note":  # an empty note says nothing; the step before it is the open one
        return _unanswered_last(steps[:-1])
    return [*steps[:-1], (kind, node_id, context, options, None, False, None, steps[-1][7], None)]
