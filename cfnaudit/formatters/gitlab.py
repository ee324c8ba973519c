"""GitLab Code Quality report (a JSON array of Code Climate issues), for
`artifacts: reports: codequality`. Only active findings: suppressed ones are not problems.

GitLab requires a fingerprint unique within the report; the finding fingerprint is unique per
(rule, file, resource, path, key), and scenario-specific messages can share it, so the message is
hashed in as well.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cfnaudit.api import Report
from cfnaudit.engine import Finding
from cfnaudit.rule import Severity

SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}
BLOCKER_CATEGORIES = frozenset({"decode-error", "template-error", "internal-error",
                                "rule-timeout"})
PERFORMANCE_CATEGORIES = frozenset({"lambda-concurrency", "glue-tuning", "kinesis-scaling",
                                    "partitioning"})
STYLE_CATEGORIES = frozenset({"naming", "tags-required"})


def climate_category(finding: Finding, security: bool) -> str:
    """Code Climate's category: Security for security rules, else by failure class."""
    if security:
        return "Security"
    if finding.category in PERFORMANCE_CATEGORIES:
        return "Performance"
    if finding.category in STYLE_CATEGORIES:
        return "Style"
    return "Bug Risk"


def issue(finding: Finding, security: bool = False) -> dict[str, Any]:
    unique = hashlib.sha256(f"{finding.fingerprint}\0{finding.message}".encode()).hexdigest()
    severity = "blocker" if finding.category in BLOCKER_CATEGORIES else SEVERITY[finding.severity]
    return {
        "type": "issue",
        "check_name": finding.code,
        "description": f"{finding.code} {finding.message}",
        "categories": [climate_category(finding, security)],
        "severity": severity,
        "fingerprint": unique[:32],
        "location": {"path": finding.file,
                     "lines": {"begin": finding.location.line,
                               "end": finding.location.end_line}},
    }


def render(report: Report) -> str:
    security = {r.code for r in report.rules if r.security}
    issues = [issue(f, f.code in security) for f in report.active]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
