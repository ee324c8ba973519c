"""A progress bar on standard error for long scans: only on a terminal, only for many files.

rich is imported when the bar is first drawn, so short scans (the pre-commit case) never pay
for it.
"""

from __future__ import annotations

from typing import Any

MIN_FILES = 50  # below this a scan is over before a bar is worth drawing


def wanted(stderr_is_terminal: bool, output_format: str, to_file: bool) -> bool:
    """A bar only for people watching a terminal, and never next to machine-readable output
    on the same terminal (a JSON report piped elsewhere with stderr on screen is fine only when
    it goes to a file)."""
    return stderr_is_terminal and (output_format == "text" or to_file)


class ProgressBar:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < MIN_FILES:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(),
                                 console=Console(stderr=True), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("scan", total=total)
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
