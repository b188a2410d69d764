"""The interchange formats: checks of one session or flow record against the public contract.

The JSON Schemas in ``core/schemas`` are copies of the shared contract (a test keeps them equal);
on top of them come the rules the README states in words: unique step ``seq`` within a session
and the graph rules for every tree; and before them the values no column can hold
(``core.storable``: NUL characters, lone surrogates, deep nesting), which would otherwise reach
the validator or the database driver and fail there with a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema_rs

from core.flows.trees import field_path, load_schema, short_message, tree_problems
from core.storable import unstorable


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"field {self.field or '(record)'}: {self.message}"


@lru_cache(maxsize=1)
def _registry() -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry([("tree.schema.json", load_schema("tree.schema.json"))])


@lru_cache(maxsize=1)
def _session_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(load_schema("session.schema.json"), validate_formats=True)


@lru_cache(maxsize=1)
def _flow_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(
        load_schema("flow.schema.json"), registry=_registry(), validate_formats=True
    )


def _schema_errors(validator: jsonschema_rs.Validator, record: Any) -> list[FieldError]:
    # is_valid is several times faster than collecting errors; most records are valid.
    if validator.is_valid(record):
        return []
    return [FieldError(field_path(e), short_message(e)) for e in validator.iter_errors(record)]


def _unstorable(record: Any) -> list[FieldError]:
    problem = unstorable(record)
    return [FieldError(*problem)] if problem else []


def session_errors(record: Any, *, walk: bool = True) -> list[FieldError]:
    """Every rule the record breaks (the first unstorable value alone, if any).

    ``walk=False`` skips the walk for unstorable values: only for a record parsed from a line
    that ``core.storable.needs_walk`` cleared."""
    errors = _unstorable(record) if walk else []
    if errors:
        return errors
    errors = _schema_errors(_session_validator(), record)
    if errors:
        return errors
    steps = record["steps"]
    # Distinct seqs (nearly every record) in one set build; the walk below only to name a repeat.
    if len({step["seq"] for step in steps}) == len(steps):
        return errors
    seen: set[int] = set()
    for index, step in enumerate(steps):
        if step["seq"] in seen:
            errors.append(FieldError(f"steps[{index}].seq", f"seq {step['seq']} appears twice in this session"))
        seen.add(step["seq"])
    return errors


def flow_errors(record: Any) -> list[FieldError]:
    errors = _unstorable(record) or _schema_errors(_flow_validator(), record)
    if errors:
        return errors
    return [FieldError(f"tree.{p.field}" if p.field else "tree", p.message) for p in tree_problems(record["tree"])]
