"""AppTest helpers: point the app at a database, sign in, open a page by its URL path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.settings import get_settings
from tests import factories as make
from tests.ui.streamlit_internals import open_page, registered_pages

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings():
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The sign-in throttle lives as long as the server process: here, the whole test run."""
    from dashboard.signed_in import throttle

    throttle.clear()
    yield
    throttle.clear()


def plain(markdown: str) -> str:
    """Escaped Markdown (dashboard.text.md_escape) as the reader sees it: no backslashes, no joiners."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def no_exception(app: AppTest) -> AppTest:
    assert not app.exception, [e.message for e in app.exception]
    return app


def open_app(**query: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update(query)
    return no_exception(app.run())


def sign_in(app: AppTest, email: str, password: str = make.PASSWORD) -> AppTest:
    email_box, password_box = app.text_input[0], app.text_input[1]
    email_box.input(email)
    password_box.input(password)
    app.button[0].click()
    return no_exception(app.run())


def signed_in_app(email: str, **query: str) -> AppTest:
    return sign_in(open_app(**query), email)


def go_to(app: AppTest, url_path: str) -> AppTest:
    """Open a page by its url path, as a link does."""
    open_page(app, url_path)
    return no_exception(app.run())


def navigation_titles(app: AppTest) -> list[str]:
    """The titles of the pages the sidebar navigation offers (not the hidden "not available" notices)."""
    from dashboard.navigation import REFUSED_HELP

    return [info.get("page_name") for info in registered_pages(app) if info.get("help") != REFUSED_HELP]
