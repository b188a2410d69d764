"""The words the repeated-pattern clustering weighs: product names that anchor a problem, generic
device words that must not join unrelated problems, summaries that say nothing at all, and the
relatedness of words learned from the account's own matched sessions.

The hand-written lists here are vocabulary of the field (what an MSP's tickets name), not of any
one problem: a word goes in because engineers use it across many customers, never to merge one
family of wordings (see ``tests/data/paraphrase_families.json``).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

# Products and services an MSP supports, each with the names tickets use for it; a summary that
# names one is about that product, and two summaries naming different products are different
# problems ("Teams won't open" / "Sage won't open"). The first name is the token it folds to.
PRODUCTS: tuple[tuple[str, str], ...] = (
    ("teams", r"(?:microsoft |ms )?teams"),
    ("outlook", r"outlook"),
    ("sharepoint", r"share ?point"),
    ("onedrive", r"one ?drive(?: for business)?"),
    ("vpn", r"vpn|forticlient|globalprotect|anyconnect|openvpn|wireguard|netextender"),
    ("intune", r"intune|company portal"),
    ("entra", r"entra(?: id)?|azure ad|azure active directory|aad connect|azure ad connect"),
    ("m365", r"office ?365|o365|microsoft 365|m365"),
    ("exchange", r"exchange(?: online)?"),
    ("quickbooks", r"quick ?books"),
    ("sage", r"sage(?: 50| 200| payroll| accounts)?"),
    ("xero", r"xero"),
    ("zoom", r"zoom"),
    ("citrix", r"citrix"),
    ("adobe", r"adobe(?: acrobat)?|acrobat"),
    ("chrome", r"(?:google )?chrome"),
    ("edge", r"microsoft edge"),
    ("excel", r"excel"),
    ("word", r"ms word|microsoft word"),
    ("powerpoint", r"powerpoint"),
    ("dropbox", r"dropbox"),
    ("salesforce", r"salesforce"),
    ("autocad", r"autocad"),
    ("defender", r"defender"),
)
# One pass for every product: a named group per product, in the table's order.
_PRODUCT_PATTERN = re.compile("|".join(rf"\b(?P<p{k}>{pattern})\b" for k, (_, pattern) in enumerate(PRODUCTS)))
PRODUCT_TOKENS = frozenset(name for name, _ in PRODUCTS)

# Devices in general: every second ticket names one, so sharing one says nothing about sharing
# a problem ("Laptop won't charge" / "Laptop screen cracked").
GENERIC_WORDS = frozenset({
    "laptop", "laptops", "computer", "computers", "pc", "pcs", "desktop", "desktops", "workstation",
    "workstations", "machine", "device", "devices", "surface", "macbook", "mac", "imac",
})

# Words of emphasis and frequency: they say how the ticket feels, not what is wrong.
EMPHASIS_WORDS = frozenset({
    "keeps", "keep", "kept", "constantly", "continually", "randomly", "really", "very", "just", "now",
    "anymore", "still", "always", "sometimes", "suddenly", "properly", "correctly", "all", "day", "morning",
    "need", "needs", "needed", "want", "wants", "required", "requested",
})

# What a summary may hold and still say nothing about the problem.
VAGUE_WORDS = frozenset({
    "not", "working", "work", "works", "broken", "issue", "issues", "problem", "problems", "help", "urgent",
    "asap", "please", "pls", "plz", "thanks", "thank", "ticket", "tickets", "attached", "attachment", "see",
    "per", "discussed", "call", "called", "calling", "callback", "phone", "query", "request", "question",
    "fault", "faulty", "error", "errors", "fix", "check", "look", "sort", "stuff", "something", "anything",
    "it's", "its", "doesn't", "isn't", "won't", "can't", "cannot", "user", "users", "says", "said", "say",
    "client", "customer", "below", "above", "notes", "note", "description", "details", "info", "ref",
    "reference", "email", "mail", "chat", "conversation", "message", "voicemail", "spoke", "spoken",
    "unclear", "unknown", "caller", "hung", "describe", "describing", "described", "raised", "logged",
})
# References to somewhere else ("see ticket", "as per call", "ref #4411") that leave the summary empty.
_REFERENCES = re.compile(
    r"\b(?:as )?(?:per|discussed)(?: on| in| over| via| by)?(?: the| our| my)? ?(?:phone )?"
    r"(?:call|phone|email|e-mail|ticket|chat|conversation|teams|voicemail)?\b"
    r"|\bsee (?:the )?(?:ticket|attached|attachment|email|e-mail|notes?|below|above|description|previous)\b"
    r"|\b(?:ref(?:erence)?|ticket|case|inc|req)\.?:? ?#? ?[a-z]*\d[\w-]*"
)

# Words that say nothing about which problem it is; left in, they pull unrelated tickets together.
FILLER_WORDS = frozenset({
    "user", "users", "user's", "issue", "issues", "problem", "problems", "working", "work", "works",
    "urgent", "again", "today", "yesterday", "since", "help", "please", "pls", "asap", "error",
    "new", "starter", "office", "md", "reception", "says", "say", "said", "called",
})
# English stop words that name IT problems ("C: drive full", "Internet down"): kept.
KEPT_STOP_WORDS = frozenset({"full", "empty", "down", "off", "find", "found", "show", "system", "fire", "bill"})

_SPACE = re.compile(r"\s+")
_EDGE_PUNCTUATION = " \t.,;:!?"


def normalise(text: str) -> str:
    """The form texts are grouped by: case-folded, single-spaced, without edge punctuation."""
    return _SPACE.sub(" ", text.casefold()).strip(_EDGE_PUNCTUATION)


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset((ENGLISH_STOP_WORDS - KEPT_STOP_WORDS) | FILLER_WORDS | EMPHASIS_WORDS)


_TOKEN = re.compile(r"[a-z0-9][a-z0-9'.:/-]*[a-z0-9]|[a-z0-9]")


def fold_products(text: str) -> str:
    return _PRODUCT_PATTERN.sub(lambda m: f" {PRODUCTS[int(m.lastgroup[1:])][0]} ", text)


def anchors(tokens: Iterable[str]) -> frozenset[str]:
    """The products a (folded) summary names."""
    return frozenset(t for t in tokens if t in PRODUCT_TOKENS)


def is_informative(text: str) -> bool:
    """Whether a normalised summary says anything about the problem: a product, or one word that
    is not vague, a device, emphasis or a stop word once references elsewhere are taken out.
    "see ticket", "user says it's not working", "as per call" and "laptop not working" do not."""
    text = fold_products(text.replace("\u2019", "'"))
    text = _REFERENCES.sub(" ", text)
    stop = stop_words()
    for token in _TOKEN.findall(text):
        token = token.strip("'.:/-")
        if token in PRODUCT_TOKENS:
            return True
        if (token and not token.isdigit() and token not in stop and token not in VAGUE_WORDS
                and token not in GENERIC_WORDS and token not in EMPHASIS_WORDS):
            return True
    return False


def non_informative_sessions(summaries: Iterable[tuple[str, int]]) -> int:
    """How many sessions the ``(summary, sessions)`` pairs hold whose summary says nothing."""
    return sum(n for text, n in summaries if not is_informative(normalise(text)))


@dataclass(frozen=True)
class LearnedVocabulary:
    """Which words the account's engineers use for the same problem, learned from the summaries
    of sessions that matched the same flow (the account's labelled data): two words are related
    as far as they occur in the summaries of the same flows (the cosine of their per-flow counts).
    Words seen in fewer than ``MIN_SUPPORT`` summaries are not learned."""

    related: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    flows: int = 0

    MIN_SUPPORT = 2
    MIN_RELATEDNESS = 0.5

    def __bool__(self) -> bool:
        return bool(self.related)


def learn_vocabulary(groups: Mapping[str, Sequence[str]], tokenise) -> LearnedVocabulary:
    """``groups``: per flow (or domain), the normalised summaries of its matched sessions;
    ``tokenise``: the clustering's content words of a summary."""
    per_word: dict[str, Counter] = defaultdict(Counter)
    for group, texts in groups.items():
        for text in texts:
            for word in set(tokenise(text)):
                per_word[word][group] += 1
    words = {w: c for w, c in per_word.items() if sum(c.values()) >= LearnedVocabulary.MIN_SUPPORT}
    norms = {w: math.sqrt(sum(v * v for v in c.values())) for w, c in words.items()}
    by_group: dict[str, list[str]] = defaultdict(list)
    for word, counts in words.items():
        for group in counts:
            by_group[group].append(word)
    related: dict[str, dict[str, float]] = defaultdict(dict)
    for members in by_group.values():
        for a in members:
            for b in members:
                if a >= b or b in related[a]:
                    continue
                shared = sum(words[a][g] * words[b][g] for g in words[a].keys() & words[b].keys())
                similarity = shared / (norms[a] * norms[b])
                if similarity >= LearnedVocabulary.MIN_RELATEDNESS:
                    related[a][b] = related[b][a] = round(similarity, 4)
    return LearnedVocabulary({w: dict(r) for w, r in related.items() if r}, len(groups))
