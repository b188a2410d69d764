"""The review queue's table, shaped: what each column shows and how tall its rows are, so that
every title reads whole at 1,400 px."""

from __future__ import annotations

import textwrap
from dataclasses import fields

import pandas as pd

from core.analysis.evidence import NEW_FLOW_TITLE_PREFIX
from core.proposals.queue import QueueRow
from dashboard.frames import frame_of

TYPE_LABEL = {"new_flow": "New flow", "enhancement": "Enhancement"}
TITLE_LINE = 30  # characters of a title one line of its 265-pixel column surely holds
LINE_HEIGHT, ROW_PADDING = 20, 8  # pixels; a row of more than 4rem (64 px) wraps its text


def queue_frame(page_rows: tuple[QueueRow, ...]) -> pd.DataFrame:
    """The proposals as the table shows them: a new flow's title without its "New flow: " prefix
    (the Type column says it), the type and status in words, the creation day."""
    rows = frame_of(page_rows, [f.name for f in fields(QueueRow)], timestamps=("created_at", "reviewed_at"))
    frame = rows.assign(
        proposal_type=rows["proposal_type"].map(TYPE_LABEL),
        status=rows["status"].str.capitalize(),
        confidence=rows["confidence"].astype("float64") * 100,  # shown "62.5%", one decimal as every share
        title=[t.removeprefix(NEW_FLOW_TITLE_PREFIX) if kind == "new_flow" else t
               for t, kind in zip(rows["title"], rows["proposal_type"])],
    )
    return frame


def title_row_height(titles) -> int | None:
    """Rows tall enough for the longest title to wrap whole (at least three lines, where Streamlit
    starts wrapping); None, the default single line, when every title fits on one."""
    lines = max((len(textwrap.wrap(t, TITLE_LINE)) for t in titles), default=1)
    return None if lines <= 1 else max(3, lines) * LINE_HEIGHT + ROW_PADDING
