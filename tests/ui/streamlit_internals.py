"""Every use of Streamlit's internals by the AppTest tests, in one place.

Checked against Streamlit 1.67.0. AppTest has no public way to open a page that is a callable, to
list the navigation's pages, to read a download button's file, to press a form's submit button
by its label, or to read an element's label and link: each helper below says what it relies on,
so an upgrade that breaks one breaks it here.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash


def open_page(app: AppTest, url_path: str) -> None:
    """Point the next run at a page registered by url path (Streamlit identifies a callable page by
    the hash of that path; ``AppTest.switch_page`` only knows file pages)."""
    app._page_hash = calc_hash(url_path)


def registered_pages(app: AppTest) -> list[dict]:
    """The navigation's pages as the last run registered them (``page_name``, ``help``, ...)."""
    return list(app._registered_pages.values())


def form_submit(app: AppTest, form_key: str, label: str):
    """A form's submit button: Streamlit keys it ``FormSubmitter:<form>-<label>``."""
    return app.button(key=f"FormSubmitter:{form_key}-{label}")


def label_of(element) -> str:
    """The label of an element AppTest exposes no property for (download buttons, page links)."""
    return element.proto.label


def captions_of(element) -> list[str]:
    """A radio's option captions."""
    return list(element.proto.captions)


def link_of(element) -> tuple[str, str, dict[str, list[str]]]:
    """A page link's label, target url path and query parameters."""
    return element.proto.label, element.proto.page, parse_qs(element.proto.query_string)


def column_order(element) -> list[str]:
    """A dataframe's columns in the order shown (``column_order``), which AppTest does not expose."""
    return list(element.proto.column_order)


def spec_of(element) -> str:
    """A chart's specification as sent to the browser: Graphviz DOT, or Plotly and Vega-Lite JSON."""
    return element.proto.spec


def record_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The files handed to download buttons, by file name: AppTest keeps them in a media store it
    throws away after each run, so the store's ``load_and_get_id`` is wrapped to keep a copy."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, bytes):
            files[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    return files
