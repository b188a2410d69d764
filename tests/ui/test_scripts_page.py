"""The Script generator page, its link from the review panel and the tree editor's script node (AppTest)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from core.db import make_engine, unit_of_work, upgrade
from core.flows.trees import tree_problems
from core.models import Flow, FlowVersion
from core.scripts import load_library, render
from dashboard.script_picker import insert_script_node
from tests import factories as make
from tests.ui.conftest import go_to, navigation_titles, no_exception, signed_in_app, use_database
from tests.ui.streamlit_internals import captions_of, label_of, link_of

MALFORMED = """\
templates:
  - id: broken-one
    title: Quoted by hand
    language: bash
    domain: server
    risk: read_only
    explanation: Wrong on purpose.
    parameters: [{name: host, type: hostname}]
    body: |
      ping '{{host}}'
  - id: broken-two
    title: Unknown risk
    language: powershell
    domain: server
    risk: harmless
    explanation: Wrong on purpose.
    body: |
      Get-Date
"""


@dataclass
class Seeded:
    url: str
    session: str  # a printing session of alpha-it, by its id as imported
    foreign_session: str  # beta-net's
    proposal: int
    flow_proposal: int


@pytest.fixture
def seeded(tmp_path, monkeypatch) -> Seeded:
    url = f"sqlite:///{tmp_path / 'scripts.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        alpha, beta = make.two_accounts_with_a_user_per_role(db)
        ours = make.session(db, alpha, summary="Printer offline, print jobs stuck in the queue")
        theirs = make.session(db, beta, summary="Beta only: VPN drops")
        printer = make.flow(db, alpha, "printer-offline")
        proposal = make.proposal(db, alpha, title="Printer jobs stuck", sessions=[ours])
        enhancement = make.proposal(db, alpha, proposal_type="enhancement", title="Printer offline for one user",
                                    tree=make.enhanced_tree(), target=printer, sessions=[ours])
        ids = Seeded(url, ours.external_id, theirs.external_id, proposal.id, enhancement.id)
    engine.dispose()
    use_database(monkeypatch, url)
    extra = tmp_path / "extra-templates"
    extra.mkdir()
    (extra / "broken.yaml").write_text(MALFORMED)
    monkeypatch.setenv("SCRIPT_LIBRARY_DIR", str(extra))
    from dashboard import script_picker
    script_picker._library.clear()
    script_picker._ranked.clear()
    return ids


def scripts_app(email: str, **query: str):
    return go_to(signed_in_app(email, **query), "scripts")


def button(app, label: str):
    [found] = [b for b in app.button if b.label == label]
    return found


def segmented(app, label: str):
    [found] = [g for g in app.get("button_group") if g.label == label]
    return found


def describe(app, text: str):
    app.text_area(key="sg_text").input(text)
    return no_exception(app.run())


def browse_to(app, domain: str, template_id: str):
    segmented(app, "Choose from").set_value("Whole library")
    app = no_exception(app.run())
    app.selectbox(key="sg_browse_domain").set_value(domain)
    app = no_exception(app.run())
    [chooser] = [s for s in app.selectbox if s.label.startswith("Template (")]
    chooser.set_value(template_id)
    return no_exception(app.run())


def code(app) -> str:
    assert len(app.code) == 1, "exactly one script is shown"
    return app.code[0].value


def markdown_text(app) -> str:
    return "\n".join(m.value for m in app.markdown)


# --- who sees the page -------------------------------------------------------------------------

@pytest.mark.parametrize("email, listed", [("admin@alpha.example", True), ("manager@alpha.example", True),
                                           ("analyst@alpha.example", False)])
def test_the_page_is_listed_for_admins_and_managers_only(seeded, email, listed):
    assert ("Script generator" in navigation_titles(signed_in_app(email))) is listed


def test_an_analyst_who_opens_the_page_is_refused(seeded):
    app = scripts_app("analyst@alpha.example")
    assert "Script generator is not available to analysts" in app.warning[0].value.replace("\\", "")
    assert not app.title
    assert not app.code and not app.text_area and not app.radio


def test_the_core_refuses_an_analyst_the_session_read(seeded):
    from core.accounts.auth import NotAllowed, actor_for_email
    from core.scripts.sessions import session_for_scripts

    engine = make_engine(seeded.url)
    with unit_of_work(engine) as db:
        analyst = actor_for_email(db, "analyst@alpha.example")
        manager = actor_for_email(db, "manager@alpha.example")
        account_id = manager.accounts[0].account_id
        with pytest.raises(NotAllowed, match="may not generate scripts"):
            session_for_scripts(db, analyst, account_id, seeded.session)
        found = session_for_scripts(db, manager, account_id, seeded.session)
        assert found.problem_domain == "printing" and len(found.steps) == 2
        assert session_for_scripts(db, manager, account_id, seeded.foreign_session) is None
    engine.dispose()


@pytest.mark.parametrize("email", ["admin@alpha.example", "manager@alpha.example"])
def test_the_page_renders_and_says_nothing_runs(seeded, email):
    app = scripts_app(email)
    assert [t.value for t in app.title] == ["Script generator"]
    assert "Nothing runs from the dashboard" in app.caption[0].value or any(
        "Nothing runs from the dashboard" in c.value for c in app.caption)
    assert any("Describe the problem" in i.value for i in app.info)


def test_library_problems_are_listed_for_admins_only(seeded):
    admin = scripts_app("admin@alpha.example")
    [problems] = [e for e in admin.expander if "could not be loaded" in e.label]
    assert problems.label.startswith("2 templates could not be loaded")
    table = admin.dataframe[0].value
    assert set(table["template"]) == {"broken-one", "broken-two"}
    assert set(table["field"]) >= {"body", "risk"}
    manager = scripts_app("manager@alpha.example")
    assert not [e for e in manager.expander if "could not be loaded" in e.label]


# --- description -> ranked templates -> script -------------------------------------------------

def test_a_description_ranks_templates_and_generates_the_script(seeded):
    app = describe(scripts_app("manager@alpha.example"), "printer offline jobs stuck")
    [matches] = app.radio
    assert matches.options[0].startswith("**Clear the print queue and restart the Print Spooler**")
    assert "score 0.3" in matches.options[0]
    assert matches.value == "clear-print-queue"  # the best match is preselected
    button(app, "Generate script").click()
    app = no_exception(app.run())
    script = code(app)
    assert "Stop-Service -Name Spooler -Force" in script and script.startswith("# Clear the print queue")
    assert app.code[0].language == "powershell"
    assert ":red-badge[:material/warning: Disruptive: restarts services / deletes files]" in markdown_text(app)
    [download] = app.get("download_button")
    assert label_of(download) == "Download clear-print-queue.ps1"
    assert any("never runs scripts" in c.value for c in app.caption)


def test_risk_badges_and_bash_highlighting(seeded):
    app = browse_to(scripts_app("admin@alpha.example"), "networking", "test-port-bash")
    app.text_input(key="sg_params_test-port-bash_target").input("mail.example.com")
    button(app, "Generate script").click()
    app = no_exception(app.run())
    assert app.code[0].language == "bash"
    assert "TARGET='mail.example.com'\nPORT=443" in code(app)
    assert ":green-badge[:material/visibility: Read-only]" in markdown_text(app)


# --- hostile values ----------------------------------------------------------------------------

@pytest.mark.parametrize("domain, template_id, field, hostile, expected_line", [
    ("server", "linux-disk-usage", "path", "$(rm -rf /)", "TARGET_DIR='$(rm -rf /)'"),
    ("server", "linux-disk-usage", "path", "x'; rm -rf / #", "TARGET_DIR='x'\"'\"'; rm -rf / #'"),
    ("endpoint", "windows-event-log-export", "output", "$(Remove-Item C:\\ -Recurse)",
     "$Output = '$(Remove-Item C:\\ -Recurse)'"),
    ("endpoint", "windows-event-log-export", "output", "x'; Remove-Item C:\\ -Recurse #",
     "$Output = 'x''; Remove-Item C:\\ -Recurse #'"),
    ("endpoint", "windows-event-log-export", "output", "x\u2019; Remove-Item C:\\ #",
     "$Output = 'x\u2019\u2019; Remove-Item C:\\ #'"),
])
def test_a_hostile_value_is_shown_only_as_a_quoted_literal(seeded, domain, template_id, field, hostile,
                                                           expected_line):
    app = browse_to(scripts_app("admin@alpha.example"), domain, template_id)
    app.text_input(key=f"sg_params_{template_id}_{field}").input(hostile)
    button(app, "Generate script").click()
    app = no_exception(app.run())
    script = code(app)
    assert expected_line in script.splitlines()
    # The value appears nowhere else: every occurrence of its dangerous part is that one literal.
    danger = "rm -rf /" if "rm" in hostile else "Remove-Item C:\\"
    assert script.count(danger) == 1
    assert script == render(load_library("").get(template_id), {field: hostile, **(
        {"hours": 24} if template_id == "windows-event-log-export" else {})}).body.rstrip("\n")


def test_a_control_character_is_refused_under_its_field(seeded):
    app = browse_to(scripts_app("admin@alpha.example"), "server", "linux-disk-usage")
    app.text_input(key="sg_params_linux-disk-usage_path").input("/srv\u2028reboot")
    button(app, "Generate script").click()
    app = no_exception(app.run())
    assert not app.code
    assert any("must not contain control characters" in e.value for e in app.error)


def test_an_invalid_port_shows_an_error_not_a_traceback(seeded):
    app = browse_to(scripts_app("manager@alpha.example"), "networking", "test-port-bash")
    app.text_input(key="sg_params_test-port-bash_target").input("mail.example.com")
    app.number_input(key="sg_params_test-port-bash_port").set_value(70000)
    button(app, "Generate script").click()
    app = no_exception(app.run())
    assert not app.code and not app.get("download_button")
    errors = [e.value for e in app.error]
    assert any("TCP port must be a port number from 1 to 65535" in e for e in errors), errors
    assert any("1 value must be corrected" in e for e in errors)


def test_a_refused_value_clears_the_script_shown_before(seeded):
    app = browse_to(scripts_app("manager@alpha.example"), "networking", "test-port-bash")
    app.text_input(key="sg_params_test-port-bash_target").input("mail.example.com")
    button(app, "Generate script").click()
    app = no_exception(app.run())
    assert app.code
    app.text_input(key="sg_params_test-port-bash_target").input("bad host; reboot")
    button(app, "Generate script").click()
    app = no_exception(app.run())
    assert not app.code
    assert any("must be a host name" in e.value for e in app.error)


# --- a session ---------------------------------------------------------------------------------

def test_a_session_link_preselects_the_session(seeded):
    app = scripts_app("manager@alpha.example", session=seeded.session)
    assert segmented(app, "Find templates for").value == "A session"
    assert app.text_input(key="sg_session").value == seeded.session
    assert "Printer offline, print jobs stuck in the queue" in markdown_text(app).replace("\\", "")
    [matches] = app.radio
    assert matches.value in {"clear-print-queue", "list-printers-and-jobs"}
    assert "domain\\: printing" in captions_of(matches)[0]  # the session's domain counted
    assert app.query_params["session"] == seeded.session


def test_another_accounts_session_is_not_found(seeded):
    app = scripts_app("admin@alpha.example", session=seeded.foreign_session)
    assert not app.radio
    assert any("There is no session" in w.value for w in app.warning)
    assert "Beta only" not in markdown_text(app)


def test_the_review_panel_links_each_session_to_the_script_page(seeded):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.proposal)), "review-queue")
    [link] = app.get("page_link")
    assert link_of(link) == ("Script for this session", "scripts", {"session": [seeded.session]})


# --- the tree editor ---------------------------------------------------------------------------

def test_inserting_a_script_node_yields_a_valid_tree():
    library = load_library("")
    rendered = render(library.get("test-printer-network"), {"printer": "10.0.0.40"})
    tree = insert_script_node(make.TREE, rendered, after="a1", leads_to="r1", node_id="script-printer")
    assert tree_problems(tree) == []
    assert tree["nodes"]["a1"]["next"] == "script-printer"
    node = tree["nodes"]["script-printer"]
    assert node["type"] == "script" and node["next"] == "r1"
    assert "$Printer = '10.0.0.40'" in node["script"]["body"]
    assert make.TREE["nodes"]["a1"]["next"] == "r1"  # the original is left alone


def test_the_tree_editor_inserts_a_script_node_and_publishes_it(seeded):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.flow_proposal)), "review-queue")
    app.button(key=f"rq_edit_{seeded.flow_proposal}").click()
    app = no_exception(app.run())
    key = f"rq_tree_{seeded.flow_proposal}_1"
    app.selectbox(key=f"{key}_sp_domain").set_value("printing")
    app = no_exception(app.run())
    [chooser] = [s for s in app.selectbox if s.label.startswith("Template (")]
    chooser.set_value("test-printer-network")
    app = no_exception(app.run())
    app.selectbox(key=f"{key}_sp_after").set_value("a2")
    app = no_exception(app.run())
    assert app.selectbox(key=f"{key}_sp_next_a2").value == "r1"  # what a2 led to
    app.text_input(key=f"{key}_sp_test-printer-network_printer").input("printer; reboot")
    button(app, "Insert script node").click()
    app = no_exception(app.run())
    assert any("must be a host name" in e.value for e in app.error)  # refused, nothing inserted
    assert "script-test-printer-network" not in app.session_state[key]["draft"]["nodes"]
    app.text_input(key=f"{key}_sp_test-printer-network_printer").input("10.0.0.40")
    button(app, "Insert script node").click()
    app = no_exception(app.run())
    draft = app.session_state[key]["draft"]
    assert draft["nodes"]["a2"]["next"] == "script-test-printer-network"
    assert draft["nodes"]["script-test-printer-network"]["next"] == "r1"
    assert any("The tree is valid" in s.value for s in app.success)
    assert any("Inserted script node" in s.value for s in app.success)
    app.selectbox(key=f"{key}_sp_after").set_value("a2")  # the choice starts afresh from the new tree
    app = no_exception(app.run())
    assert app.selectbox(key=f"{key}_sp_next_a2").value == "script-test-printer-network"
    app.button(key=f"rq_publish_{seeded.flow_proposal}").click()
    app = no_exception(app.run())
    engine = make_engine(seeded.url)
    with unit_of_work(engine) as db:
        tree = db.scalar(select(FlowVersion.tree).join(Flow).where(Flow.external_id == "printer-offline",
                                                                   FlowVersion.version == 2))
    engine.dispose()
    node = tree["nodes"]["script-test-printer-network"]
    assert node["script"]["language"] == "powershell"
    assert re.search(r"^\$Printer = '10\.0\.0\.40'$", node["script"]["body"], re.M)


def test_weak_matches_are_flagged_and_strong_ones_are_not(seeded):
    app = describe(scripts_app("manager@alpha.example"), "guests asked to verify every time")
    assert any("Weak matches (best score 0.14)" in c.value for c in app.caption)
    app = describe(app, "printer offline jobs stuck")
    assert not any("Weak matches" in c.value for c in app.caption)
