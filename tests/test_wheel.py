"""A built wheel, installed into a fresh venv, finds the built-in rules and scans a fixture."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from helpers import ROOT, RULE_FIXTURES


@pytest.mark.slow
def test_installed_wheel_ships_the_builtin_rules(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = dist.glob("cfnaudit-*.whl")
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   capture_output=True)
    fixture = RULE_FIXTURES / "KMS001" / "fail.yaml"
    # Run from the temporary folder so the checkout's rules/ cannot be picked up by accident.
    result = subprocess.run([str(python), "-m", "cfnaudit", "scan", "--format", "json",
                             str(fixture)], capture_output=True, text=True, cwd=tmp_path,
                            check=False)
    assert result.returncode == 1, result.stderr
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert "KMS001" in codes
    listed = subprocess.run([str(env / "bin" / "cfnaudit"), "rules", "--format", "json"],
                            capture_output=True, text=True, cwd=tmp_path, check=True)
    shipped = {r["code"] for r in json.loads(listed.stdout)}
    checkout = {p.parent.name for p in RULE_FIXTURES.glob("*/pass*.yaml")}
    assert shipped == checkout
    located = subprocess.run(
        [str(python), "-c", "import cfnaudit.registry as r; print(r.builtin_rules_dir())"],
        capture_output=True, text=True, cwd=tmp_path, check=True)
    assert "_builtin_rules" in located.stdout
