"""The knowledge-gap thresholds: defaults in code, per-account overrides in ``accounts.settings``.

Overrides live under the ``"gaps"`` key as a flat JSON object of the fields below; anything not
overridden follows the code's default, so a default can improve without touching accounts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import flag_modified

from core.accounts.auth import Actor, authorize
from core.models import Account, AuditEntry
from core.types import utcnow

SETTINGS_KEY = "gaps"
SEVERITIES = ("high", "medium", "low")
# The audit log's actions for a saved change: a save that leaves every default is a reset.
THRESHOLDS_CHANGED = "thresholds_changed"
THRESHOLDS_RESET = "thresholds_reset"


class ThresholdError(ValueError):
    """A threshold override that cannot be used; the message names the field."""


@dataclass(frozen=True)
class GapThresholds:
    """What counts as a gap, and how severe (``core.gaps.severity``). A rate counts only when its
    Wilson interval lies wholly above the normal level; how severe is the lesser of the rate's band
    and the volume it adds, against bars that are a share of the period's sessions with a floor."""

    # Fewer responses / sessions / attempts than this and a rate is not judged at all.
    min_sample: int = 10
    # Wilson z: 1.96 is a 95% interval.
    confidence_z: float = 1.96
    # The volume bars: medium from this share of the period's sessions, high from that one; each
    # never under its signal's floor (the counts below, or excess_* for rates).
    medium_share: float = 0.005
    high_share: float = 0.01
    # Rates: the floors of the excess, the sessions (answers, attempts) above the normal level.
    excess_medium: int = 3
    excess_high: int = 8

    # weak_options: share of answers typed instead of picked.
    free_text_low: float = 0.08
    free_text_medium: float = 0.15
    free_text_high: float = 0.30
    min_free_text: int = 3

    # high_escalation: share of finished sessions escalated; also has to beat the account's own rate.
    escalation_low: float = 0.20
    escalation_medium: float = 0.30
    escalation_high: float = 0.45
    # ... or at least this many escalated at above this rate (FlowPilot's original rule): listed,
    # at low, however thin the evidence.
    escalation_listed_count: int = 3
    escalation_listed_rate: float = 0.40

    # failing_action: share of attempts that failed.
    failure_low: float = 0.15
    failure_medium: float = 0.25
    failure_high: float = 0.40

    # dead_end: share of sessions reaching a node that were escalated or abandoned right after it.
    dead_end_low: float = 0.15
    dead_end_medium: float = 0.25
    dead_end_high: float = 0.40
    min_dead_ends: int = 5

    # uncharted_territory: sessions resolved with no flow (discovery) in a domain. Listed from
    # uncharted_min; medium and high are floors of the volume bars, except that a domain with no
    # published flow at all is medium from uncharted_medium whatever the account's size.
    uncharted_min: int = 2
    uncharted_medium: int = 5
    uncharted_high: int = 15

    # repeated_pattern: sessions in a cluster of similar problem summaries with no matched flow
    # (medium and high: floors of the volume bars).
    pattern_min: int = 5
    pattern_medium: int = 15
    pattern_high: int = 40
    # Cosine distance under which two summaries join a cluster (average linkage).
    cluster_distance: float = 0.75

    # emerging: this period's volume at least `emerging_ratio` times the previous period's.
    emerging_ratio: float = 2.0
    emerging_min: int = 5

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ThresholdError(f"{f.name} must be a whole number of at least 1, not {value!r}")
            elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ThresholdError(f"{f.name} must be a number, not {value!r}")
        for prefix in ("free_text", "escalation", "failure", "dead_end"):
            low, medium, high = (getattr(self, f"{prefix}_{s}") for s in ("low", "medium", "high"))
            if not 0 < low <= medium <= high <= 1:
                raise ThresholdError(f"{prefix} bands must satisfy 0 < low <= medium <= high <= 1, "
                                     f"not {low}, {medium}, {high}")
        for prefix in ("uncharted", "pattern"):
            low, medium, high = (getattr(self, f"{prefix}_{s}") for s in ("min", "medium", "high"))
            if not low <= medium <= high:
                raise ThresholdError(f"{prefix} counts must satisfy min <= medium <= high, not {low}, {medium}, {high}")
        if not 0 < self.medium_share <= self.high_share <= 1:
            raise ThresholdError(f"volume shares must satisfy 0 < medium_share <= high_share <= 1, "
                                 f"not {self.medium_share}, {self.high_share}")
        if self.excess_medium > self.excess_high:
            raise ThresholdError(f"excess floors must satisfy excess_medium <= excess_high, "
                                 f"not {self.excess_medium}, {self.excess_high}")
        if not 0 < self.escalation_listed_rate <= 1:
            raise ThresholdError(f"escalation_listed_rate must be in (0, 1], not {self.escalation_listed_rate}")
        if not 0 < self.cluster_distance < 1:
            raise ThresholdError(f"cluster_distance must be between 0 and 1, not {self.cluster_distance}")
        if self.emerging_ratio <= 1:
            raise ThresholdError(f"emerging_ratio must be above 1, not {self.emerging_ratio}")
        if not 0 < self.confidence_z <= 5:
            raise ThresholdError(f"confidence_z must be in (0, 5], not {self.confidence_z}")

    def overrides(self) -> dict[str, Any]:
        """The fields that differ from the defaults: what an account stores."""
        default = asdict(DEFAULT_THRESHOLDS)
        return {k: v for k, v in asdict(self).items() if v != default[k]}


