"""A typed answer that means an offered option counts as picking it (``core.analysis.answers``),
so the analysis never proposes an answer the question already has."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from core.analysis.answers import matching_option
from core.analysis.classify import classify
from core.analysis.paths import PathStep, normal

OUTLOOK = ["Classic Outlook for Windows", "Outlook on the web", "Outlook mobile", "New Outlook for Windows"]
PRINTER_SCOPE = ["Everyone", "Only one user", "Only on the terminal server (RDS / Citrix)"]
DOCKS = ["Dell WD19 / WD22", "HP USB-C / Thunderbolt dock", "Lenovo ThinkPad dock"]


@pytest.mark.parametrize("typed", ["New Outlook", "The new Outlook for Windows", "Outlook (new), the toggle is on",
                                   "new outlook app", "The new one with the toggle in the corner"])
def test_every_way_engineers_type_new_outlook_picks_the_new_outlook_option(typed):
    assert matching_option(typed, OUTLOOK) == 3


def test_a_close_misspelling_picks_the_option_it_misspells():
    assert matching_option("Outlok on the web", OUTLOOK) == 1


def test_an_answer_several_options_could_mean_picks_none():
    assert matching_option("Outlook", OUTLOOK) is None
    # It holds "Everyone", but also what sets the terminal server option apart.
    assert matching_option("Everyone on the RDS host", PRINTER_SCOPE) is None


def test_a_negated_answer_never_picks_the_option_it_negates():
    assert matching_option("Not Outlook on the web", OUTLOOK) is None


def test_answers_the_question_lacks_stay_typed_answers():
    for typed in ("A generic USB-C hub", "cheap USB-C hub from Amazon", "Anker USB-C hub"):
        assert matching_option(typed, DOCKS) is None
    assert matching_option("GlobalProtect", ["FortiClient", "SonicWall NetExtender"]) is None
    assert matching_option("No idea", ["Yes", "No"]) is None


def test_a_shorter_answer_inside_an_option_picks_it():
    assert matching_option("Only on the terminal server", PRINTER_SCOPE) == 2
    assert matching_option("Lenovo dock", DOCKS) == 2


label_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


@given(st.lists(label_text, min_size=1, max_size=12), label_text)
def test_whatever_is_typed_the_match_is_an_offered_option_or_none(labels, typed):
    found = matching_option(typed, labels)
    assert found is None or 0 <= found < len(labels)


offered = st.text(alphabet="abcdefghij -", max_size=30).filter(lambda label: normal(label))


@given(st.lists(offered, min_size=1, max_size=8, unique_by=normal), st.data())
def test_an_option_typed_in_another_case_spacing_or_punctuation_picks_that_option(labels, data):
    index = data.draw(st.integers(0, len(labels) - 1))
    typed = "  " + labels[index].upper().replace(" ", " , ") + "!"
    assert matching_option(typed, labels) == index


def test_a_session_that_typed_an_offered_option_in_its_own_words_proposes_no_new_answer():
    tree = {"root": "q_client", "nodes": {
        "q_client": {"type": "question", "text": "Which Outlook is the user on?",
                     "options": [{"label": "Classic Outlook for Windows", "next": "r_ok"},
                                 {"label": "New Outlook for Windows", "next": "a_toggle"}]},
        "a_toggle": {"type": "action", "text": "Switch back to classic Outlook", "next": "r_ok"},
        "r_ok": {"type": "resolution", "text": "Mail is flowing again"},
    }}
    path = [PathStep("question", "q_client", "Which Outlook is the user on?", (), "new outlook app", True),
            PathStep("action", "a_toggle", "Switch back to classic Outlook", outcome="succeeded"),
            PathStep("resolution", "r_ok", "Mail is flowing again")]
    assert classify(path, tree, True, None).kind == "conforming"
