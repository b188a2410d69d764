"""``build_metrics``: every figure for one account and period, with the previous period's.

Three aggregate queries over the account's sessions of both periods (the session cube, the
days, the cases with the handle-time medians); none reads the steps table. Fetch, then shape: the
read functions return raw rows and the shaping functions are pure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Principal, authorize
from core.metrics.cases import fetch_cases
from core.metrics.comparison import Comparison, previous_period_thin, read_first_session_start
from core.metrics.figures import Number, Section
from core.metrics.flows import shape_flows
from core.metrics.psa import case_totals, shape_psa
from core.metrics.sessions import fetch_session_cube, totals
from core.metrics.success import shape_resolution
from core.metrics.tiers import shape_tiers
from core.metrics.volume import day_lag, fetch_daily, shape_volume
from core.metrics.window import MetricsFilters, Window
from core.periods import InPeriod, Period
from core.report_settings import report_settings

FLAT_HEADER = ("section", "dimension", "key", "metric", "value", "previous_value", "change")


@dataclass(frozen=True)
class MetricsReport(InPeriod):
    account_id: int
    period: Period
    filters: MetricsFilters
    sections: tuple[Section, ...]
    # When the account's first session started (any filter aside); None: it has none.
    first_session_at: datetime | None = None

    @property
    def previous_period_covered(self) -> bool:
        """False when the account's data starts after the previous period does: no change is shown."""
        return self.period.previous_covered(self.first_session_at)

    @property
    def previous_period_thin(self) -> bool:
        """True when the previous period (as filtered) holds few sessions against this one."""
        sessions = self["volume"]["sessions"]
        return previous_period_thin(sessions.value or 0, sessions.previous or 0)

    @property
    def comparison(self) -> Comparison:
        return Comparison(self.previous_period_covered, self.previous_period_thin,
                          self["volume"]["sessions"].previous or 0, self.first_session_at, self.previous_start)

    def __getitem__(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "days": self.days,
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "previous_period": {"start": self.previous_start.isoformat(), "end": self.start.isoformat(),
                                # Days and weeks compare with the same hours this many days earlier.
                                "day_and_week_lag_days": day_lag(Window(self.account_id, self.period)).days,
                                "covered": self.previous_period_covered, "thin": self.previous_period_thin},
            "filters": self.filters.to_dict(),
            "sections": {section.name: section.to_dict() for section in self.sections},
        }

    def flat_rows(self) -> Iterator[tuple[str, str, str, str, Number, Number, Number]]:
        """One row per figure: (section, dimension, key, metric, value, previous_value, change).
        Totals have the dimension ``total`` and an empty key."""
        for section in self.sections:
            for metric, figure in section.totals.items():
                yield section.name, "total", "", metric, figure.value, figure.previous, figure.change
            for dimension, groups in section.breakdowns.items():
                for group in groups:
                    for metric, figure in group.figures.items():
                        yield section.name, dimension, group.key, metric, figure.value, figure.previous, figure.change


def build_metrics(db: OrmSession, actor: Principal, account_id: int, days: int = 30, now: datetime | None = None,
                  filters: MetricsFilters | Mapping[str, str | None] | None = None) -> MetricsReport:
    """Every figure for the account's sessions started in ``[now − days, now)``, each with the
    same figure for the ``days`` before that. Raises core.accounts.auth.NotAllowed unless ``actor`` may see
    the account's analytics (checked here, against the database, so no caller can forget)."""
    authorize(db, actor, account_id, "analytics")
    window = Window.last_days(account_id, days, now, filters)
    with report_settings(db):
        cube = fetch_session_cube(db, window)
        daily = fetch_daily(db, window)
        cases, case_medians, handle_medians, clients = fetch_cases(db, window)
        first_session_at = read_first_session_start(db, account_id)

    sessions_now, sessions_before = totals(cube)
    cases_now, cases_before, _, _ = case_totals(cases)
    sections = (
        shape_volume(cube, daily, window),
        shape_tiers(cube, handle_medians),
        shape_resolution(cases_now, cases_before, sessions_now, sessions_before),
        shape_psa(cases, case_medians, cube, clients),
        shape_flows(cube),
    )
    return MetricsReport(account_id=account_id, period=window.period, filters=window.filters,
                         sections=sections, first_session_at=first_session_at)
