"""Text for people: findings grouped by file, the offending line shown, a summary.

Lines are built as styled segments. With colour they are printed through rich; without (not a
terminal, NO_COLOR) they are joined as plain text, which also keeps rich's import off the
pre-commit path.
"""

from __future__ import annotations

from itertools import groupby

from cfnaudit.api import Report
from cfnaudit.engine import Finding

Segment = tuple[str, str]  # (text, rich style)
Line = list[Segment]

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _finding_lines(finding: Finding, show_source: bool) -> list[Line]:
    loc = finding.location
    severity = finding.severity.value
    head: Line = [
        (f"  {loc.line}:{loc.column}".ljust(10), "dim"),
        (severity.ljust(8), SEVERITY_STYLE[severity]),
        (finding.code.ljust(8), "bold"),
        (finding.message, ""),
        (f"  [{finding.category}]", "dim"),
    ]
    if finding.suppressed is not None:
        head.append((f"  (suppressed: {finding.suppressed})", "dim italic"))
    lines = [head]
    if show_source and finding.source_line.strip():
        lines.append([("          │ ", "dim"), (finding.source_line.strip(), "")])
    return lines


def build(report: Report, show_suppressed: bool = False, show_source: bool = True
          ) -> list[Line]:
    lines: list[Line] = []
    shown = [f for f in report.findings if show_suppressed or f.suppressed is None]
    for file, findings in groupby(shown, key=lambda f: f.file):
        lines.append([(file, "bold underline")])
        for finding in findings:
            lines.extend(_finding_lines(finding, show_source))
        lines.append([])
    lines.append(_summary(report))
    lines.extend(_baseline_lines(report))
    return lines


def _baseline_lines(report: Report) -> list[Line]:
    """What the baseline matched, and its entries that match nothing any more (remove them)."""
    outcome = report.baseline
    if outcome is None:
        return []
    lines: list[Line] = [[(f"baseline {outcome.file}: {outcome.matched} of {outcome.entries} "
                           "entries matched", "dim")]]
    if outcome.stale:
        count = len(outcome.stale)
        verb = "entries no longer match" if count != 1 else "entry no longer matches"
        lines.append([(f"{count} baseline {verb} (fixed, or moved to another resource); "
                       "rewrite the baseline with --write-baseline to drop:", "yellow")])
        for entry in outcome.stale:
            where = f" `{entry.resource}`" if entry.resource else ""
            lines.append([(f"  {entry.file}  {entry.code}{where}  {entry.message}", "")])
    return lines


def _summary(report: Report) -> Line:
    active = report.active
    scanned = sum(1 for o in report.files if o.status == "scanned")
    skipped = sum(1 for o in report.files if o.status == "skipped")
    errors = sum(1 for o in report.files if o.status == "error")
    counts = [f"{n} {s}{'s' if n != 1 else ''}" for s in ("error", "warning", "info")
              if (n := sum(1 for f in active if f.severity.value == s))]
    parts = [f"{scanned} file{'s' if scanned != 1 else ''} scanned"]
    if skipped:
        parts.append(f"{skipped} skipped (not templates)")
    if errors:
        parts.append(f"{errors} unreadable")
    found = f"{len(active)} finding{'s' if len(active) != 1 else ''}"
    if counts:
        found += f" ({', '.join(counts)})"
    suppressed = len(report.findings) - len(active)
    tail = f", {suppressed} suppressed" if suppressed else ""
    style = "bold red" if active else "bold green"
    return [(", ".join(parts) + "; ", ""), (found, style), (tail, "dim")]


def render_plain(lines: list[Line]) -> str:
    return "".join("".join(text for text, _ in line) + "\n" for line in lines)


def render_rich(lines: list[Line], width: int | None = None) -> str:
    import io

    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=width or 200, highlight=False,
                      soft_wrap=True)
    for line in lines:
        console.print(Text.assemble(*line) if line else Text(""))
    return buffer.getvalue()


def render(report: Report, color: bool = False, show_suppressed: bool = False) -> str:
    lines = build(report, show_suppressed)
    return render_rich(lines) if color else render_plain(lines)
