"""ruff over the project and mypy --strict over the engine, as part of the test suite."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from helpers import ROOT


def _tool(name: str) -> list[str]:
    if shutil.which(name, path=str(ROOT / ".venv" / "bin")) or shutil.which(name):
        return [sys.executable, "-m", name]
    pytest.fail(f"{name} is not installed: install the test extras")


def test_ruff_is_clean() -> None:
    result = subprocess.run([*_tool("ruff"), "check", "cfnaudit", "rules", "tests", "tools",
                             "reference_stack"], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_engine_is_clean() -> None:
    result = subprocess.run([*_tool("mypy"), "--strict", "cfnaudit"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
