"""Exports: the account's full CSV exports (``core.exports.catalog``) for a chosen period, as downloads.

Each file is built only when its button is pressed (Streamlit runs the callable then, off the
page's script thread), from core's streamed exporter, and handed to the browser as one bytes
value: one file in memory at a time, for the one user who asked. The role is checked again
against the database when the file is built, not only when the page was drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core.accounts.auth import Actor
from core.accounts.directory import AccountRef
from core.exports.catalog import EXPORTS, ExportRequest, export_bytes
from dashboard import resources
from dashboard.periods import Period, period_picker, to_url
from dashboard.text import trusted

DESCRIPTIONS = {
    "sessions": ("Sessions", ":material/forum:",
                 "One row per session started in the period, oldest first: its fields as imported, the PSA "
                 "ticket fields, the step count, its handle time and whether its ticket breached the SLA."),
    "metrics": ("Metrics", ":material/monitoring:",
                "The whole analytics report for the period (every account-wide figure and breakdown), one row "
                "per figure with the previous period's value and the change. Rates are fractions (0.25 is 25%)."),
    "gaps": ("Knowledge gaps", ":material/troubleshoot:",
             "The knowledge-gap report for the period: one row per gap, most severe first, with what was "
             "measured, the suggested action and its first session ids."),
    "proposals": ("Flow proposals", ":material/lightbulb:",
                  "One row per flow proposal created in the period, newest first, with its status, target "
                  "flow, confidence, supporting sessions and reviewer."),
    "impact": ("Impact of published changes", ":material/published_with_changes:",
               "One row per published flow version, newest first, with its verdict: the flow's sessions "
               "in as many days before and after the publication as the period has, the rates, their changes "
               "with 95% intervals and the rest of the account's change."),
    "activity": ("Activity", ":material/history:",
                 "Who decided what: one row per review decision and knowledge-gap threshold change made in the "
                 "period, newest first, with the person, the action, the flow, the proposal and the reason."),
}


def export_payload(actor: Actor, account: AccountRef, name: str, period: Period, bom: bool = False) -> bytes:
    """The CSV file of export ``name`` for the account and period (the export checks the role again)."""
    request = ExportRequest(account.id, account.slug, period.days, period.now())
    return export_bytes(resources.engine(), actor, name, request, bom=bom)


def _builder(actor: Actor, account: AccountRef, name: str, period: Period, bom: bool) -> Callable[[], bytes]:
    return lambda: export_payload(actor, account, name, period, bom)


def exports_page() -> None:
    actor, account = resources.require("exports")
    st.title("Exports")
    st.caption("Full CSV files of this account's data for a period: UTF-8, RFC 4180 and formula-safe (text "
               "that a spreadsheet would run as a formula, such as `=HYPERLINK(…)`, gets an apostrophe in front "
               "so it shows as text).")

    picker, options = st.columns([2.2, 2], vertical_alignment="bottom")
    period = period_picker("ex", picker)
    to_url(period)
    bom = options.toggle("For Excel", key="ex_excel",
                         help="Starts each file with a UTF-8 byte-order mark, without which Excel reads it in the "
                              "local code page and garbles accents.")
    st.caption(f"Every file covers what was created {trusted(period.describe())} (UTC). Each file is built when you "
               "press its button, which can take a few seconds for a long period.")

    for name in [n for n in DESCRIPTIONS if n in EXPORTS] + [n for n in EXPORTS if n not in DESCRIPTIONS]:
        title, icon, text = DESCRIPTIONS.get(name, (name.title(), ":material/table:", ""))
        with st.container(border=True):
            about, button = st.columns([4, 1.3], vertical_alignment="center")
            about.markdown(f"**{icon} {title}**")
            if text:
                about.caption(text)
            button.download_button(
                f"Download {title.lower()}", _builder(actor, account, name, period, bom),
                file_name=f"{account.slug}-{name}-{period.slug()}.csv", mime="text/csv",
                icon=":material/download:", key=f"ex_download_{name}", on_click="ignore", width="stretch",
            )
