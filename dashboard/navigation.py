"""Which pages exist and which permission opens each: the navigation shows a role only its pages.

A new page is one more ``PageSpec`` here, naming a permission from ``core.accounts.auth.PERMISSIONS``
(analytics, knowledge_gaps and exports already exist for the pages to come).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core.accounts.auth import Actor
from dashboard import page_links as address
from dashboard.page_links import PageAddress
from dashboard.text import md_escape
from pages.activity import activity_page
from pages.analytics import analytics_page
from pages.exports import exports_page
from pages.flows import flows_page
from pages.home import home
from pages.knowledge_gaps import knowledge_gaps_page
from pages.review_queue import review_queue_page
from pages.scripts import scripts_page


@dataclass(frozen=True)
class PageSpec:
    render: Callable[[], None]
    address: PageAddress

    @property
    def title(self) -> str:
        return self.address.title

    @property
    def icon(self) -> str:
        return self.address.icon

    @property
    def url_path(self) -> str:
        return self.address.url_path

    @property
    def permission(self) -> str:
        return self.address.permission


PAGES: tuple[PageSpec, ...] = (
    PageSpec(home, address.HOME),
    PageSpec(review_queue_page, address.REVIEW_QUEUE),
    PageSpec(flows_page, address.FLOWS),
    PageSpec(knowledge_gaps_page, address.KNOWLEDGE_GAPS),
    PageSpec(analytics_page, address.ANALYTICS),
    PageSpec(exports_page, address.EXPORTS),
    PageSpec(scripts_page, address.SCRIPTS),
    PageSpec(activity_page, address.ACTIVITY),
)


def _pages(specs: list[PageSpec]) -> list[st.Page]:
    return [st.Page(spec.render, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=index == 0)
            for index, spec in enumerate(specs)]


# Marks the hidden stand-ins of pages a role may not open (tests tell the menu's pages by it).
REFUSED_HELP = "Not available to your role in this account."


def _refusal(spec: PageSpec, role: str | None) -> Callable[[], None]:
    def refused() -> None:
        # Filters and ids in the link belong to the page that is not shown: drop them.
        for name in [n for n in st.query_params if n != "account"]:
            del st.query_params[name]
        who = f"{md_escape(role)}s" if role else "your role"
        st.warning(f"{md_escape(spec.title)} is not available to {who} in this account. "
                   "Choose a page in the menu.", icon=":material/block:")
    return refused


def pages_for(actor: Actor, account_id: int) -> list[st.Page]:
    """The pages the actor's role in the account may open, in menu order; every other page stays
    registered, hidden, as a notice that says it is not available (a link to it must not land
    silently on Home). The notice never runs the page: each page checks the role again anyway."""
    role = actor.role_in(account_id)
    allowed = [spec for spec in PAGES if actor.may(account_id, spec.permission)]
    refused = [st.Page(_refusal(spec, role), title=spec.title, icon=spec.icon, url_path=spec.url_path,
                       visibility="hidden", help=REFUSED_HELP)
               for spec in PAGES if spec not in allowed]
    return _pages(allowed) + refused


def all_pages() -> list[st.Page]:
    """Every page, for the signed-out navigation: it only keeps the address, it never runs them."""
    return _pages(list(PAGES))
