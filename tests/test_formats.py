"""CI formats other than SARIF: GitHub annotations, GitLab Code Quality, JUnit XML, and what
JSON and text gained (suppression source, baseline)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from cfnaudit.api import Config, Report, audit
from cfnaudit.formatters import github, gitlab, json_format, junit, text

TWO_KEYS = """\
Resources:
  Open:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
  Waived:  # cfnaudit: ignore KMS001 imported key material cannot rotate
    Type: AWS::KMS::Key
"""
CLEAN = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties: {EnableKeyRotation: true}\n"


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Report:
    monkeypatch.chdir(tmp_path)
    Path("keys.yaml").write_text(TWO_KEYS)
    Path("clean.yaml").write_text(CLEAN)
    Path("broken.yaml").write_text("Resources: [\n")
    Path("workflow.yml").write_text("on: push\n")
    return audit([Path(".")], Config(select=("KMS001",)))


def test_github_annotations_escape_what_github_requires(report: Report) -> None:
    open_key = next(f for f in report.active if f.resource == "Open")
    tricky = replace(open_key, file="dir,a:b/k%s.yaml", message="line one\nline two 100%\r")
    lines = github.render(replace(report, findings=(tricky,))).splitlines()
    assert lines == [
        "::error file=dir%2Ca%3Ab/k%25s.yaml,line=5,col=7,endLine=5,endColumn=31,"
        "title=KMS001 kms-key-rotation::line one%0Aline two 100%25%0D"]


def test_github_annotations_skip_suppressed_findings(report: Report) -> None:
    lines = github.render(report).splitlines()
    assert len(lines) == len(report.active) == 2  # the open key and the broken file
    assert not any("Waived" in line for line in lines)
    assert any(line.startswith("::error file=broken.yaml,") for line in lines)


def test_gitlab_code_quality_shape(report: Report) -> None:
    issues = json.loads(gitlab.render(report))
    assert len(issues) == 2
    by_check = {i["check_name"]: i for i in issues}
    rotation = by_check["KMS001"]
    assert rotation["type"] == "issue"
    assert rotation["severity"] == "critical"
    assert rotation["categories"] == ["Security"]
    assert rotation["description"].startswith("KMS001 Key `Open`")
    assert rotation["location"] == {"path": "keys.yaml", "lines": {"begin": 5, "end": 5}}
    assert len(rotation["fingerprint"]) == 32
    assert by_check["CFA001"]["severity"] == "blocker"
    assert by_check["CFA001"]["location"]["path"] == "broken.yaml"


def test_gitlab_fingerprints_are_unique_even_for_scenario_variants(report: Report) -> None:
    open_key = next(f for f in report.active if f.resource == "Open")
    variant = replace(open_key, message=open_key.message + " when IsProd is false")
    issues = json.loads(gitlab.render(replace(report, findings=(open_key, variant))))
    assert len({i["fingerprint"] for i in issues}) == 2


def test_gitlab_categories_follow_the_failure_class(report: Report) -> None:
    finding = report.findings[0]
    assert gitlab.climate_category(replace(finding, category="naming"), False) == "Style"
    assert gitlab.climate_category(replace(finding, category="glue-tuning"), False) \
        == "Performance"
    assert gitlab.climate_category(replace(finding, category="alarm-coverage"), False) \
        == "Bug Risk"


def test_junit_counts_files_failures_errors_and_skips(report: Report) -> None:
    root = ET.fromstring(junit.render(report))
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"broken.yaml", "clean.yaml", "keys.yaml"}  # not the workflow
    keys = suites["keys.yaml"]
    assert (keys.get("tests"), keys.get("failures"), keys.get("errors"), keys.get("skipped")) \
        == ("2", "1", "0", "1")
    failed, skipped = keys.findall("testcase")
    assert failed.get("name") == "KMS001 kms-key-rotation `Open` line 5"
    failure = failed.find("failure")
    assert failure is not None and failure.get("type") == "error:kms-rotation"
    assert (failure.text or "").startswith("keys.yaml:5:7: KMS001 Key `Open`")
    skip = skipped.find("skipped")
    assert skip is not None
    assert skip.get("message") == "suppressed: imported key material cannot rotate"
    assert suites["broken.yaml"].find("testcase/error") is not None
    clean_cases = suites["clean.yaml"].findall("testcase")
    assert [c.get("name") for c in clean_cases] == ["no findings"]
    assert list(clean_cases[0]) == []  # a passing test case
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) \
        == ("4", "1", "1", "1")


def test_json_adds_the_suppression_source(report: Report) -> None:
    document = json.loads(json_format.render(report))
    by_resource = {f["resource"]: f for f in document["findings"]}
    assert by_resource["Waived"]["suppressed_by"] == "comment"
    assert by_resource["Waived"]["suppression_reason"] == "imported key material cannot rotate"
    assert by_resource["Open"]["suppressed_by"] is None
    assert "baseline" not in document


def test_text_lists_stale_baseline_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from cfnaudit import baseline

    monkeypatch.chdir(tmp_path)
    Path("keys.yaml").write_text(TWO_KEYS)
    first = audit([Path("keys.yaml")], Config(select=("KMS001",)))
    baseline.write(Path("base.json"), first.findings)
    Path("keys.yaml").write_text(TWO_KEYS.replace("false", "true"))
    second = audit([Path("keys.yaml")], Config(select=("KMS001",), baseline=Path("base.json")))
    output = text.render(second)
    assert "baseline base.json: 0 of 1 entries matched" in output
    assert "1 baseline entry no longer matches" in output
    assert "  keys.yaml  KMS001 `Open`  Key `Open` does not rotate" in output
    document = json.loads(json_format.render(second))
    assert document["baseline"]["matched"] == 0
    assert [e["resource"] for e in document["baseline"]["stale"]] == ["Open"]
