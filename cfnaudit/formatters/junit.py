"""JUnit XML, for CI systems that show test reports (GitLab's merge-request test summary,
Jenkins, Azure DevOps, CircleCI).

One test suite per file. Each active finding is a failed test case (a decode, template or
internal error is an `<error>`); a suppressed finding is a skipped test case carrying the reason;
a file without findings is one passing test case, so the report counts every file checked.
Test case names are stable (code, resource, line) so CI history can follow them.
"""

from __future__ import annotations

from itertools import groupby
from xml.etree import ElementTree as ET

from cfnaudit.api import Report
from cfnaudit.engine import Finding


def _case(suite: ET.Element, file: str, finding: Finding) -> str:
    """Adds the test case for `finding`; returns its kind (failure, error or skipped)."""
    loc = finding.location
    where = f" `{finding.resource}`" if finding.resource else ""
    case = ET.SubElement(suite, "testcase", {
        "classname": file,
        "name": f"{finding.code} {finding.name}{where} line {loc.line}",
        "file": file, "line": str(loc.line),
    })
    text = f"{file}:{loc.line}:{loc.column}: {finding.code} {finding.message}"
    if finding.suppressed is not None:
        ET.SubElement(case, "skipped", {"message": f"suppressed: {finding.suppressed}"})
        return "skipped"
    kind = "error" if finding.is_error else "failure"
    node = ET.SubElement(case, kind, {"message": finding.message,
                                      "type": f"{finding.severity.value}:{finding.category}"})
    node.text = text
    return kind


def build(report: Report) -> ET.Element:
    root = ET.Element("testsuites", {"name": "cfnaudit"})
    by_file = {f: list(group) for f, group in groupby(report.findings, key=lambda f: f.file)}
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for outcome in report.files:
        if outcome.status == "skipped":
            continue
        findings = by_file.get(outcome.file, [])
        suite = ET.SubElement(root, "testsuite", {"name": outcome.file})
        counts = dict.fromkeys(("failures", "errors", "skipped"), 0)
        for finding in findings:
            kind = _case(suite, outcome.file, finding)
            counts["failures" if kind == "failure" else
                   "errors" if kind == "error" else "skipped"] += 1
        if not findings:
            ET.SubElement(suite, "testcase", {"classname": outcome.file,
                                              "name": "no findings", "file": outcome.file})
        tests = max(1, len(findings))
        suite.attrib.update({"tests": str(tests), **{k: str(v) for k, v in counts.items()}})
        totals["tests"] += tests
        for key, value in counts.items():
            totals[key] += value
    root.attrib.update({k: str(v) for k, v in totals.items()})
    return root


def render(report: Report) -> str:
    root = build(report)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
        root, encoding="unicode") + "\n"
