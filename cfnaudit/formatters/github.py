"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding."""

from __future__ import annotations

from cfnaudit.api import Report

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    lines = []
    for finding in report.active:
        loc = finding.location
        properties = ",".join([
            f"file={_escape_property(finding.file)}",
            f"line={loc.line}", f"col={loc.column}",
            f"endLine={loc.end_line}", f"endColumn={loc.end_column}",
            f"title={_escape_property(f'{finding.code} {finding.name}')}",
        ])
        lines.append(f"::{_LEVEL[finding.severity.value]} {properties}::"
                     f"{_escape_data(finding.message)}")
    return "".join(line + "\n" for line in lines)
