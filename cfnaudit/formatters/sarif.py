"""SARIF 2.1.0 output (filled in by the CI-integration work)."""

from __future__ import annotations

from cfnaudit.api import Report


def render(report: Report) -> str:
    raise NotImplementedError("SARIF output is not available yet")
