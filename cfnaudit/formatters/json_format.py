"""JSON output, shape version 1 (documented in README.md, "JSON output")."""

from __future__ import annotations

import json
from typing import Any

from cfnaudit import __version__
from cfnaudit.api import Report
from cfnaudit.engine import Finding

SCHEMA_VERSION = 1


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "category": finding.category,
        "message": finding.message,
        "file": finding.file,
        "resource": finding.resource,
        "path": list(finding.path),
        "line": loc.line,
        "column": loc.column,
        "end_line": loc.end_line,
        "end_column": loc.end_column,
        "fingerprint": finding.fingerprint,
        "suppressed": finding.suppressed is not None,
        "suppression_reason": finding.suppressed,
        "suppressed_by": finding.suppressed_by or None,
    }


def render(report: Report) -> str:
    active = report.active
    counts = {s: sum(1 for f in active if f.severity.value == s)
              for s in ("error", "warning", "info")}
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "cfnaudit", "version": __version__},
        "summary": {
            "files": len(report.files),
            "scanned": sum(1 for o in report.files if o.status == "scanned"),
            "skipped": sum(1 for o in report.files if o.status == "skipped"),
            "errors": sum(1 for o in report.files if o.status == "error"),
            "findings": len(active),
            "suppressed": len(report.findings) - len(active),
            "by_severity": counts,
        },
        "files": [{"file": o.file, "status": o.status, "note": o.note or None}
                  for o in report.files],
        "findings": [finding_to_dict(f) for f in report.findings],
    }
    if report.baseline is not None:
        outcome = report.baseline
        document["baseline"] = {"file": outcome.file, "entries": outcome.entries,
                                "matched": outcome.matched,
                                "stale": [e.to_dict() for e in outcome.stale]}
    return _dump(document)


def _dump(document: dict[str, Any]) -> str:
    """Top-level keys one per line, each file and finding one compact line. `indent=` would
    send everything through json's pure-Python encoder, most of a large scan's time."""
    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    lines = ["{"]
    last = len(document) - 1
    for index, (key, value) in enumerate(document.items()):
        comma = "," if index < last else ""
        if isinstance(value, list) and value:
            lines.append(f"  {compact(key)}: [")
            final = len(value) - 1
            lines.extend(f"    {compact(item)}{',' if i < final else ''}"
                         for i, item in enumerate(value))
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {compact(key)}: {compact(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"
