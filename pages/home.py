"""Home: what FlowPilot Insights is, the selected account's headline numbers, what waits for review,
the most severe knowledge gaps (``dashboard.home_lists``) and the latest published changes."""

from __future__ import annotations

import streamlit as st

from core.accounts.auth import Actor
from core.impact.report import ImpactChange, published_changes
from core.metrics.figures import percent
from core.metrics.headline import Headline, headline_numbers
from core.settings import get_settings
from dashboard import chart_loading, home_lists, page_links, resources
from dashboard.text import md_escape, trusted

PERIOD_DAYS = 30

ABOUT = ("FlowPilot Insights shows how your engineers' troubleshooting sessions with the FlowPilot "
         "AI copilot end: how many were resolved, escalated or abandoned")
# What each page adds to the sentence above; only the pages the role may open are named.
ABOUT_PARTS = (
    ("knowledge_gaps", "which problems the published flows do not cover yet (Knowledge gaps)"),
    ("view_queue", "which new or better flows the sessions support (Review queue)"),
)


def about(may) -> str:
    """The introduction, naming only the pages ``may(permission)`` allows."""
    parts = [ABOUT, *(text for permission, text in ABOUT_PARTS if may(permission))]
    if len(parts) == 1:
        return parts[0] + "."
    return ", ".join(parts[:-1]) + ", and " + parts[-1] + "."

LOAD_DATA = (
    "To load data, run one of these in the project folder, then press **Refresh data** in the sidebar:\n\n"
    "- `python -m core demo`: generate realistic demo accounts and sessions\n"
    "- `python -m core import --flows FLOWS.jsonl --sessions SESSIONS.jsonl`: import your own exports"
)


@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False)
def _headline(url: str, actor: Actor, account_id: int, days: int) -> Headline:
    with resources.read_session(url) as db:
        return headline_numbers(db, actor, account_id, days)


@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False)
def _changes(url: str, actor: Actor, account_id: int) -> tuple[ImpactChange, ...]:
    with resources.read_session(url) as db:
        return published_changes(db, actor, account_id)


VERDICT_TEXT = {"improved": ":green-badge[Improved]", "worse": ":red-badge[Worse]",
                "no_clear_change": ":gray-badge[No clear change]", "too_early": ":blue-badge[Too early]"}


def _published_changes(changes: tuple[ImpactChange, ...], account_slug: str) -> None:
    """The latest versions with their verdicts, each linking to its flow's page."""
    st.subheader("Published changes", anchor=False)
    if not changes:
        st.caption("No flow has a new version yet: when one is published, whether it helped shows here.")
        return
    st.caption("The latest flow versions, each against the one before over 30 days on each side.")
    for c in changes:
        was = f"v{c.previous_version} → v{c.version}" if c.previous_version else f"new flow v{c.version}"
        left, right = st.columns([3, 2], vertical_alignment="center")
        with left:
            st.page_link(page_links.link_to(page_links.FLOWS), label=md_escape(f"{c.flow_name} ({was})", limit=120),
                         icon=":material/account_tree:", query_params={"flow": str(c.flow_pk), "account": account_slug})
        right.markdown(f"{VERDICT_TEXT[c.verdict]} published {c.published_at:%d %b %Y}")


def _card(column, label: str, value: str, change: float | None, change_text: str | None, colour: str,
          help_text: str) -> None:
    # A string delta gets its arrow and colour from its first character, so "+0" would show
    # a coloured up arrow; no change (or nothing to compare with) is grey and has no arrow.
    unchanged = change is None or change == 0
    # label and help_text are the code's own words (the cards below).
    column.metric(trusted(label), value, change_text, help=trusted(help_text), border=True,
                  delta_color="off" if unchanged else colour, delta_arrow="off" if unchanged else "auto")


def _metrics(h: Headline) -> None:
    before = h.previous
    compare = h.comparison
    points = None
    if h.resolution_rate is not None and before.resolution_rate is not None:
        points = round((h.resolution_rate - before.resolution_rate) * 100, 1) + 0.0  # no "-0.0"

    def card(column, label: str, value: str, change, change_text: str | None, colour: str, help_text: str) -> None:
        # Against a previous period the data does not reach there is no change; a thin one is greyed.
        _card(column, label, value, change if compare.covered else None, compare.change(change_text),
              compare.colour(colour), help_text)

    # Two rows of three: six cards in one row leave too little room for "100.0%" on a laptop.
    top, bottom = st.columns(3), st.columns(3)
    card(top[0], "Sessions", f"{h.sessions:,}", h.sessions - before.sessions,
         f"{h.sessions - before.sessions:+,}", "off", "Sessions started in the period.")
    card(top[1], "Resolved", f"{h.resolved:,}", h.resolved - before.resolved,
         f"{h.resolved - before.resolved:+,}", "normal", "Of those, resolved with the copilot.")
    card(top[2], "Resolution rate", percent(h.resolution_rate), points,
         "none before" if points is None else f"{points:+.1f} pp", "normal",
         "Resolved, of the sessions with an outcome (resolved, escalated or abandoned): the same figure "
         "as on Analytics; the change is in percentage points.")
    card(bottom[0], "Escalated", f"{h.escalated:,}", h.escalated - before.escalated,
         f"{h.escalated - before.escalated:+,}", "inverse",
         "Escalated, or waiting for an escalation to be accepted.")
    card(bottom[1], "Abandoned", f"{h.abandoned:,}", h.abandoned - before.abandoned,
         f"{h.abandoned - before.abandoned:+,}", "inverse", "Given up without a resolution or escalation.")
    # Sessions of the previous period have had a whole period to end: comparing the ones still
    # active with them says nothing, so this card shows no change.
    _card(bottom[2], "Still active", f"{h.active:,}", None, None, "off", "Started in the period and not ended yet.")
    if compare.sentence():
        st.caption(trusted(compare.sentence()))


def home() -> None:
    st.title("FlowPilot Insights")
    actor, account = resources.require("home")
    # Our own sentences, chosen by the role's permissions.
    st.markdown(trusted(about(lambda permission: actor.may(account.id, permission))))
    headline = _headline(resources.database_url(), actor, account.id, PERIOD_DAYS)
    st.subheader(f"{md_escape(account.name)}: last {headline.days:d} days", anchor=False)
    st.caption(
        f"Sessions started since {headline.start:%d %b %Y %H:%M} UTC, compared with the "
        f"{headline.days:d} days before ({headline.previous_start:%d %b} – {headline.start:%d %b %Y})."
    )
    if headline.sessions == 0:
        earlier = (f" ({headline.previous.sessions:,} in the {headline.days:d} days before)"
                   if headline.previous.sessions else "")
        st.info(f"**This account has no sessions in the last {headline.days:d} days**{earlier}.\n\n{LOAD_DATA}",
                icon=":material/inbox:")
        # Proposals wait whatever the period holds; gaps and changes need its sessions.
        if actor.may(account.id, "view_queue"):
            home_lists.waiting_section(home_lists.waiting(actor, account), account)
        return
    _metrics(headline)
    home_lists.day_lists(actor, account)
    if actor.may(account.id, "analytics"):
        _published_changes(_changes(resources.database_url(), actor, account.id), account.slug)
        chart_loading.load_ahead()  # Analytics is likely next: its charts then draw sooner
