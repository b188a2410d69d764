"""A session's steps as a troubleshooting path: what was asked, answered and done, in order.

Notes say nothing about the flow and are dropped; a failed action tried again is one step
(the last try); the path stops at the first resolution or escalation. Free text from
engineers is kept as plain data and only ever shortened (at a sentence, clause or word, never
with an ellipsis) to the tree rules' lengths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.flows.trees import MAX_TEXT

MAX_LABEL = 200  # an option label's limit in tree.schema.json
# Node texts, option labels and answers repeat across thousands of sessions: clipping and
# normalising each distinct text once saves a good share of a batch's CPU.
TEXT_CACHE = 1 << 14
TERMINAL = frozenset({"resolution", "escalation"})
DOING = frozenset({"action", "script"})


@dataclass(frozen=True)
class PathStep:
    kind: str  # question | action | script | resolution | escalation
    node_id: str | None
    text: str
    options: tuple[str, ...] = ()
    answer: str | None = None
    free_text: bool = False
    outcome: str | None = None


def clip(text: str | None, limit: int = MAX_TEXT) -> str:
    """Whitespace collapsed and kept within ``limit`` characters (whole words, see ``shorten``):
    untrusted text stays plain data."""
    if not text:
        return ""
    return _clip(text if isinstance(text, str) else str(text), limit)


@lru_cache(maxsize=TEXT_CACHE)
def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else shorten(flat, limit)


def shorten(flat: str, limit: int) -> str:
    """The longest opening of ``flat`` within ``limit`` that ends where a writer would stop:
    after a sentence, else a clause, else a word; never an ellipsis. Only a single word longer
    than half the limit is cut inside (nothing shorter is left to choose)."""
    head = flat[: limit + 1]
    for stops in ((". ", "? ", "! "), ("; ", ", ", " - ", " – ", ": "), (" ",)):
        end = max(head.rfind(stop) for stop in stops)
        if end >= limit // 2:
            return flat[: end + (1 if stops[0] != " " and flat[end] in ".?!" else 0)].rstrip(" ,;:-–")
    return flat[:limit]


def clip_label(text: str | None) -> str:
    return clip(text, MAX_LABEL)


@lru_cache(maxsize=TEXT_CACHE)
def normal(text: str | None) -> str:
    """The form two texts are compared in: case, spacing and punctuation do not matter."""
    return re.sub(r"[^a-z0-9]+", " ", (text or "").casefold()).strip()


def session_path(steps: Iterable[Sequence], resolution_summary: str | None = None) -> list[PathStep]:
    """Steps as ``(seq, step_type, node_id, context_message, options, response, was_free_text,
    outcome)`` rows, in any order, shaped into the path the engineer took."""
    path: list[PathStep] = []
    for _seq, kind, node_id, context, options, response, free_text, outcome in sorted(steps, key=lambda s: s[0]):
        if kind == "note":
            continue
        text = clip(context)
        if kind == "question" and response is None:
            continue  # shown but never answered: no evidence either way
        if kind in TERMINAL and not text:
            text = clip(resolution_summary) if kind == "resolution" else ""
        step = PathStep(kind, node_id or None, text, tuple(clip_label(o) for o in options or ()),
                        clip(response) if response is not None else None, bool(free_text), outcome)
        if path and _is_retry(path[-1], step):
            path[-1] = step
        else:
            path.append(step)
        if kind in TERMINAL:
            break
    return path


def _is_retry(previous: PathStep, step: PathStep) -> bool:
    if step.kind not in DOING or previous.kind != step.kind or previous.outcome != "failed":
        return False
    if step.node_id or previous.node_id:
        return step.node_id == previous.node_id
    return normal(step.text) == normal(previous.text)


def signature(path: Sequence[PathStep]) -> str:
    """A short text naming the path's shape, equal for two sessions that did the same things."""
    parts = []
    for step in path:
        part = f"{step.kind[0]}:{normal(step.text)[:60]}"
        if step.kind == "question":
            part += f"={normal(step.answer)[:40]}"
        parts.append(part)
    return " > ".join(parts)[:500]
