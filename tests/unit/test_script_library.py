"""The shipped script library loads cleanly, covers both shells and every risk, and renders."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from core.scripts import RISKS, load_library, render
from core.scripts.templates import SHIPPED_DIR

SAMPLE = {"string": "nginx", "hostname": "srv01.example.com", "username": "jdoe",
          "email": "jane.doe@example.com", "path": "/var/backups", "integer": "5", "port": "443"}


@pytest.fixture(scope="module")
def library():
    return load_library(extra_dir="")


def sample_values(template):
    return {p.name: SAMPLE[p.type] for p in template.parameters
            if p.required and p.default is None and p.type != "choice"}


def test_the_shipped_library_loads_with_zero_problems(library):
    assert [str(p) for p in library.problems] == []


def test_the_shipped_library_has_at_least_30_templates_in_both_languages(library):
    languages = Counter(t.language for t in library.templates)
    assert len(library.templates) >= 30
    assert languages["powershell"] >= 10 and languages["bash"] >= 10, languages


def test_the_shipped_library_has_every_risk_level(library):
    assert {t.risk for t in library.templates} == set(RISKS)


def test_the_issue_s_named_tasks_are_in_the_library(library):
    for template_id in ("clear-print-queue", "flush-dns-renew-dhcp", "reset-windows-update",
                        "rebuild-outlook-profile", "ad-unlock-account", "windows-disk-space",
                        "linux-disk-usage", "windows-event-log-export", "test-port-windows", "test-port-bash"):
        assert library.get(template_id).id == template_id


def test_an_unknown_id_raises_key_error_naming_it(library):
    with pytest.raises(KeyError, match="no-such-template"):
        library.get("no-such-template")


def test_every_disruptive_template_says_so_loudly(library):
    for template in library.templates:
        if template.risk == "disruptive":
            assert template.explanation.startswith("DISRUPTIVE:"), template.id


def test_every_template_has_tags_and_a_real_explanation(library):
    for template in library.templates:
        assert template.tags, template.id
        assert len(template.explanation) >= 120, template.id


def test_every_template_renders_with_sample_values(library):
    for template in library.templates:
        rendered = render(template, sample_values(template))
        assert "{{" not in rendered.body, template.id
        assert rendered.filename == template.id + (".ps1" if template.language == "powershell" else ".sh")
        assert f"risk: {template.risk_label}" in rendered.body


def test_every_rendered_bash_template_is_valid_bash_syntax(library, tmp_path):
    for template in library.templates:
        if template.language != "bash":
            continue
        script = tmp_path / f"{template.id}.sh"
        script.write_text(render(template, sample_values(template)).body)
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, (template.id, result.stderr)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_every_rendered_bash_template_passes_shellcheck_warnings(library, tmp_path):
    for template in library.templates:
        if template.language != "bash":
            continue
        script = tmp_path / f"{template.id}.sh"
        script.write_text(render(template, sample_values(template)).body)
        result = subprocess.run(["shellcheck", "-S", "warning", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, (template.id, result.stdout)


def test_the_clear_print_queue_template_does_what_it_says(library):
    body = library.get("clear-print-queue").body
    assert "Stop-Service -Name Spooler -Force" in body
    assert 'Remove-Item -Path "$env:SystemRoot\\System32\\spool\\PRINTERS\\*" -Force' in body
    assert "Start-Service -Name Spooler" in body


def test_the_windows_update_reset_stops_renames_and_starts_the_services(library):
    body = library.get("reset-windows-update").body
    assert "'wuauserv', 'cryptSvc', 'bits', 'msiserver'" in body
    assert "SoftwareDistribution" in body and "catroot2" in body
    assert body.index("Stop-Service") < body.index("Rename-Item") < body.index("Start-Service")


def test_the_lockout_source_reads_event_4740_on_the_pdc_emulator(library):
    for template_id in ("ad-unlock-account", "ad-lockout-source"):
        body = library.get(template_id).body
        assert "Id = 4740" in body and "PDCEmulator" in body


def test_an_admin_folder_adds_templates_beside_the_shipped_ones(tmp_path):
    (tmp_path / "custom.yaml").write_text(
        "id: custom-uptime\ntitle: Show uptime\nlanguage: bash\ndomain: server\nrisk: read_only\n"
        "explanation: Read-only. Shows how long the server has been up.\nbody: uptime\n")
    library = load_library(extra_dir=tmp_path)
    assert library.problems == ()
    assert library.get("custom-uptime").source == str(tmp_path / "custom.yaml")
    assert len(library.templates) == len(load_library(extra_dir="").templates) + 1


def test_the_admin_folder_comes_from_the_setting_when_not_given(tmp_path, monkeypatch):
    from core.settings import get_settings

    (tmp_path / "one.yml").write_text(
        "id: from-setting\ntitle: T\nlanguage: bash\ndomain: server\nrisk: read_only\n"
        "explanation: Read-only.\nbody: uptime\n")
    monkeypatch.setenv("SCRIPT_LIBRARY_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert load_library().get("from-setting").title == "T"
    finally:
        get_settings.cache_clear()


def test_the_library_readme_exists_beside_the_templates():
    assert (Path(SHIPPED_DIR) / "README.md").is_file()


def test_the_example_in_the_library_readme_is_a_valid_template(tmp_path):
    readme = (Path(SHIPPED_DIR) / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.yaml").write_text("templates:\n" + example.replace("id: test-port-bash", "id: readme-example"))
    library = load_library(extra_dir=tmp_path)
    assert library.problems == ()
    assert render(library.get("readme-example"), {"target": "srv01"}).body.endswith(
        "TARGET='srv01'\nPORT=443\nnc -z -w 5 \"$TARGET\" \"$PORT\" && echo \"open\" || echo \"closed\"\n")
