"""The tree a proposal shows, worded as an engineer would write it, from the tree the analysis
merges sessions into.

The merge needs every question and answer the sessions met, so that the next session can walk
the tree; a reader needs only the questions whose answer changes what happens next. So the
analysis keeps its working tree (``diff.working_tree``) and stores, as the proposal's tree, what
``present`` makes of it:

* an answer no session took is not offered, unless the question checks whether a step worked
  (then it escalates, "Escalate to second line");
* a question the analysis wrote whose answers all lead to one step is dropped; answers that lead
  to the same step are merged into one ("Inbound / Outbound");
* where sessions went different ways after a step (a fork of the working tree): "Did that fix
  it?" (or the symptom asked about again, "Is OneDrive still not syncing?", where the problem's
  summary names it plainly) when the step was an action or script some sessions recorded as failed and one way ends at
  a resolution (Yes: that resolution; No: the next thing the sessions tried); "Which fix
  applies?" when every way is a resolution; otherwise "What do you try next?";
* answers are whole: short wording chosen from what engineers typed or the step said, a
  shorter source (its first clause) when that is too long, never a string cut off;
* questions end with a question mark; actions open with an imperative.

``core.flows.trees.tree_warnings`` states the same rules; the analysis stores no proposal breaking one.
Pure: plain tree dicts in, a new one out.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection
from typing import Any

from core.analysis.paths import normal
from core.analysis.tree_building import FORK_PREFIX, UNEXPLORED
from core.flows.trees import MAX_OPTIONS, STEP_TYPES, imperative

SHORT_LABEL = 60  # an answer longer than this is worded from a shorter source where there is one
MAX_LABEL = 200
DID_IT_WORK = "Did that fix it?"
# Verbs a problem summary states its symptom with ("Mapped drive disconnects after reboot"), and
# the form a question asks with ("Does the mapped drive still disconnect after reboot?").
SYMPTOM_VERBS = {
    "asks": "ask", "beeps": "beep", "crashes": "crash", "disappears": "disappear", "disconnects": "disconnect",
    "drops": "drop", "fails": "fail", "freezes": "freeze", "hangs": "hang", "keeps": "keep", "loops": "loop",
    "loses": "lose", "prints": "print", "rejects": "reject", "says": "say", "shows": "show", "stops": "stop",
    "throws": "throw",
}
_PREPOSITIONS = frozenset("in on at for of from with after since to".split())
WHICH_FIX = "Which fix applies?"
# Where an answer no session took leads, when the question needs it (see ``settle_unexplored``).
UNTRIED_ESCALATION = "Escalate to second line"
WHAT_NEXT = "What do you try next?"
# Where a step's text may be read in two: the first part is a shorter source of its wording.
_CLAUSE = re.compile(r"\s*(?:[;:(]|,\s|\s[-–—]\s|\s(?:and|so|then|because)\s)\s*")


def short_label(text: str, limit: int = SHORT_LABEL) -> str | None:
    """An answer's wording: ``text`` whole when it is short; else its first clause when that says
    enough; else ``text`` whole up to the label limit; None when nothing whole fits."""
    flat = " ".join(str(text).split()).rstrip(" .")
    if len(flat) <= limit:
        return flat or None
    first = _CLAUSE.split(flat, maxsplit=1)[0].strip(" ,;:-–—.")
    if 12 <= len(first) <= limit and len(first.split()) >= 3:
        return first
    if len(flat) <= MAX_LABEL:
        return flat
    return first if len(first) <= MAX_LABEL and first else None


def merged_label(labels: list[str], limit: int = SHORT_LABEL) -> str:
    """One answer for several that lead to the same step: all of them when they fit, else as
    many as fit and "or similar"."""
    # Typed answers may start in lower case; side by side they read as a list of equals.
    unique = list(dict.fromkeys(label.strip()[:1].upper() + label.strip()[1:] for label in labels if label.strip()))
    joined = " / ".join(unique)
    if len(joined) <= limit or len(unique) == 1:
        return joined
    kept: list[str] = []
    for label in sorted(unique, key=len):
        if len(" / ".join([*kept, label])) + len(" or similar") > limit and kept:
            break
        kept.append(label)
    return " / ".join(kept) + " or similar"


def still_there(symptom: str | None) -> str | None:
    """The symptom asked about again after a step, as an engineer would ("OneDrive not syncing":
    "Is OneDrive still not syncing?"), or None where the summary does not say it plainly enough
    to be turned into a question (then "Did that fix it?" is asked)."""
    words = " ".join(str(symptom or "").split()).rstrip(" .!").split()
    if not 2 <= len(words) <= 14 or any(c in " ".join(words) for c in "?…\"“”"):
        return None
    for i, word in enumerate(words[1:], start=1):
        folded = word.casefold()
        rest = words[i + 1:]
        if folded == "not" and rest and rest[0].casefold().endswith("ing"):
            subject = _subject(words[:i])
            if subject is None:
                return None
            name, plural = subject
            return f"{'Are' if plural else 'Is'} {name} still not {' '.join(rest)}?"
        if folded in SYMPTOM_VERBS:
            subject = _subject(words[:i])
            if subject is None:
                return None
            name, plural = subject
            return f"{'Do' if plural else 'Does'} {name} still {' '.join([SYMPTOM_VERBS[folded], *rest])}?"
    return None


def _subject(words: list[str]) -> tuple[str, bool] | None:
    """How a question names the summary's subject, and whether it is plural; None when that
    cannot be told ("Outlook" is a name, "Printer" is not, and nothing here knows which)."""
    def proper(word: str) -> bool:  # OneDrive, SharePoint; a name typed with capitals inside
        return any(c.isupper() for c in word[1:]) and not word.isupper()

    def lower(word: str) -> str:
        return word[:1].lower() + word[1:] if word[1:].islower() and word.isalpha() else word

    head = next((w for w, after in zip(words, [*words[1:], ""]) if after.casefold() in _PREPOSITIONS), words[-1])
    plural = head.casefold().endswith("s") and not head.casefold().endswith("ss") and not proper(head)
    if len(words) == 1:
        if proper(words[0]):
            return words[0], False
        if plural and words[0][1:].islower():
            return lower(words[0]), True
        return None
    first = words[0]
    # "Mapped drive", "S: drive": a described thing takes "the". "Xero bank feed" or "Excel macro"
    # may open with a name that must keep its capital: nothing here can tell, so no question.
    described = (first.isalpha() and first.casefold().endswith("ed")) or (len(first) == 2 and first[1] == ":")
    if not described or any(not w.replace("-", "").replace(":", "").isalnum() for w in words):
        return None
    return " ".join(["the", lower(first), *words[1:]]), plural


def as_question(text: str) -> str:
    text = text.rstrip()
    return text if text.endswith("?") else text.rstrip(" .:;!") + "?"


class _Tree:
    def __init__(self, tree: dict[str, Any], base: dict[str, Any] | None):
        self.root: str = tree["root"]
        self.nodes: dict[str, dict[str, Any]] = copy.deepcopy(tree["nodes"])
        self.base: dict[str, Any] = (base or {}).get("nodes", {})

    def written(self, node_id: str) -> bool:
        """Whether the analysis wrote this node (it is not the published version's own)."""
        was = self.base.get(node_id)
        return was is None or was.get("text") != self.nodes[node_id].get("text")

    def parents(self, node_id: str) -> list[str]:
        return [k for k, n in self.nodes.items()
                if n.get("next") == node_id or any(o["next"] == node_id for o in n.get("options", []))]

    def redirect(self, old: str, new: str) -> None:
        if self.root == old:
            self.root = new
        for node in self.nodes.values():
            if node.get("next") == old:
                node["next"] = new
            for option in node.get("options", []):
                if option["next"] == old:
                    option["next"] = new

    def new_id(self, prefix: str) -> str:
        n = 1
        while f"{prefix}{n}" in self.nodes:
            n += 1
        return f"{prefix}{n}"

    def label_for(self, target: str) -> str:
        node = self.nodes[target]
        text = node["text"]
        if node["type"] in ("resolution", *STEP_TYPES):
            text = imperative(text)  # "Disabled SIP ALG" as an answer to "Which fix applies?": "Disable …"
        return short_label(text) or node["type"].capitalize()

    def reached_without(self, skipped: str, also: list[str]) -> set[str]:
        """The nodes reachable from the root, or from ``also``, without passing through ``skipped``."""
        seen = {self.root, *also}
        stack = list(seen)
        while stack:
            node = self.nodes[stack.pop()]
            for target in [o["next"] for o in node.get("options", [])] + [node.get("next")]:
                if target and target != skipped and target not in seen:
                    seen.add(target)
                    stack.append(target)
        return seen

    def choice(self, node_id: str, text: str, targets: list[str]) -> None:
        options: list[dict[str, str]] = []
        for target in targets:
            options.append({"label": _unique(self.label_for(target), options), "next": target})
        self.nodes[node_id] = {"type": "question", "text": text, "options": options}

    # --- the rules ---------------------------------------------------------------------------

    def word_fork(self, fork: str, failed: Collection[str], symptom: str | None = None) -> None:
        targets = list(dict.fromkeys(o["next"] for o in self.nodes[fork]["options"]))
        ends = [t for t in targets if self.nodes[t]["type"] == "resolution"]
        others = [t for t in targets if t not in ends]
        parents = self.parents(fork)
        after = self.nodes[parents[0]] if len(parents) == 1 else None
        tried = (after is not None and after["type"] in STEP_TYPES and normal(after["text"]) in failed)
        if tried and ends and others:
            yes = _closest(after["text"], [(t, self.nodes[t]["text"]) for t in ends])
            reached = self.reached_without(fork, others)
            if yes is not None and all(t == yes or t in reached for t in ends):
                pass  # the other fixes stay reachable (after No, or elsewhere): Yes is the fix this step made
            elif len(ends) == 1:
                yes = ends[0]
            else:
                yes = self.new_id(f"{fork}_fix")
                self.choice(yes, WHICH_FIX, ends)
            no = others[0]
            if len(others) > 1:
                no = self.new_id(f"{fork}_next")
                self.choice(no, WHAT_NEXT, others)
            again = still_there(symptom)
            if again is not None:  # Yes, still there: the next thing to try
                options = [{"label": "Yes", "next": no}, {"label": "No", "next": yes}]
            else:
                options = [{"label": "Yes", "next": yes}, {"label": "No", "next": no}]
            self.nodes[fork] = {"type": "question", "text": again or DID_IT_WORK, "options": options}
        else:
            self.choice(fork, WHICH_FIX if not others else WHAT_NEXT, targets)

    def settle_unexplored(self) -> None:
        """Answers offered but taken by no session (the working tree's placeholder). A question
        that tells situations apart offers only those the sessions met: an answer nobody took has
        no steps to lead to, and with one answer left the question goes (``merge_options``). A
        question that checks a step's result (every answer taken ends the session resolved) keeps
        its other answers, "No" after "Is the connection stable now?": those escalate."""
        if UNEXPLORED not in self.nodes:
            return
        for node_id, node in self.nodes.items():
            if node["type"] != "question" or node_id in self.base:
                continue
            taken = [o for o in node["options"] if o["next"] != UNEXPLORED]
            if not taken or len(taken) == len(node["options"]):
                continue
            if not all(self.nodes[o["next"]]["type"] == "resolution" for o in taken):
                node["options"] = taken
        self.nodes[UNEXPLORED] = {**self.nodes[UNEXPLORED], "text": UNTRIED_ESCALATION}

    def merge_options(self) -> bool:
        """Drop or merge what decides nothing; True when anything changed."""
        for node_id, node in list(self.nodes.items()):
            if node["type"] != "question" or node_id in self.base:
                continue
            groups: dict[str, list[str]] = {}
            for option in node["options"]:
                groups.setdefault(option["next"], []).append(option["label"])
            if len(groups) == 1:
                target = next(iter(groups))
                del self.nodes[node_id]
                self.redirect(node_id, target)
                return True
            if len(groups) < len(node["options"]):
                options: list[dict[str, str]] = []
                for target, labels in groups.items():
                    options.append({"label": _unique(merged_label(labels), options), "next": target})
                node["options"] = options
                return True
        return False

    def word_texts(self) -> None:
        for node_id, node in self.nodes.items():
            if not self.written(node_id):
                continue
            if node["type"] == "question":
                node["text"] = as_question(node["text"])
            elif node["type"] in STEP_TYPES:
                node["text"] = imperative(node["text"])

    def tree(self) -> dict[str, Any]:
        order, seen, queue = [], {self.root}, [self.root]
        while queue:
            node_id = queue.pop(0)
            order.append(node_id)
            node = self.nodes[node_id]
            for target in [o["next"] for o in node.get("options", [])] + [node.get("next")]:
                if target and target not in seen:
                    seen.add(target)
                    queue.append(target)
        return {"root": self.root, "nodes": {k: self.nodes[k] for k in order}}


def _closest(text: str, candidates: list[tuple[str, str]]) -> str | None:
    """The candidate whose text shares the most words with ``text`` (None when none shares one):
    after "Reset the OneDrive client", the fix "Reset OneDrive and let it resync"."""
    words = set(normal(text).split())
    scored = [(len(words & set(normal(other).split())), -n, node_id) for n, (node_id, other) in enumerate(candidates)]
    best = max(scored, default=(0, 0, None))
    return best[2] if best[0] > 0 else None


def _unique(label: str, options: list[dict[str, str]]) -> str:
    taken = {o["label"].casefold() for o in options}
    if label.casefold() not in taken:
        return label
    n = 2
    while f"{label} ({n})".casefold() in taken:
        n += 1
    return f"{label} ({n})"


def present(working: dict[str, Any], base: dict[str, Any] | None = None,
            failed: Collection[str] = (), symptom: str | None = None) -> dict[str, Any]:
    """The proposal's tree from the analysis's working tree. ``base``: the published version an
    enhancement changes (its own questions and texts are left as they are); ``failed``: the
    normalised texts (``paths.normal``) of steps some supporting session recorded as failed;
    ``symptom``: the problem as engineers describe it, asked about again after a step that may
    not have fixed it (``still_there``)."""
    tree = _Tree(working, base)
    tree.settle_unexplored()
    for node_id in [k for k in tree.nodes if k.startswith(FORK_PREFIX)]:
        tree.word_fork(node_id, failed, symptom)
    for _ in range(len(tree.nodes) * MAX_OPTIONS):
        if not tree.merge_options():
            break
    tree.word_texts()
    return tree.tree()
