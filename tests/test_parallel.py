"""`--jobs N`: parallel scans give byte-identical output; the progress bar stays out of the way."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import CORPUS, needs_corpus, run

from cfnaudit.api import Config, audit
from cfnaudit.formatters import progress
from cfnaudit.rule import Context, Rule, Severity, Violation

KEY = """\
Parameters:
  Rotate: {{Type: String, Default: "{rotate}"}}
Conditions:
  IsProd: !Equals [!Ref "AWS::StackName", prod]
Resources:
  Key{n}:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: !If [IsProd, true, !Ref Rotate]
  Queue{n}:
    Type: AWS::SQS::Queue
"""


@pytest.fixture
def many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Forty templates in nested folders, some clean, some flawed, one broken, one not a
    template."""
    monkeypatch.chdir(tmp_path)
    for n in range(40):
        folder = tmp_path / f"group{n % 4}" / ("deep" if n % 3 else "")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"stack{n:02}.yaml").write_text(KEY.format(n=n, rotate=str(n % 2 == 0).lower()))
    (tmp_path / "group1" / "broken.yaml").write_text("Resources:\n  A: {Type: [\n")
    (tmp_path / "group2" / "compose.yaml").write_text("services: {}\n")
    return tmp_path


@pytest.mark.parametrize("output_format", ["json", "sarif", "text", "gitlab", "junit"])
def test_parallel_output_is_byte_identical(capsys: pytest.CaptureFixture[str], many: Path,
                                           output_format: str) -> None:
    args = ["scan", "--isolated", "--format", output_format, "--no-color", "."]
    serial = run(capsys, *args)
    parallel = run(capsys, *args, "--jobs", "3")
    assert serial[0] == parallel[0] == 2  # the broken file
    assert serial[1] == parallel[1]
    assert len(serial[1]) > 1000


def test_argument_order_does_not_matter(capsys: pytest.CaptureFixture[str], many: Path) -> None:
    forward = run(capsys, "scan", "--isolated", "-f", "json", "-j", "2", "group0", "group3")
    backward = run(capsys, "scan", "--isolated", "-f", "json", "-j", "2", "group3", "group0")
    assert forward == backward


def test_jobs_zero_means_one_process_per_cpu(many: Path) -> None:
    serial = audit([many], Config(select=("KMS001",)))
    every_cpu = audit([many], Config(select=("KMS001",), jobs=0))
    assert serial == every_cpu
    assert len(serial.findings) == 21  # twenty unrotated keys and the broken file


def _every_queue(ctx: Context) -> Iterator[Violation]:
    for queue in ctx.resources("AWS::SQS::Queue"):
        yield Violation(f"Queue `{queue.logical_id}` is a queue", queue.path)


def test_rules_given_to_the_api_reach_the_workers(many: Path) -> None:
    queues = Rule("TST002", "every-queue", Severity.WARNING, "sqs-redrive", "Queues.",
                  _every_queue)
    serial = audit([many], Config(), rules=[queues])
    parallel = audit([many], Config(jobs=2), rules=[queues])
    assert serial == parallel
    assert sum(f.code == "TST002" for f in parallel.findings) == 40
    assert parallel.examined == {"TST002": 40}


def test_progress_callback_counts_every_file(many: Path) -> None:
    calls: list[tuple[int, int]] = []
    audit([many], Config(select=("KMS001",), jobs=2), progress=lambda d, t: calls.append((d, t)))
    assert calls == [(n, 42) for n in range(1, 43)]


def test_progress_bar_only_for_people_at_a_terminal() -> None:
    assert progress.wanted(True, "text", to_file=False)
    assert progress.wanted(True, "sarif", to_file=True)
    assert not progress.wanted(True, "json", to_file=False)
    assert not progress.wanted(False, "text", to_file=False)


def test_progress_bar_draws_only_for_many_files(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr("sys.stderr", screen)
    few = progress.ProgressBar(True)
    for done in range(1, 11):
        few(done, 10)
    few.close()
    assert screen.getvalue() == ""
    disabled = progress.ProgressBar(False)
    disabled(1, 500)
    disabled.close()
    assert screen.getvalue() == ""
    bar = progress.ProgressBar(True)
    for done in range(1, progress.MIN_FILES + 1):
        bar(done, progress.MIN_FILES)
    bar.close()
    assert screen.getvalue() != ""


def test_no_progress_output_when_not_a_terminal(capsys: pytest.CaptureFixture[str],
                                                many: Path) -> None:
    for n in range(60):
        (many / f"extra{n}.yaml").write_text(KEY.format(n=100 + n, rotate="true"))
    code, out, err = run(capsys, "scan", "--isolated", "-j", "2", ".")
    assert code == 2 and err == ""
    assert "100 files scanned, 1 skipped (not templates), 1 unreadable" in out


@needs_corpus
def test_parallel_equals_serial_on_real_templates() -> None:
    files = sorted(CORPUS.rglob("*.yaml"))[:150] + sorted(CORPUS.rglob("*.json"))[:50]
    serial = audit(files, Config())
    parallel = audit(files, Config(jobs=2))
    assert serial == parallel
    assert len(serial.findings) > 100


@pytest.mark.parametrize(("files", "workers"), [(3, False), (64, True)])
def test_automatic_jobs_parallelise_only_large_scans(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int, workers: bool) -> None:
    import cfnaudit.api as api

    used: list[int] = []
    run_parallel = api._run_parallel

    def spy(*args: Any) -> Any:  # (targets, rules, config, jobs, progress)
        used.append(args[3])
        return run_parallel(*args)

    monkeypatch.setattr(api, "_run_parallel", spy)
    monkeypatch.setattr(api.os, "cpu_count", lambda: 2)
    for n in range(files):
        (tmp_path / f"t{n:03}.yaml").write_text(KEY.format(n=n, rotate="true"))
    report = audit([tmp_path], Config(select=("KMS001",)))
    assert len(report.files) == files
    assert used == ([2] if workers else [])
