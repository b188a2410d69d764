"""Rows from core (frozen dataclasses) as the frames Streamlit's tables take: core returns rows,
the page layer decides they are a table."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def frame_of(rows: Sequence[object], columns: Sequence[str], *, timestamps: Sequence[str] = ()) -> pd.DataFrame:
    """One column per attribute named (fields and properties alike), in that order; the
    ``timestamps`` columns as timezone-aware datetimes, so an empty or all-blank column still
    sorts and formats as a date."""
    frame = pd.DataFrame([[getattr(row, c) for c in columns] for row in rows], columns=list(columns))
    for column in timestamps:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame
