"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

One run per invocation. `tool.driver.rules` holds every rule that ran plus the engine rules
(CFA001-CFA006), so every result's `ruleId`/`ruleIndex` resolves. Artifact URIs are relative to
the working directory (run cfnaudit from the repository root) with `uriBaseId: "%SRCROOT%"`;
files outside it get absolute `file://` URIs. Columns count Unicode code points.

Fingerprints: `partialFingerprints["cfnaudit/v1"]` carries the finding's fingerprint (rule,
file, resource, property path; never the line), stable when lines move. We deliberately do not
fill `primaryLocationLineHash`: GitHub's upload action computes it from the file and warns about
any value it did not compute itself.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cfnaudit import __version__
from cfnaudit.api import Report
from cfnaudit.engine import ENGINE_RULES, Finding
from cfnaudit.formatters import PROJECT_URL, rule_help_uri
from cfnaudit.rule import Rule, Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "cfnaudit/v1"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub ranks security alerts by this score: over 9 critical, 7-8.9 high, 4-6.9 medium, else low.
SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.5", Severity.INFO: "3.0"}
SUPPRESSION_KIND = {"metadata": "inSource", "comment": "inSource", "config": "external",
                    "baseline": "external"}
DESCRIPTION_LIMIT = 1024  # GitHub rejects longer short/full descriptions


def _section(docs: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", docs, re.S | re.M)
    return " ".join(match.group(1).split()) if match else ""


def _clip(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[:DESCRIPTION_LIMIT - 1] + "…"


def rule_descriptor(item: Rule) -> dict[str, Any]:
    summary = item.summary or item.name
    docs = item.docs.strip() or summary
    tags = [item.category, *(["security"] if item.security else [])]
    properties: dict[str, Any] = {"tags": tags}
    if item.security:
        properties["security-severity"] = SECURITY_SEVERITY[item.severity]
    return {
        "id": item.code,
        "name": item.name,
        "shortDescription": {"text": _clip(summary)},
        "fullDescription": {"text": _clip(_section(docs, "What it does") or summary)},
        "help": {"text": docs, "markdown": docs},
        "helpUri": rule_help_uri(item.code),
        "defaultConfiguration": {"level": LEVEL[item.severity]},
        "properties": properties,
    }


def driver_rules(report: Report) -> list[Rule]:
    """Rules that ran and the engine rules, by code, each once (and, defensively, a bare
    descriptor for any finding whose rule the report does not list)."""
    by_code = {r.code: r for r in (*report.rules, *ENGINE_RULES)}
    for finding in report.findings:
        if finding.code not in by_code:
            by_code[finding.code] = Rule(finding.code, finding.name, finding.severity,
                                         finding.category, "", None)
    return [by_code[code] for code in sorted(by_code)]


def artifact_location(file: str) -> dict[str, str]:
    path = Path(file)
    if not path.is_absolute() and not file.startswith("../") and file != "..":
        return {"uri": quote(path.as_posix(), safe="/"), "uriBaseId": SRCROOT}
    return {"uri": Path(os.path.abspath(path)).as_uri()}


def _logical_name(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def result(finding: Finding, index: int, with_baseline: bool) -> dict[str, Any]:
    loc = finding.location
    location: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": artifact_location(finding.file),
        "region": {"startLine": loc.line, "startColumn": loc.column,
                   "endLine": loc.end_line, "endColumn": loc.end_column},
    }}
    if finding.resource is not None:
        location["logicalLocations"] = [{"name": finding.resource, "kind": "resource",
                                         "fullyQualifiedName": _logical_name(finding.path)}]
    entry: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {"category": finding.category},
    }
    if finding.suppressed is not None:
        entry["suppressions"] = [{
            "kind": SUPPRESSION_KIND.get(finding.suppressed_by, "inSource"),
            "status": "accepted",
            "justification": finding.suppressed,
        }]
    if with_baseline:
        entry["baselineState"] = "unchanged" if finding.suppressed_by == "baseline" else "new"
    return entry


def build(report: Report, category: str = "cfnaudit") -> dict[str, Any]:
    rules = driver_rules(report)
    index = {r.code: i for i, r in enumerate(rules)}
    with_baseline = report.baseline is not None
    root = Path.cwd().as_uri().rstrip("/") + "/"
    run = {
        "tool": {"driver": {
            "name": "cfnaudit",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": PROJECT_URL,
            "rules": [rule_descriptor(r) for r in rules],
        }},
        "automationDetails": {"id": f"{category}/"},
        "originalUriBaseIds": {SRCROOT: {"uri": root}},
        "columnKind": "unicodeCodePoints",
        "results": [result(f, index[f.code], with_baseline) for f in report.findings],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, category: str = "cfnaudit") -> str:
    return json.dumps(build(report, category), indent=2, ensure_ascii=False) + "\n"
