"""Baseline files: accept today's findings, report only new ones.

`cfnaudit scan --write-baseline FILE` records every active finding by fingerprint. The
fingerprint is built from the rule code, the file, the resource and the property path (never
the line), so a baseline survives reformatting and moved lines. `--baseline FILE` marks findings
found in the baseline as suppressed (reason "in baseline FILE"; they stay visible with
`--show-suppressed` and in SARIF as external suppressions) and lists the baseline entries that
no longer match any finding, so the file can shrink.

An entry is only called stale when its file was part of the scan or no longer exists: a
pre-commit run over two files says nothing about the entries of the others.
Template errors (decode, structure, internal) are never baselined; they must be fixed.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cfnaudit.engine import Finding

FORMAT_VERSION = 1
BY_BASELINE = "baseline"


class BaselineError(Exception):
    """A baseline file that cannot be read (exit code 2)."""


@dataclass(frozen=True, order=True)
class Entry:
    file: str
    code: str
    resource: str | None
    fingerprint: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "code": self.code, "file": self.file,
                "resource": self.resource, "message": self.message}


@dataclass(frozen=True)
class BaselineOutcome:
    file: str
    entries: int
    matched: int
    stale: tuple[Entry, ...]


def entry_of(finding: Finding) -> Entry:
    return Entry(finding.file, finding.code, finding.resource, finding.fingerprint,
                 finding.message)


def baselinable(finding: Finding) -> bool:
    """Active findings, and those the current baseline holds; never template errors."""
    return not finding.is_error and (finding.suppressed is None
                                     or finding.suppressed_by == BY_BASELINE)


def render(findings: Iterable[Finding]) -> str:
    entries = sorted(entry_of(f) for f in findings if baselinable(f))
    document = {"cfnaudit_baseline": FORMAT_VERSION,
                "findings": [e.to_dict() for e in entries]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(path: Path, findings: Iterable[Finding]) -> int:
    text = render(findings)
    path.write_text(text, encoding="utf-8")
    return text.count('"fingerprint"')


def read(path: Path) -> tuple[Entry, ...]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise BaselineError(f"baseline {path} is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("cfnaudit_baseline") != FORMAT_VERSION:
        raise BaselineError(f"{path} is not a cfnaudit baseline (version {FORMAT_VERSION})")
    items = document.get("findings")
    if not isinstance(items, list):
        raise BaselineError(f"baseline {path}: `findings` must be a list")
    entries = []
    for i, item in enumerate(items):
        try:
            entries.append(Entry(str(item["file"]), str(item["code"]), item.get("resource"),
                                 str(item["fingerprint"]), str(item.get("message", ""))))
        except (KeyError, TypeError, AttributeError):
            raise BaselineError(f"baseline {path}: entry {i} lacks file, code or "
                                "fingerprint") from None
    return tuple(entries)


def apply(findings: Sequence[Finding], entries: Sequence[Entry], name: str,
          scanned_files: Iterable[str], refused: Sequence[str] = ()
          ) -> tuple[list[Finding], BaselineOutcome]:
    """Findings with those in the baseline marked suppressed, and what the baseline matched.
    Each entry absorbs one finding, so a second identical problem is still new. Findings of
    `refused` rules (code prefixes, `--no-suppress`) are never absorbed."""
    remaining = Counter(e.fingerprint for e in entries)
    reason = f"in baseline {name}"
    result = []
    matched = 0
    for finding in findings:
        is_refused = any(c == "ALL" or finding.code.startswith(c) for c in refused)
        if finding.suppressed is None and not finding.is_error and not is_refused \
                and remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
            matched += 1
            finding = replace(finding, suppressed=reason, suppressed_by=BY_BASELINE)
        result.append(finding)
    scanned = set(scanned_files)
    stale = []
    for entry in sorted(entries):
        if remaining[entry.fingerprint] > 0 and (entry.file in scanned
                                                  or not os.path.exists(entry.file)):
            remaining[entry.fingerprint] -= 1
            stale.append(entry)
    return result, BaselineOutcome(name, len(entries), matched, tuple(stale))
