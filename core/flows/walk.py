"""How a session walked its flow, worked out once at import so that reports need not replay it.

A session's *flow steps* are its steps on a flow node (``node_id`` set) of a node type: a
question, action or script, or the flow's own resolution or escalation. Two facts are kept:

- ``repeats_previous`` (on the step): the flow step before it, in ``seq`` order, was on the same
  node: a retried action or a question asked again. A node is *reached* once per run of steps
  on it, not once per retry.
- ``stopped_at_node`` (on the session): the node of the session's last flow step when that is a
  question, action or script, i.e. where the session went no further in the flow. None when the
  last flow step is the flow's own resolution or escalation (the flow was followed to its end)
  or when the session took no flow step.

The knowledge-gap report's dead ends are counted from these (``core.gaps.queries``); before,
each report sorted every step of the period by session to find them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FLOW_STEP_TYPES = ("question", "action", "script")
# A flow's resolution and escalation nodes are flow steps too: ending on one is following the flow.
NODE_STEP_TYPES = (*FLOW_STEP_TYPES, "resolution", "escalation")


@dataclass(frozen=True)
class FlowWalk:
    stopped_at_node: str | None
    repeated_seqs: frozenset[int]  # the seq of every step that repeats the flow step before it


_NO_REPEATS: frozenset[int] = frozenset()
_NOWHERE = FlowWalk(None, _NO_REPEATS)
_IS_NODE_STEP = frozenset(NODE_STEP_TYPES).__contains__
_IS_FLOW_STEP = frozenset(FLOW_STEP_TYPES).__contains__


def walk(steps: Iterable[tuple[int, str, str | None]]) -> FlowWalk:
    """``steps``: (seq, step_type, node_id) of one session, in any order (usually in order: then
    no sort, since the import walks every session)."""
    flow_steps = [s for s in steps if s[2] is not None and _IS_NODE_STEP(s[1])]
    if not flow_steps:
        return _NOWHERE
    seqs = [s[0] for s in flow_steps]
    if seqs != sorted(seqs):
        flow_steps.sort()
    previous_node = last_type = None
    repeated = None
    for seq, step_type, node_id in flow_steps:
        if node_id == previous_node:
            repeated = repeated or set()
            repeated.add(seq)
        previous_node, last_type = node_id, step_type
    stopped = previous_node if _IS_FLOW_STEP(last_type) else None
    if stopped is None and repeated is None:
        return _NOWHERE
    return FlowWalk(stopped, frozenset(repeated) if repeated else _NO_REPEATS)


def mark(session) -> None:
    """Set the walk on an ORM ``Session`` and its ``steps`` (for code that builds rows by hand,
    such as tests; the import sets the same columns from the records)."""
    result = walk((s.seq, s.step_type, s.node_id) for s in session.steps)
    session.stopped_at_node = result.stopped_at_node
    for step in session.steps:
        step.repeats_previous = step.seq in result.repeated_seqs
