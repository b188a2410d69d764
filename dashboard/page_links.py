"""Every page's address (title, icon, url path, the permission that opens it), and links to them.

Streamlit finds a page by the hash of its url path, so a link needs the address, not the page's
function. This module imports no page: pages and panels link to each other through it, and only
the navigation, which pairs each address with its page function, imports the pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class PageAddress:
    title: str
    icon: str
    url_path: str
    permission: str


HOME = PageAddress("Home", ":material/home:", "home", "home")
REVIEW_QUEUE = PageAddress("Review queue", ":material/rule:", "review-queue", "view_queue")
FLOWS = PageAddress("Flows", ":material/account_tree:", "flows", "view_flows")
KNOWLEDGE_GAPS = PageAddress("Knowledge gaps", ":material/troubleshoot:", "knowledge-gaps", "knowledge_gaps")
ANALYTICS = PageAddress("Analytics", ":material/monitoring:", "analytics", "analytics")
EXPORTS = PageAddress("Exports", ":material/download:", "exports", "exports")
SCRIPTS = PageAddress("Script generator", ":material/terminal:", "scripts", "scripts")
ACTIVITY = PageAddress("Activity", ":material/history:", "activity", "view_activity")


def _never_runs() -> None:
    """A link's page is only an address: the navigation's page of the same url path runs."""


def link_to(address: PageAddress) -> st.Page:
    """The page to pass to ``st.page_link`` or ``st.switch_page``."""
    return st.Page(_never_runs, title=address.title, icon=address.icon, url_path=address.url_path)