DEFAULT_THRESHOLDS = GapThresholds()
_FIELD_TYPES = {f.name: f.type for f in fields(GapThresholds)}


def thresholds_from_overrides(overrides: dict[str, Any] | None) -> GapThresholds:
    """Defaults with ``overrides`` applied; unknown names and bad values raise ThresholdError."""
    if not overrides:
        return DEFAULT_THRESHOLDS
    if not isinstance(overrides, dict):
        raise ThresholdError(f"gap thresholds must be an object, not {type(overrides).__name__}")
    unknown = sorted(set(overrides) - set(_FIELD_TYPES))
    if unknown:
        raise ThresholdError(f"unknown gap threshold(s): {', '.join(unknown)}")
    values = {}
    for name, value in overrides.items():
        # JSON has one number type: 2.0 for an int field is fine, 2.5 is not.
        if _FIELD_TYPES[name] == "int" and isinstance(value, float) and value.is_integer():
            value = int(value)
        values[name] = value
    return replace(DEFAULT_THRESHOLDS, **values)


def load_thresholds(db: OrmSession, account_id: int) -> GapThresholds:
    settings = db.execute(select(Account.settings).where(Account.id == account_id)).scalar_one_or_none()
    return thresholds_from_overrides((settings or {}).get(SETTINGS_KEY))


def save_thresholds(db: OrmSession, account_id: int, thresholds: GapThresholds | dict[str, Any]) -> GapThresholds:
    """Store only what differs from the defaults (validated first); the caller commits."""
    if not isinstance(thresholds, GapThresholds):
        thresholds = thresholds_from_overrides(thresholds)
    account = db.get(Account, account_id)
    if account is None:
        raise ThresholdError(f"no account with id {account_id}")
    settings = dict(account.settings or {})
    overrides = thresholds.overrides()
    if overrides:
        settings[SETTINGS_KEY] = overrides
    else:
        settings.pop(SETTINGS_KEY, None)
    account.settings = settings
    flag_modified(account, "settings")
    db.flush()
    return thresholds


def save_account_thresholds(db: OrmSession, actor: Actor, account_id: int,
                            thresholds: GapThresholds | dict[str, Any], *, now: datetime | None = None) -> GapThresholds:
    """``save_thresholds`` for a signed-in user: only a role with ``tune_gaps`` (admins) may change
    an account's thresholds, checked here against the database whatever the dashboard showed.
    A save that changes a value writes an audit entry (every threshold before and after, for the
    Activity page). Raises core.accounts.auth.NotAllowed or ThresholdError; the caller commits."""
    authorize(db, actor, account_id, "tune_gaps")
    before = _stored(db, account_id)
    saved = save_thresholds(db, account_id, thresholds)
    after = asdict(saved)
    if after != before:
        # In the caller's transaction: the change and its record are committed together or not at all.
        db.add(AuditEntry(account_id=account_id, user_id=actor.user_id, actor=actor.email,
                          action=THRESHOLDS_RESET if not saved.overrides() else THRESHOLDS_CHANGED,
                          details={"settings": "knowledge-gap thresholds", "before": before, "after": after},
                          created_at=now or utcnow()))
        db.flush()
    return saved


def _stored(db: OrmSession, account_id: int) -> dict[str, Any]:
    """Every threshold in force before a save; what was stored as it is when it was unusable."""
    try:
        return asdict(load_thresholds(db, account_id))
    except ThresholdError:
        settings = db.execute(select(Account.settings).where(Account.id == account_id)).scalar_one_or_none()
        stored = (settings or {}).get(SETTINGS_KEY)
        return dict(stored) if isinstance(stored, dict) else {}
