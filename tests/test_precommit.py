"""The pre-commit hook: the manifest, and the hook run end to end with `pre-commit try-repo`.

try-repo installs this checkout into a fresh virtualenv, as a user's pre-commit would. It sees
committed files plus uncommitted changes to tracked files, so commit new modules before relying
on this test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

GOOD = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties: {EnableKeyRotation: true}\n"
BAD = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"
CONFIG = "select: [KMS001]\n"  # the project's configuration file applies to the hook


def test_manifest_declares_the_cfnaudit_hook() -> None:
    (hook,) = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert hook["id"] == "cfnaudit"
    assert hook["language"] == "python"
    assert hook["entry"] == "cfnaudit scan"
    pattern = re.compile(hook["files"])
    for name in ("a.yaml", "b.yml", "dir/c.json", "d.template"):
        assert pattern.search(name), name
    for name in ("a.py", "yaml.txt", "template.md"):
        assert not pattern.search(name), name
    assert hook.get("pass_filenames", True) is True


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=test@example.com", "-c", "user.name=test",
                    *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary git repository with one good and one bad template and a workflow file."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path_factory.mktemp("project")
    (repo / "good.yaml").write_text(GOOD)
    (repo / "bad.yaml").write_text(BAD)
    (repo / "workflow.yml").write_text("on: push\njobs: {}\n")
    (repo / ".cfnaudit.yaml").write_text(CONFIG)
    _git(repo, "init", "-q", ".")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "templates")
    return repo


def _try_repo(project: Path, home: Path, *files: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(ROOT), "cfnaudit", "--color", "never", "--files",
         *files], cwd=project, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_hook_end_to_end(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    if not PRE_COMMIT.exists():
        pytest.skip("pre-commit is not installed in this environment (test extra)")
    home = tmp_path_factory.mktemp("pre-commit-home")

    passed = _try_repo(project, home, "good.yaml", "workflow.yml")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"cfnaudit\.+Passed", passed.stdout), passed.stdout

    failed = _try_repo(project, home, "good.yaml", "bad.yaml", "workflow.yml")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    output = failed.stdout
    assert re.search(r"cfnaudit\.+Failed", output), output
    assert "exit code: 1" in output
    assert "bad.yaml" in output and "2:3" in output and "KMS001" in output
    assert "good.yaml" not in output.split("- exit code: 1", 1)[1]  # only files with findings
    assert "workflow.yml" not in output  # non-templates are skipped silently
    assert "2 files scanned, 1 skipped (not templates); 1 finding (1 error)" in output
