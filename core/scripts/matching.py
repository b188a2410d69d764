"""Ranking the library's templates for a session or a typed problem description.

Public API::

    rank_templates(library, text, domain=None, limit=5) -> list[Match]
    session_query(session) -> (text, domain)     # a session's summary, domain and step texts
    Match                                        # template, score (0..1+), why: list of reasons

TF-IDF (scikit-learn) over each template's title, tags and explanation, with the title and the
tags repeated so that they weigh more than the prose; words are lower-cased and reduced by a
small suffix-stripper ("printers", "printing" -> "print"), unigrams and bigrams. The score is
the cosine similarity plus ``DOMAIN_BOOST`` when the template's domain is the query's.
Only templates with a positive score are returned; ties fall back to the id, so the order is
deterministic. ``why`` names the shared words that counted most, and the domain when it did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from core.scripts.templates import Library, Template

DOMAIN_BOOST = 0.15
MAX_QUERY_CHARS = 20_000
WORD = re.compile(r"[a-z0-9][a-z0-9+#.-]*[a-z0-9+#]|[a-z0-9]")
SUFFIXES = ("ings", "ing", "ers", "er", "ed", "es", "s")
STOP = frozenset(ENGLISH_STOP_WORDS) | {"user", "users", "pc", "computer", "machine", "issue", "problem",
                                        "script", "run", "runs", "check", "show", "shows"}


@dataclass(frozen=True)
class Match:
    template: Template
    score: float
    why: list[str]


def stem(word: str) -> str:
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    words = [w for w in WORD.findall(text.lower()) if w not in STOP]
    return [stem(w) for w in words]


def analyse(text: str) -> list[str]:
    """Unigrams and bigrams of the stemmed words (the vectorizer's analyzer)."""
    words = tokens(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def _document(template: Template) -> str:
    tags = " . ".join(template.tags)
    return "\n".join([template.title, template.title, tags, tags, tags, template.domain, template.explanation])


def rank_templates(library: Library, text: str, domain: str | None = None, limit: int = 5) -> list[Match]:
    templates = list(library.templates)
    text = (text or "")[:MAX_QUERY_CHARS]
    if not templates or limit <= 0:
        return []
    vectorizer = TfidfVectorizer(analyzer=analyse, sublinear_tf=True, norm="l2")
    matrix = vectorizer.fit_transform([_document(t) for t in templates])
    query = vectorizer.transform([text])
    similarity = (matrix @ query.T).toarray().ravel()
    vocabulary = vectorizer.get_feature_names_out()
    surface: dict[str, str] = {}  # stem -> the word as the query wrote it, for ``why``
    for word in WORD.findall(text.lower()):
        if word not in STOP:
            surface.setdefault(stem(word), word)
    wanted = (domain or "").strip().lower()
    matches = []
    for index, template in enumerate(templates):
        score = float(similarity[index])
        why = _shared_terms(matrix[index], query, vocabulary, surface) if score > 0 else []
        if wanted and template.domain.lower() == wanted:
            score += DOMAIN_BOOST
            why.append(f"domain: {template.domain}")
        if score > 0:
            matches.append(Match(template, round(score, 6), why))
    matches.sort(key=lambda m: (-m.score, m.template.id))
    return matches[:limit]


def _shared_terms(row: Any, query: Any, vocabulary: Any, surface: dict[str, str], count: int = 4) -> list[str]:
    product = row.multiply(query).tocoo()
    ranked = sorted(zip(product.data, product.col), key=lambda pair: (-pair[0], vocabulary[pair[1]]))
    words = [" ".join(surface.get(part, part) for part in vocabulary[col].split(" ")) for _, col in ranked[:count]]
    return [f"matches \u201c{word}\u201d" for word in words]


def session_query(session: Any) -> tuple[str, str | None]:
    """The text and domain to rank by for a session (a ``core.models.Session`` or alike)."""
    parts = [getattr(session, "problem_summary", None) or ""]
    for step in getattr(session, "steps", None) or []:
        parts.append(getattr(step, "context_message", None) or "")
        parts.append(getattr(step, "response", None) or "")
    return "\n".join(p for p in parts if p), getattr(session, "problem_domain", None)
