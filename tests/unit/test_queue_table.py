"""The review queue's rows are tall enough for every title to wrap whole at 1,400 px."""

from __future__ import annotations

import textwrap

from hypothesis import given
from hypothesis import strategies as st

from dashboard.queue_table import LINE_HEIGHT, ROW_PADDING, TITLE_LINE, title_row_height


def test_short_titles_keep_single_line_rows_and_longer_ones_get_rows_that_hold_them_whole():
    assert title_row_height(["OneDrive not syncing", "MFA not working"]) is None
    assert title_row_height(["Device checks: add “Only on the docking station”"]) == 3 * LINE_HEIGHT + ROW_PADDING
    long = "Outlook not receiving new email: add “New Outlook for Windows, the app from the Store” as a client"
    assert title_row_height([long, "short"]) == len(textwrap.wrap(long, TITLE_LINE)) * LINE_HEIGHT + ROW_PADDING


@given(st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=5))
def test_whatever_the_titles_every_one_fits_in_its_row(titles):
    height = title_row_height(titles)
    lines = max(len(textwrap.wrap(t, TITLE_LINE)) for t in titles)
    assert (height or LINE_HEIGHT + ROW_PADDING) >= lines * LINE_HEIGHT
