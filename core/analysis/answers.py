"""Which offered option a typed answer names.

Engineers type what an option already says ("New Outlook" where the question offers "New Outlook
for Windows"); counting that as a missing answer would propose an option the flow has. A typed
answer picks an option when it means the same:

* the same text once case, spacing and punctuation are set aside;
* the content words of one contain the other's ("The new Outlook for Windows");
* it names all that sets exactly one option apart from the others ("new outlook app": of the
  Outlook options, only one says "new");
* or it is a close spelling of one ("Outlok on the web").

Each rule must point at exactly one option, an answer using what sets another option apart
picks neither ("Everyone on the RDS host"), and a negated answer never picks an option that is
not negated ("Not Outlook on the web"): when in doubt the answer stays a typed one.
Pure: strings in, an option index out.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from core.analysis.paths import normal

CLOSE_SPELLING = 0.88  # difflib ratio of the normalised texts
# Words that carry no meaning of their own in a short answer.
FILLER = frozenset(
    "a an the it it's its is are was were be on in at of for to from by with and or but this that these those "
    "s i we they he she user user's users one just only really think probably maybe yes yeah ok".split())
NEGATION = frozenset("no not never none nothing without cannot can t isn aren doesn don won didn".split())


def content_words(text: str | None) -> frozenset[str]:
    return frozenset(w for w in normal(text).split() if w not in FILLER and w not in NEGATION)


def negated(text: str | None) -> bool:
    return any(w in NEGATION for w in normal(text).split())


def matching_option(answer: str | None, labels: Sequence[str]) -> int | None:
    """The index of the option in ``labels`` that ``answer`` names, or None when it names none
    (or could name more than one)."""
    wanted = normal(answer)
    if not wanted:
        return None
    exact = [i for i, label in enumerate(labels) if normal(label) == wanted]
    if exact:
        return exact[0]
    agreeing = [i for i, label in enumerate(labels) if negated(label) == negated(answer)]
    words = content_words(answer)
    for rule in (_contained, _distinctive):
        found = rule(words, labels, agreeing)
        if found is not None:
            return found
    return _close_spelling(wanted, labels, agreeing)


def _only(found: list[int]) -> int | None:
    return found[0] if len(found) == 1 else None


def _own_words(labels: Sequence[str]) -> list[frozenset[str]]:
    """Per option, the content words no other option has: what sets it apart."""
    each = [content_words(label) for label in labels]
    return [theirs - frozenset().union(*(other for k, other in enumerate(each) if k != i))
            for i, theirs in enumerate(each)]


def _contained(words: frozenset[str], labels: Sequence[str], agreeing: list[int]) -> int | None:
    if not words:
        return None
    own = _own_words(labels)
    found = []
    for i in agreeing:
        theirs = content_words(labels[i])
        # "Everyone on the RDS host" holds "Everyone", but also what sets another option apart.
        elsewhere = any(own[k] & words for k in range(len(labels)) if k != i)
        if theirs and (theirs <= words or words <= theirs) and not elsewhere:
            found.append(i)
    return _only(found)


def _distinctive(words: frozenset[str], labels: Sequence[str], agreeing: list[int]) -> int | None:
    """The option whose own words (those no other option has) the answer uses, all of them,
    where it uses no other option's own word."""
    if not words or len(labels) < 2:
        return None
    own = _own_words(labels)
    touched = [i for i, theirs in enumerate(own) if theirs & words]
    if len(touched) != 1 or not own[touched[0]] <= words:
        return None
    return touched[0] if touched[0] in agreeing else None


def _close_spelling(wanted: str, labels: Sequence[str], agreeing: list[int]) -> int | None:
    scored = [(SequenceMatcher(None, wanted, normal(labels[i])).ratio(), i) for i in agreeing]
    close = [i for ratio, i in scored if ratio >= CLOSE_SPELLING]
    return _only(close)
