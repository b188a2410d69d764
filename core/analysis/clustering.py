"""Which new-flow proposal a discovery session belongs to: the same problem cluster.

Deterministic text overlap, no model: the words of the session's summary against the words
of every summary the proposal has seen; its question and action texts against the proposal's
tree; its resolution against the tree's resolutions. Paraphrased summaries ("Mapped drive
disconnects after reboot" / "S: drive shows a red X at login") share few words but the same
steps, so either strong summary overlap or a shared path with some textual support merges.
Generic steps alone ("How many users are affected?") never do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.analysis.paths import DOING, TEXT_CACHE, PathStep, normal

STOPWORDS = frozenset("""
a an and are as at be been but by can cant could did do does dont for from has have he her his i
if in into is isnt it its me my no not of on only or our she so than that the their them then
there they this to too up us was wasnt we were what when which who will with wont would you your
user users again still just after before since now all any some one new
""".split())
SUMMARY_ALONE = 0.6  # summary words shared, on their own enough to merge ...
PATH_WITH_SUMMARY = 0.3  # ... with some of the path in common
PATH_SHARED = 0.6  # share of the session's steps already in the proposal's tree ...
WORDS_WITH_PATH = 0.3  # ... with this much summary and resolution overlap (added) beside it


@lru_cache(maxsize=TEXT_CACHE)  # summaries and node texts repeat; the result is immutable
def words(text: str | None) -> frozenset[str]:
    out = set()
    for token in re.findall(r"[a-z0-9]+", (text or "").casefold()):
        if len(token) < 2 or token in STOPWORDS:
            continue
        out.add(stem(token))
    return frozenset(out)


@lru_cache(maxsize=TEXT_CACHE)
def stem(token: str) -> str:
    """A crude stem, enough for "mapped" / "mappings" / "map" or "drives" / "drive" to meet."""
    if token.endswith("ss"):
        return token
    for suffix in ("ings", "ing", "ed", "es", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            token = token[: -len(suffix)]
            break
    if len(token) > 3 and token[-1] == token[-2] and token[-1] not in "aeiouls":
        token = token[:-1]
    return token[:-1] if len(token) > 3 and token.endswith("e") else token


def step_keys(path: Iterable[PathStep]) -> frozenset[str]:
    return frozenset(f"{s.kind}:{normal(s.text)}" for s in path if s.kind == "question" or s.kind in DOING)


@dataclass(frozen=True)
class Features:
    summary: frozenset[str]
    steps: frozenset[str]
    resolution: frozenset[str]


def session_features(summary: str | None, path: Iterable[PathStep], resolution: str | None) -> Features:
    path = list(path)
    ends = " ".join(s.text for s in path if s.kind == "resolution")
    return Features(words(summary), step_keys(path), words(f"{ends} {resolution or ''}"))


def proposal_features(title: str, summaries: Iterable[str], tree: dict[str, Any]) -> Features:
    nodes = tree.get("nodes", {}).items()
    summary_words = set(words(title.removeprefix("New flow:")))
    for text in summaries:
        summary_words |= words(text)
    steps = frozenset(f"{n['type']}:{normal(n['text'])}" for k, n in nodes
                      if not k.startswith("q_fork") and (n["type"] == "question" or n["type"] in DOING))
    # A fix is often worded as the step that made it ("Turned off SIP ALG on the firewall" after
    # "Turn off SIP ALG on the firewall and restart the phones"): the steps count as resolutions.
    resolutions = words(" ".join(n["text"] for _, n in nodes if n["type"] == "resolution" or n["type"] in DOING))
    return Features(frozenset(summary_words), steps, resolutions)


def _share(part: frozenset[str], whole: frozenset[str]) -> float:
    return len(part & whole) / len(part) if part else 0.0


def similarity(session: Features, proposal: Features) -> float | None:
    """How well the session fits the proposal, or None when it does not belong there."""
    summary = _share(session.summary, proposal.summary)
    # A session that walked all of the proposal's path and went on (the first sessions were fixed
    # at the first step, this one needed the next) shares all of it, however much it added.
    path = max(_share(session.steps, proposal.steps), _share(proposal.steps, session.steps))
    resolution = _share(session.resolution, proposal.resolution)
    belongs = ((summary >= SUMMARY_ALONE and path >= PATH_WITH_SUMMARY)
               or (path >= PATH_SHARED and summary + resolution >= WORDS_WITH_PATH))
    if not belongs:
        return None
    return 0.5 * summary + 0.35 * path + 0.15 * resolution


def domains_compatible(session_domain: str | None, proposal_domain: str | None) -> bool:
    """Sessions without a domain may join any cluster; otherwise domains must agree."""
    return session_domain is None or proposal_domain is None or session_domain == proposal_domain
