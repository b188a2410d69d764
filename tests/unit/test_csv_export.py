"""The formula-safe CSV writer: RFC 4180 output, dangerous text neutralised, numbers kept."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from core.csv_safe import csv_bytes, csv_chunks, safe_cell, write_csv


def written(header, rows) -> str:
    out = io.StringIO(newline="")
    write_csv(out, header, rows)
    return out.getvalue()


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("dangerous", ["=SUM(A1:A9)", "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "\0cmd",
                                       "=HYPERLINK(\"http://evil.example\",\"click\")", "-"])
def test_each_dangerous_prefix_is_neutralised_with_a_quote(dangerous):
    assert safe_cell(dangerous) == "'" + dangerous
    assert read_back(written(["note"], [[dangerous]]))[1] == ["'" + dangerous]


@pytest.mark.parametrize("harmless", ["plain", "a=b", "1+1", " =leading space", "email@example.test", ""])
def test_harmless_text_is_written_as_it_is(harmless):
    assert safe_cell(harmless) == harmless


def test_numbers_stay_numbers_even_when_negative():
    text = written(["n", "x", "d", "big"], [[-3, -0.25, Decimal("-1.5"), 10**15]])

    assert text.splitlines()[1] == "-3,-0.25,-1.5,1000000000000000"


def test_none_is_an_empty_cell_and_booleans_and_times_are_readable():
    when = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)

    assert read_back(written(["a", "b", "c", "d"], [[None, True, False, when]]))[1] == [
        "", "true", "false", "2026-06-01T12:00:00+00:00"]


def test_not_a_number_is_an_empty_cell():
    assert safe_cell(float("nan")) == "" and safe_cell(float("inf")) == ""


def test_quotes_commas_and_newlines_are_quoted_per_rfc_4180():
    text = written(["summary"], [['he said "reboot", then\nit worked'], ["a,b"]])

    assert text == 'summary\r\n"he said ""reboot"", then\nit worked"\r\n"a,b"\r\n'
    assert read_back(text)[1:] == [['he said "reboot", then\nit worked'], ["a,b"]]


def test_a_quoted_dangerous_cell_is_still_neutralised():
    text = written(["x"], [['=cmd|" /C calc"!A0']])

    assert read_back(text)[1] == ['\'=cmd|" /C calc"!A0']


def test_unicode_round_trips_as_utf8():
    data = csv_bytes(["name"], [["Zoë Ångström — 東京 🖨"]])

    assert data.decode("utf-8") == "name\r\nZoë Ångström — 東京 🖨\r\n"


def test_the_header_is_neutralised_too():
    assert written(["=bad"], []) == "'=bad\r\n"


def test_write_csv_counts_the_data_rows():
    assert write_csv(io.StringIO(), ["a"], ([i] for i in range(5))) == 5


def test_chunks_join_to_the_same_bytes_as_one_download():
    rows = [[i, f"row {i}", "=x"] for i in range(2500)]

    chunks = list(csv_chunks(["n", "text", "f"], iter(rows), rows_per_chunk=1000))
    assert len(chunks) == 3
    assert b"".join(chunks) == csv_bytes(["n", "text", "f"], rows)
    assert b"".join(chunks) == written(["n", "text", "f"], rows).encode("utf-8")


def test_chunks_pull_rows_lazily():
    pulled = []

    def rows():
        for i in range(10_000):
            pulled.append(i)
            yield [i]

    first = next(csv_chunks(["n"], rows(), rows_per_chunk=100))
    assert first.startswith(b"n\r\n0\r\n")
    assert len(pulled) < 200


def test_a_byte_order_mark_only_when_asked_for_excel():
    assert csv_bytes(["a"], [["é"]]).startswith(b"a")
    assert csv_bytes(["a"], [["é"]], bom=True) == "\ufeffa\r\né\r\n".encode("utf-8")
    assert written(["a"], []) == "a\r\n"
