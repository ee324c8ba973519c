"""Find the corpus files that make a tool's batch run crash or abort, so that every tool can be
timed on one common set of files that all of them get through.

The search runs the tool (untimed) on chunks of the file list and narrows down only the chunks
whose run did not complete:
- when the tool's output says where it stopped (cfripper reports each template in order and
  stops at the first one its model rejects), that file is excluded and the search resumes after
  it: one run per breaking file;
- otherwise the chunk is split in halves until single files remain (bisection), so a clean chunk
  costs one run and a breaking file about 2 * log2(chunk) runs.

The search is bounded by a time budget. When the budget runs out, chunks known to break are
excluded whole (reason says so), chunks never tried are kept, and the result is not cached.
A complete result is cached per tool, tool version and corpus content in bench/results/, so a
re-run skips the search.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Probe:
    """Outcome of one untimed batch run."""

    complete: bool
    reason: str = ""  # why the run did not complete (the tool's error), empty when it did
    stopped_at: int | None = None  # index of the file the tool stopped at, when it says


@dataclass
class Search:
    excluded: dict[str, str] = field(default_factory=dict)  # file -> reason
    complete: bool = True
    runs: int = 0
    seconds: float = 0.0
    unexplained: list[str] = field(default_factory=list)  # chunks that broke, no file alone did


def find_breaking_files(files: Sequence[Path], probe: Callable[[Sequence[Path]], Probe],
                        chunk: int = 50, budget_s: float = 600.0) -> Search:
    """Files on which `probe` (a batch run of one tool) does not complete, each with the reason."""
    start = time.monotonic()
    deadline = start + budget_s
    result = Search()

    def try_group(group: list[Path]) -> bool:
        """Run the tool on `group` and narrow down a failure; False when not tried (budget)."""
        if not group:
            return True
        if time.monotonic() > deadline:
            result.complete = False
            return False
        outcome = probe(group)
        result.runs += 1
        if not outcome.complete:
            narrow(group, outcome)
        return True

    def narrow(group: list[Path], outcome: Probe) -> None:
        if outcome.stopped_at is not None and 0 <= outcome.stopped_at < len(group):
            result.excluded[str(group[outcome.stopped_at])] = outcome.reason
            rest = group[outcome.stopped_at + 1:]
            if not try_group(rest):
                exclude_whole(rest, outcome.reason)
            return
        if len(group) == 1:
            result.excluded[str(group[0])] = outcome.reason
            return
        before = len(result.excluded)
        middle = len(group) // 2
        for half in (group[:middle], group[middle:]):
            if not try_group(half):
                exclude_whole(half, outcome.reason)
        if len(result.excluded) == before:
            result.unexplained.append(f"{len(group)} files from {group[0]}: {outcome.reason}")

    def exclude_whole(group: list[Path], reason: str) -> None:
        for path in group:
            result.excluded.setdefault(str(path), f"in a chunk of {len(group)} files that broke "
                                       f"({reason}); not narrowed down: search budget exhausted")

    for index in range(0, len(files), chunk):
        try_group(list(files[index:index + chunk]))
    result.seconds = time.monotonic() - start
    return result


# --------------------------------------------------------------------------------- cache


def corpus_digest(files: Sequence[Path]) -> str:
    """Changes when any file of the list, its name or its content changes."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def cache_path(folder: Path, tool: str, version: str, digest: str, invocation: str) -> Path:
    return folder / f"breaking-{tool}-{version}-{digest}-{invocation}.json"


def load_cached(path: Path) -> Search | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return Search(excluded=data["excluded"], complete=True, runs=0, seconds=0.0,
                  unexplained=data.get("unexplained", []))


def save(path: Path, tool: str, version: str, search: Search) -> None:
    if not search.complete:
        return  # an incomplete search is redone next time
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"tool": tool, "version": version, "runs": search.runs,
                                "seconds": round(search.seconds, 1),
                                "excluded": dict(sorted(search.excluded.items())),
                                "unexplained": search.unexplained}, indent=2))
