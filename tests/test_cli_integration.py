"""End to end through the command line: walking folders (include/exclude, .gitignore,
symbolic links), exit codes of the real process, report files, lazy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run

from cfnaudit.walk import PatternList

UNROTATED = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"
CLEAN = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties: {EnableKeyRotation: true}\n"


def scanned(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    """The files a scan read (scanned or unreadable), in report order."""
    code, out, _ = run(capsys, "scan", "--select", "KMS001", "--format", "json", *args)
    assert code in (0, 1), out
    return [f["file"] for f in json.loads(out)["files"] if f["status"] != "skipped"]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small repository: templates, generated files, ignored files, a symlink loop."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    files = {
        "templates/a.yaml": UNROTATED,
        "templates/b.json": '{"Resources": {"K": {"Type": "AWS::KMS::Key"}}}',
        "templates/c.template": CLEAN,
        "templates/notes.txt": UNROTATED,
        "templates/generated/gen.yaml": UNROTATED,
        "templates/.gitignore": "generated/\n",
        "build/out.yaml": UNROTATED,
        "scratch.tmp.yaml": UNROTATED,
        "keep.tmp.yaml": UNROTATED,
        ".gitignore": "*.tmp.yaml\n!keep.tmp.yaml\n",
        "deep/er/top.yaml": CLEAN,
        "top.yaml": CLEAN,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "templates" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "templates" / "link.yaml").symlink_to(tmp_path / "top.yaml")
    return tmp_path


def test_walk_respects_gitignore_files_and_never_follows_folder_links(
        capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    assert scanned(capsys, "--isolated", ".") == [
        "build/out.yaml", "deep/er/top.yaml", "keep.tmp.yaml", "templates/a.yaml",
        "templates/b.json", "templates/c.template", "top.yaml"]  # link.yaml is top.yaml: once
    everything = scanned(capsys, "--isolated", "--no-respect-gitignore", ".")
    assert "scratch.tmp.yaml" in everything and "templates/generated/gen.yaml" in everything


def test_exclude_and_include_globs(capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    assert scanned(capsys, "--isolated", "--exclude", "build/", "--exclude", "/top.yaml",
                   "--exclude", "*.json", ".") == [
        "deep/er/top.yaml", "keep.tmp.yaml", "templates/a.yaml", "templates/c.template",
        "templates/link.yaml"]  # a link is shown under its own name
    assert scanned(capsys, "--isolated", "--include", "templates/**/*.yaml", ".") == [
        "templates/a.yaml", "templates/link.yaml"]
    assert scanned(capsys, "--isolated", "--include", "*.template", "--include", "*.txt",
                   "templates") == ["templates/c.template", "templates/notes.txt"]


def test_globs_from_the_configuration_file_are_relative_to_it(
        capsys: pytest.CaptureFixture[str], tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / ".cfnaudit.yaml").write_text("exclude: [/templates/b.json, build]\n")
    monkeypatch.chdir(tree / "templates")
    assert scanned(capsys, ".") == ["a.yaml", "c.template", "link.yaml"]
    code, out, err = run(capsys, "scan", "-v", "--select", "KMS001", "b.json")
    assert code == 0 and "0 files scanned" in out
    assert err == "skipped b.json: excluded by configuration\n"


def test_gitignore_pattern_semantics(tmp_path: Path) -> None:
    def excluded(patterns: list[str], path: str, is_dir: bool = False) -> bool | None:
        return PatternList.of(patterns, tmp_path).verdict(tmp_path / path, is_dir)

    assert excluded(["*.yaml"], "a/b/c.yaml")
    assert not excluded(["/*.yaml"], "a/c.yaml") and excluded(["/*.yaml"], "c.yaml")
    assert excluded(["a/**/c.yaml"], "a/c.yaml") and excluded(["a/**/c.yaml"], "a/x/y/c.yaml")
    assert excluded(["**/gen"], "x/gen", is_dir=True)
    assert excluded(["gen/"], "x/gen", is_dir=True) and excluded(["gen/"], "x/gen") is None
    assert excluded(["*.yaml", "!keep.yaml"], "keep.yaml") is False
    assert excluded(["[ab].yaml"], "b.yaml") and not excluded(["[!ab].yaml"], "b.yaml")
    assert excluded(["# a comment", ""], "x.yaml") is None
    assert excluded(["ma?.yaml"], "map.yaml") and not excluded(["ma?.yaml"], "ma/.yaml")


def test_symlink_loop_named_explicitly_terminates(capsys: pytest.CaptureFixture[str],
                                                  tree: Path) -> None:
    files = scanned(capsys, "--isolated", "templates/loop")
    assert "templates/loop/templates/a.yaml" in files
    assert not any("loop/templates/loop" in f for f in files)


@pytest.mark.parametrize(("args", "expected"), [
    (["scan", "--isolated", "--select", "KMS001", "clean.yaml"], 0),
    (["scan", "--isolated", "--select", "KMS001", "flawed.yaml"], 1),
    (["scan", "--isolated", "--select", "KMS001", "--fail-on", "error", "flawed.yaml"], 1),
    (["scan", "--isolated", "--select", "KMS001", "broken.yaml", "clean.yaml"], 2),
    (["scan", "--isolated", "--ruleset", "nope", "clean.yaml"], 2),
    (["scan", "--config", "missing.yaml", "clean.yaml"], 2),
    (["scan", "--isolated", "--baseline", "missing.json", "clean.yaml"], 2),
    (["scan", "--isolated", "--jobs", "-1", "clean.yaml"], 2),
    (["scan", "--isolated", "--select", "KMS001", "workflow.yml"], 0),
])
def test_exit_codes_of_the_real_process(tmp_path: Path, args: list[str], expected: int) -> None:
    (tmp_path / "clean.yaml").write_text(CLEAN)
    (tmp_path / "flawed.yaml").write_text(UNROTATED)
    (tmp_path / "broken.yaml").write_text("Resources: [\n")
    (tmp_path / "workflow.yml").write_text("on: push\n")
    done = subprocess.run([sys.executable, "-m", "cfnaudit", *args], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == expected, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    if expected == 2 and "broken.yaml" not in args:
        assert done.stderr.startswith("cfnaudit: error: ") and done.stderr.count("\n") == 1


@pytest.mark.parametrize("output_format", ["sarif", "gitlab", "junit", "json", "github"])
def test_reports_go_to_the_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       output_format: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flawed.yaml").write_text(UNROTATED)
    code, out, _ = run(capsys, "scan", "--isolated", "--select", "KMS001", "-f", output_format,
                       "-o", f"report.{output_format}", "flawed.yaml")
    assert code == 1 and out == ""
    report = (tmp_path / f"report.{output_format}").read_text()
    assert "flawed.yaml" in report and "KMS001" in report


def test_one_file_scan_stays_off_heavy_imports(tmp_path: Path) -> None:
    """The pre-commit case: no rich, networkx, process pools, XML or TOML for one clean file."""
    (tmp_path / "t.yaml").write_text(CLEAN)
    probe = (
        "import sys\n"
        "from cfnaudit.cli import main\n"
        "try:\n"
        "    main(['scan', '--isolated', '--select', 'KMS001', 't.yaml'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ['rich', 'networkx', 'multiprocessing', 'concurrent.futures', 'xml.etree',\n"
        "         'tomllib']\n"
        "print('LOADED', [m for m in heavy if m in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, check=True, env={**os.environ, "NO_COLOR": "1"})
    assert "LOADED []" in done.stdout, done.stdout
