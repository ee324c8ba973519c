"""Benchmark cfnaudit against cfn-lint, checkov and cfripper on the same files, same machine.

    python bench/run.py                      # everything (the other tools take minutes)
    python bench/run.py --tools              # cfnaudit and the parse floor only
    python bench/run.py --corpus PATH --runs 9 --search-budget 900

Each tool runs in its normal batch mode as a separate process. cfn-lint, checkov and cfripper
crash or abort their batch run on some real templates, so before the corpus is timed the script
finds, per tool, the files that break its batch run (bench/common_set.py; cached per tool version
in bench/results/) and times every tool on the same common set: the corpus minus the union of
those files. cfnaudit is also timed on the whole corpus. Wall time is measured around the
process and peak memory is the largest resident set of any process in the tool's tree (from
wait4's rusage, as /usr/bin/time reports it). CPU time (user + system, children included) is
reported too, since a tool that uses both cores can have a wall time below its CPU time.

The other tools are installed by this script into their own virtual environments under
`bench/.venv/<tool>` (pinned versions below), never into the project's environment. Results are
printed and written to `bench/results/` as JSON and Markdown.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_CORPUS = Path(os.environ.get("CFNAUDIT_SHARED") or ROOT.parent / "shared") / "corpus"
RESULTS = BENCH / "results"
VENVS = BENCH / ".venv"
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")

# Versions measured for bench/RESULTS.md; change them here to compare others.
PINS = {"cfn-lint": "cfn-lint==1.51.0", "checkov": "checkov==3.3.30",
        "cfripper": "cfripper==1.22.1"}
OTHER_TOOLS = tuple(PINS)
SIZES = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "50 500 2000").split())
CONDITIONS = 30
# A small real template for the cold-start case (falls back to a generated one).
SMALL_TEMPLATE = "aws-cloudformation-templates/EFS/EFSAccessPoint.yaml"

sys.path.insert(0, str(BENCH))
# bench/ is a directory of scripts, not a package
import common_set  # noqa: E402
import generate  # noqa: E402
import shapes  # noqa: E402

PROBE_TIMEOUT = 900.0  # one untimed run of the common-set search
CANARY = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: invocation check; an AccessControl value outside the enum is a schema error
Resources:
  Canary:
    Type: AWS::S3::Bucket
    Properties:
      AccessControl: NotAnAcl
"""


@dataclass
class Measurement:
    tool: str
    case: str
    wall_s: float  # median over runs
    cpu_s: float
    peak_rss_mb: float
    exit_code: int
    runs: int = 1
    walls: list[float] = field(default_factory=list)
    note: str = ""
    complete: bool = True  # the tool's own output accounts for every file it was given
    files: int = 1


@dataclass
class Verdict:
    """What a tool's own output and exit code say about one run."""

    complete: bool
    summary: str
    evidence: int = 0  # files reported (or findings, for cfn-lint): proof that it read input
    reason: str = ""  # why the run is incomplete: the tool's error
    stopped_at: int | None = None  # index of the file the tool stopped at, when it says


# ----------------------------------------------------------------------------- processes

# Every tool runs as installed for a user: Python may cache bytecode. Some CI machines set
# PYTHONDONTWRITEBYTECODE, which makes a tool run from a source checkout (cfnaudit here) compile
# every module on every start while pip-installed tools use the bytecode pip wrote.
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(command: Sequence[str], timeout: float, stdout_path: Path | None = None
            ) -> tuple[float, float, float, int]:
    """(wall seconds, cpu seconds, peak RSS MB, exit code) of one process tree."""
    out = stdout_path.open("wb") if stdout_path else subprocess.DEVNULL
    err = stdout_path.with_suffix(".stderr").open("wb") if stdout_path else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        process = subprocess.Popen(list(command), stdout=out, stderr=err,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env=TOOL_ENV)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(process.pid, 9)
                pid, status, usage = os.wait4(process.pid, 0)
                process.returncode = -9
                return timeout, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, -9
            time.sleep(0.002)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout_path:
            out.close()  # type: ignore[union-attr]
            err.close()  # type: ignore[union-attr]
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


def run_case(tool: str, case: str, targets: Sequence[Path], directory: Path | None,
             out: Path, runs: int, timeout: float, flags: Sequence[str] = ()) -> Measurement:
    """Time `runs` runs of one tool; the note says what the last run's output covered."""
    command = [*command_for(tool, targets, directory, out), *flags]
    walls, cpus, peaks, code = [], [], [], 0
    for _ in range(runs):
        clear_outputs(tool, out)  # a stale report must never pass for this run's
        wall, cpu, peak, code = measure(command, timeout, stdout_of(tool, out))
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
        if code == -9:
            break
    verdict = read_outcome(tool, out, None if directory else len(targets), code)
    result = Measurement(tool, case, statistics.median(walls), statistics.median(cpus),
                         max(peaks), code, len(walls), [round(w, 4) for w in walls],
                         verdict.summary if verdict.complete
                         else f"INCOMPLETE ({verdict.reason}); {verdict.summary}",
                         verdict.complete, len(targets))
    print(f"  {tool:9} {case:24} {result.wall_s:8.3f} s  {result.peak_rss_mb:7.1f} MB"
          f"  exit {code}  {result.note[:90]}", flush=True)
    return result


# ------------------------------------------------------------------------------- tools


def install_tools(tools: Sequence[str]) -> None:
    for tool in tools:
        venv = VENVS / tool
        binary = venv / "bin" / tool
        if binary.exists():
            continue
        print(f"installing {PINS[tool]} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", PINS[tool]], check=True)


def tool_version(tool: str) -> str:
    if tool == "cfnaudit":
        from importlib.metadata import version
        return version("cfnaudit")
    python = VENVS / tool / "bin" / "python"
    return subprocess.run([str(python), "-c", "import importlib.metadata as m, sys; "
                           f"print(m.version({tool!r}))"],
                          capture_output=True, text=True, check=True).stdout.strip()


CFNAUDIT_OVERRIDE: list[str] = []  # --cfnaudit: time another build (an older checkout)


def cfnaudit_command() -> list[str]:
    if CFNAUDIT_OVERRIDE:
        return list(CFNAUDIT_OVERRIDE)
    script = Path(sys.executable).with_name("cfnaudit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cfnaudit"]


def command_for(tool: str, targets: Sequence[Path], directory: Path | None, out: Path
                ) -> list[str]:
    """Each tool's own batch mode; `directory` when the tool scans folders itself."""
    files = [str(t) for t in targets]
    if tool == "cfnaudit":
        where = [str(directory)] if directory else files
        return [*cfnaudit_command(), "scan", *where, "--format", "json", "-o", str(out)]
    binary = str(VENVS / tool / "bin" / tool)
    if tool == "cfn-lint":
        return [binary, "--format", "json", "--", *files]
    if tool == "checkov":
        where = ["-d", str(directory)] if directory else [x for f in files for x in ("-f", f)]
        return [binary, *where, "--framework", "cloudformation", "-o", "json", "--quiet",
                "--skip-download", "--output-file-path", str(checkov_folder(out))]
    if tool == "cfripper":
        # Its default text format: a "Valid: ..." block per template on stdout, in argument
        # order. Not --format json: its JSON writer aborts the batch on every template where a
        # rule raised (PydanticSerializationError on the stored exception; 85 corpus files).
        # Never --output-folder: cfripper joins it with the template's path, which for an
        # absolute path writes the result next to the template (into the corpus).
        return [binary, *files]
    raise ValueError(tool)


def checkov_folder(out: Path) -> Path:
    return out.parent / out.stem


def stdout_of(tool: str, out: Path) -> Path:
    """Where the tool's stdout goes; cfnaudit and checkov write their reports themselves."""
    return out.with_suffix(".stdout") if tool in ("cfnaudit", "checkov") else out


def clear_outputs(tool: str, out: Path) -> None:
    stdout = stdout_of(tool, out)
    for path in (out, stdout, stdout.with_suffix(".stderr")):
        path.unlink(missing_ok=True)
    if tool == "checkov":
        shutil.rmtree(checkov_folder(out), ignore_errors=True)


def corpus_files(corpus: Path) -> list[Path]:
    """The corpus's own file list (MANIFEST.tsv), else every template file below it, sorted."""
    manifest = corpus / "MANIFEST.tsv"
    if manifest.is_file():
        rows = [line.split("\t") for line in manifest.read_text().splitlines()[1:] if line]
        return [corpus / source / relpath for source, relpath, *_ in rows]
    found = []
    for root, dirs, files in os.walk(corpus):
        dirs.sort()
        found += [Path(root) / name for name in sorted(files) if name.endswith(TEMPLATE_SUFFIXES)]
    return found


# ------------------------------------------------------------------------ tool outputs


def read_outcome(tool: str, out: Path, expected: int | None, exit_code: int) -> Verdict:
    """Whether the run covered every file (`expected`; None: a folder), from the tool's output."""
    stderr = stdout_of(tool, out).with_suffix(".stderr")
    errors = stderr.read_text(errors="replace") if stderr.is_file() else ""
    if exit_code == -9:
        return Verdict(False, "timed out", reason="timed out")
    try:
        verdict = READERS[tool](out, expected, exit_code)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        verdict = Verdict(False, f"no readable report ({type(exc).__name__})")
    if "Traceback (most recent call last)" in errors and tool in ("cfnaudit", "cfn-lint"):
        # A traceback from these is a crash. checkov and cfripper also log the traceback of a
        # single check that raised and go on; their report tells whether the run completed.
        verdict.complete = False
    if not verdict.complete:
        verdict.reason = error_reason(errors, exit_code)
    return verdict


def read_cfnaudit(out: Path, expected: int | None, exit_code: int) -> Verdict:
    summary = json.loads(out.read_text())["summary"]
    complete = exit_code in (0, 1, 2) and expected in (None, summary["files"])
    return Verdict(complete, f"{summary['files']} files: {summary['scanned']} scanned, "
                   f"{summary['errors']} errors, {summary['skipped']} skipped; "
                   f"{summary['findings']} findings", evidence=summary["files"])


def read_cfn_lint(out: Path, expected: int | None, exit_code: int) -> Verdict:
    findings = json.loads(out.read_text())
    if not isinstance(findings, list):
        raise TypeError("report is not a list")
    files = {f.get("Filename") for f in findings}
    levels = {level: sum(f.get("Level") == level for f in findings)
              for level in ("Error", "Warning", "Informational")}
    counts = ", ".join(f"{n} {level.lower()}" for level, n in levels.items() if n)
    # cfn-lint prints problems only; exit 0 is "no problem", 2/4/8 (or'ed) error/warning/info.
    complete = exit_code >= 0 and (exit_code & 1) == 0
    return Verdict(complete, f"{len(findings)} findings{f' ({counts})' if counts else ''} in "
                   f"{len(files)} of {expected or '?'} files (cfn-lint lists problems only: the "
                   f"other files passed), exit {exit_code}", evidence=len(findings))


def read_checkov(out: Path, expected: int | None, exit_code: int) -> Verdict:
    report = checkov_folder(out) / "results_json.json"
    data = json.loads(report.read_text())
    docs = data if isinstance(data, list) else [data]
    summaries = [d.get("summary", {}) for d in docs if isinstance(d, dict)]
    checked = {r.get("file_abs_path") or r.get("file_path")
               for d in docs if isinstance(d, dict)
               for kind in ("passed_checks", "failed_checks")
               for r in d.get("results", {}).get(kind, [])}
    resources = sum(s.get("resource_count", 0) for s in summaries)
    stderr = out.with_suffix(".stderr")
    check_crashes = stderr.read_text(errors="replace").count("Failed to run check") \
        if stderr.is_file() else 0
    # With --quiet the report lists failed checks only, hence "files with failed checks".
    return Verdict(exit_code in (0, 1), f"{resources} resources, "
                   f"{sum(s.get('failed', 0) for s in summaries)} failed checks in "
                   f"{len(checked)} of {expected or '?'} files, "
                   f"{sum(s.get('parsing_errors', 0) for s in summaries)} parsing errors, "
                   f"{check_crashes} check crashes logged (checkov goes on)",
                   evidence=resources)


def read_cfripper(out: Path, expected: int | None, exit_code: int) -> Verdict:
    results = [line for line in out.read_text().splitlines() if line.startswith("Valid: ")]
    invalid = results.count("Valid: False")
    complete = exit_code in (0, 2) and expected in (None, len(results))
    stopped = len(results) if not complete and exit_code in (1, 3) else None
    stderr = out.with_suffix(".stderr")
    rule_crashes = stderr.read_text(errors="replace").count(" crashed with ") \
        if stderr.is_file() else 0
    return Verdict(complete, f"results for {len(results)} of {expected or '?'} files "
                   f"({invalid} not valid per cfripper; {rule_crashes} rule crashes logged, "
                   f"cfripper goes on with the next rule), exit {exit_code}",
                   evidence=len(results), stopped_at=stopped)


READERS = {"cfnaudit": read_cfnaudit, "cfn-lint": read_cfn_lint, "checkov": read_checkov,
           "cfripper": read_cfripper}
FRAME = re.compile(r'File "(?:.*/site-packages/)?([^"]+)", line (\d+), in (\S+)')
EXCEPTION = re.compile(r"^(?:[\w]+\.)*(\w+(?:Error|Exception|Exit|Interrupt))\b:?\s*(.*)")


def error_reason(stderr: str, exit_code: int) -> str:
    """The tool's error in one line: exception, message and the innermost frame."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    frames = [m for m in map(FRAME.search, lines) if m]
    where = f" at {frames[-1][1]}:{frames[-1][2]} {frames[-1][3]}" if frames else ""
    found = [i for i, line in enumerate(lines) if EXCEPTION.match(line)]
    if found:
        name, message = EXCEPTION.match(lines[found[-1]]).groups()  # type: ignore[union-attr]
        detail = " ".join(lines[found[-1] + 1:found[-1] + 3]) if "validation error" in message \
            else ""
        text = f"{name}: {message} {detail}".strip()
    else:
        text = lines[-1] if lines else "no error output"
    return f"{text[:220]}{where} (exit {exit_code})"

# -------------------------------------------------------------------------------- floor

FLOOR_SCRIPT = r"""
import json, sys, time
import yaml
start = time.perf_counter()
class Loader(yaml.CSafeLoader):
    pass
def generic(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)
Loader.add_multi_constructor("!", generic)
parsed = failed = 0
for path in sys.argv[1:]:
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        if raw.lstrip()[:1] in (b"{", b"["):
            json.loads(raw)
        else:
            yaml.load(raw, Loader=Loader)
        parsed += 1
    except Exception:
        failed += 1
print(json.dumps({"parsed": parsed, "failed": failed, "loop_s": time.perf_counter() - start}))
"""


def parse_floor(files: Sequence[Path], runs: int, case: str) -> Measurement:
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "floor.py"
        script.write_text(FLOOR_SCRIPT)
        out = Path(scratch) / "floor.json"
        walls, cpus, peaks = [], [], []
        for _ in range(runs):
            wall, cpu, peak, code = measure([sys.executable, str(script), *map(str, files)],
                                            600, out)
            walls.append(wall)
            cpus.append(cpu)
            peaks.append(peak)
        detail = json.loads(out.read_text())
    result = Measurement("floor", case, statistics.median(walls), statistics.median(cpus),
                         max(peaks), code, runs, [round(w, 4) for w in walls],
                         f"parse only (libyaml): {detail['parsed']} parsed, {detail['failed']} "
                         f"unparsable; parse loop alone {detail['loop_s']:.3f} s",
                         files=len(files))
    print(f"  {'floor':9} {case:24} {result.wall_s:8.3f} s  {result.peak_rss_mb:7.1f} MB",
          flush=True)
    return result


# ------------------------------------------------------------------------- common set


@dataclass
class Exclusions:
    """Per tool, the files that break its batch run; their union is left out for every tool."""

    corpus: Path = Path()
    searches: dict[str, dict[str, Any]] = field(default_factory=dict)
    union: dict[str, list[str]] = field(default_factory=dict)  # file -> ["tool: reason", ...]


def find_exclusions(tools: Sequence[str], files: Sequence[Path], corpus: Path,
                    scratch: Path, budget_s: float, chunk: int) -> Exclusions:
    digest = common_set.corpus_digest(files)
    found = Exclusions(corpus)
    for tool in tools:
        version = tool_version(tool)
        # cfnaudit changes with every commit: searched afresh each run (it takes seconds).
        cache = (None if tool == "cfnaudit"
                 else common_set.cache_path(RESULTS, tool, version, digest,
                                            invocation_key(tool)))
        search = common_set.load_cached(cache) if cache else None
        cached = search is not None
        if search is None:
            print(f"  {tool}: searching for files that break its batch run "
                  f"(chunks of {chunk}, budget {budget_s:.0f} s) ...", flush=True)
            search = common_set.find_breaking_files(
                files, probe_for(tool, scratch), chunk=chunk, budget_s=budget_s)
            if cache:
                common_set.save(cache, tool, version, search)
        print(f"  {tool} {version}: {len(search.excluded)} files break its batch run"
              f" ({'cached' if cached else f'{search.runs} runs, {search.seconds:.0f} s'}"
              f"{'' if search.complete else ', SEARCH INCOMPLETE: budget exhausted'})",
              flush=True)
        found.searches[tool] = {
            "version": version, "cached": cached, "complete": search.complete,
            "runs": search.runs, "seconds": round(search.seconds, 1),
            "excluded": {relative(f, corpus): r for f, r in sorted(search.excluded.items())},
            "unexplained": search.unexplained}
        for path, reason in search.excluded.items():
            found.union.setdefault(path, []).append(f"{tool}: {reason}")
    return found


def invocation_key(tool: str) -> str:
    """Changes when the way the tool is invoked changes (a cached search is then redone)."""
    command = command_for(tool, [Path("FILE")], None, Path("OUT.json"))[1:]
    return hashlib.sha256("\0".join(command).encode()).hexdigest()[:8]


def probe_for(tool: str, scratch: Path) -> Callable[[Sequence[Path]], common_set.Probe]:
    """One untimed batch run of `tool` on some files, judged from its own output."""
    out = scratch / f"probe-{tool}.json"

    def probe(files: Sequence[Path]) -> common_set.Probe:
        clear_outputs(tool, out)
        _, _, _, code = measure(command_for(tool, files, None, out), PROBE_TIMEOUT,
                                stdout_of(tool, out))
        verdict = read_outcome(tool, out, len(files), code)
        return common_set.Probe(verdict.complete, verdict.reason, verdict.stopped_at)

    return probe


def relative(path: str | Path, corpus: Path) -> str:
    try:
        return str(Path(path).relative_to(corpus))
    except ValueError:
        return str(path)


def invocation_check(tool: str, scratch: Path) -> str:
    """Untimed: the tool, invoked as in the benchmark, reports the canary's schema error."""
    canary = scratch / "canary.yaml"
    canary.write_text(CANARY)
    out = scratch / f"canary-{tool}.json"
    clear_outputs(tool, out)
    _, _, _, code = measure(command_for(tool, [canary], None, out), 300, stdout_of(tool, out))
    verdict = read_outcome(tool, out, 1, code)
    ok = verdict.complete and verdict.evidence > 0
    return f"{tool}: {'ok' if ok else 'FAILED'} ({verdict.summary})"


# --------------------------------------------------------------------------------- main


def small_template(corpus: Path, scratch: Path) -> Path:
    real = corpus / SMALL_TEMPLATE
    if real.is_file():
        return real
    path = scratch / "small.yaml"
    path.write_text(generate.resources(5))
    return path


def shapes_only(args: argparse.Namespace) -> tuple[list[Measurement], Exclusions, list[str]]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="cfnaudit-bench-"))
    outputs = RESULTS / f"outputs-{args.stamp}"
    outputs.mkdir(parents=True, exist_ok=True)
    results = shape_cases(scratch, outputs, args.runs, args.shape_timeout)
    shutil.rmtree(scratch, ignore_errors=True)
    return results, Exclusions(), [f"cfnaudit command: {' '.join(cfnaudit_command())}"]


def benchmark(args: argparse.Namespace) -> tuple[list[Measurement], Exclusions, list[str]]:
    tools = ["cfnaudit", *[t for t in OTHER_TOOLS if t in args.tools]]
    install_tools([t for t in tools if t != "cfnaudit"])
    corpus: Path = args.corpus
    files = corpus_files(corpus) if corpus.is_dir() else []
    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="cfnaudit-bench-"))
    outputs = RESULTS / f"outputs-{args.stamp}"  # kept, to check that each tool did the work
    outputs.mkdir(parents=True, exist_ok=True)
    results: list[Measurement] = []

    def case(tool: str, name: str, targets: Sequence[Path], runs: int, timeout: float) -> None:
        out = outputs / f"{tool}-{re.sub(r'[^A-Za-z0-9]+', '_', name)}.json"
        results.append(run_case(tool, name, targets, None, out, runs, timeout))

    print("invocation check (untimed): each tool reports the canary template's error")
    checks = [invocation_check(tool, scratch) for tool in tools]
    print("\n".join(f"  {c}" for c in checks))

    small = small_template(corpus, scratch)
    print(f"cold start, one small template ({small.name}), median of {args.runs} runs")
    for tool in tools:
        case(tool, "cold small template", [small],
             args.runs if tool == "cfnaudit" else max(3, args.runs // 2), 120)

    print("synthetic templates")
    for size in SIZES:
        path = scratch / f"resources-{size}.yaml"
        path.write_text(generate.resources(size))
        for tool in tools:
            case(tool, f"{size} resources", [path], 3 if tool == "cfnaudit" else 1, 900)
    path = scratch / f"conditions-{CONDITIONS}.yaml"
    path.write_text(generate.conditions(CONDITIONS))
    for tool in tools:
        case(tool, f"{CONDITIONS} conditions", [path], 3 if tool == "cfnaudit" else 1, 300)
    results += shape_cases(scratch, outputs, 3, args.shape_timeout)

    exclusions = Exclusions()
    if files:
        print(f"whole corpus: {len(files)} files in {corpus}")
        results.append(parse_floor(files, 3, "whole corpus"))
        case("cfnaudit", "whole corpus", files, 3, 3600)
        print("common set: the corpus minus every file that breaks any tool's batch run")
        exclusions = find_exclusions(tools, files, corpus, scratch, args.search_budget,
                                     args.chunk)
        for name, members, common in common_sets(tools, files, exclusions):
            print(f"{name}: {len(common)} of {len(files)} files ({', '.join(members)})")
            results.append(parse_floor(common, 3, name))
            for tool in members:
                case(tool, name, common, 3 if tool == "cfnaudit" else 1, 3600)
    else:
        print(f"no corpus at {corpus}: corpus cases skipped")
    shutil.rmtree(scratch, ignore_errors=True)
    return results, exclusions, checks


SHAPE_NOTES: list[str] = []  # how each shape's time grows, for the result notes


def shape_cases(scratch: Path, outputs: Path, runs: int, timeout: float) -> list[Measurement]:
    """cfnaudit on each pathological shape at 1x, 2x and 4x (bench/shapes.py), with one note
    per shape on how its time grows. A size that times out ends its series."""
    print("pathological shapes: 1x, 2x, 4x (cost must grow linearly)")
    results: list[Measurement] = []

    def case(name: str, text: str, flags: Sequence[str] = (), times: int = runs
             ) -> Measurement:
        slug = re.sub(r"[^A-Za-z0-9]+", "_", name)
        path = scratch / f"shape-{slug}.yaml"
        path.write_text(text)
        measured = run_case("cfnaudit", name, [path], None, outputs / f"cfnaudit-{slug}.json",
                            times, timeout, flags)
        results.append(measured)
        return measured

    # The floor (start-up, one resource): the median CPU time of several runs.
    floor = case("shape floor: one resource", shapes.FLOOR_TEMPLATE, times=5).cpu_s
    notes = SHAPE_NOTES
    for series in shapes.SERIES:
        cpus = []
        for size in series.sizes:
            measured = case(f"{series.name}: {size} {series.unit}", series.template(size),
                            series.flags)
            if measured.exit_code == -9 or not measured.complete:
                break
            cpus.append(measured.cpu_s)
        if len(cpus) == len(series.sizes):
            notes.append(f"{series.name}: {shapes.growth(cpus, floor)}")
        else:
            notes.append(f"{series.name}: did not complete within {timeout:.0f} s at "
                         f"{series.sizes[len(cpus)]} {series.unit}")
    print("\n".join(f"  {n}" for n in notes))
    return results


def common_sets(tools: Sequence[str], files: Sequence[Path], exclusions: Exclusions
                ) -> list[tuple[str, list[str], list[Path]]]:
    """(case, tools, files): the set all tools get through; and, since cfripper rejects far more
    files than the others (SAM templates), the larger set the other tools get through."""
    common = [f for f in files if str(f) not in exclusions.union]
    sets = [("common set", list(tools), common)]
    if "cfripper" in tools:
        others = [t for t in tools if t != "cfripper"]
        kept = [f for f in files if all(reason.startswith("cfripper: ")
                                        for reason in exclusions.union.get(str(f), []))]
        if len(kept) > len(common):
            sets.append(("common set w/o cfripper", others, kept))
    return sets


TARGETS = {(case, tool): target for case in ("common set", "common set w/o cfripper")
           for tool, target in (("checkov", 10.0), ("cfn-lint", 20.0))}
FLOOR_TARGET = 3.0


def ratios(results: Sequence[Measurement]) -> list[str]:
    by = {(m.tool, m.case): m for m in results}
    lines = []
    for (tool, case), m in sorted(by.items()):
        mine = by.get(("cfnaudit", case))
        if tool in ("cfnaudit", "floor") or mine is None:
            continue
        if not (m.complete and mine.complete):
            lines.append(f"{case}: no ratio against {tool}: "
                         f"{'cfnaudit' if not mine.complete else tool} did not complete")
            continue
        ratio = m.wall_s / mine.wall_s
        speed = f"{ratio:.1f}x faster than" if ratio >= 1 else f"{1 / ratio:.1f}x slower than"
        target = TARGETS.get((case, tool))
        verdict = (f"; target {target:.0f}x {'met' if ratio >= target else 'MISSED'}"
                   if target else "")
        lines.append(f"{case}: cfnaudit is {speed} {tool} ({mine.wall_s:.3f} s vs "
                     f"{m.wall_s:.3f} s wall, {mine.cpu_s:.3f} s vs {m.cpu_s:.3f} s CPU; peak "
                     f"memory {mine.peak_rss_mb:.0f} vs {m.peak_rss_mb:.0f} MB, "
                     f"{m.peak_rss_mb / mine.peak_rss_mb:.1f}x less){verdict}")
    for case in ("whole corpus", "common set", "common set w/o cfripper"):
        floor, mine = by.get(("floor", case)), by.get(("cfnaudit", case))
        if floor and mine:
            times = mine.wall_s / floor.wall_s
            lines.append(f"{case} ({mine.files} files): cfnaudit takes {times:.2f}x the parse "
                         f"floor ({mine.wall_s:.3f} s vs {floor.wall_s:.3f} s; target "
                         f"{FLOOR_TARGET:.0f}x {'met' if times <= FLOOR_TARGET else 'MISSED'})")
    small, large = by.get(("cfnaudit", "500 resources")), by.get(("cfnaudit", "2000 resources"))
    if small and large:
        lines.append(f"growth: 2000 vs 500 resources takes {large.wall_s / small.wall_s:.2f}x "
                     "(4x the resources)")
    return lines


def markdown(results: Sequence[Measurement], notes: Sequence[str], header: str,
             exclusions: Exclusions, checks: Sequence[str]) -> str:
    rows = ["| case | tool | files | wall (median) | CPU | peak RSS | exit | runs | note |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for m in results:
        rows.append(f"| {m.case} | {m.tool} | {m.files} | {m.wall_s:.3f} s | {m.cpu_s:.3f} s | "
                    f"{m.peak_rss_mb:.1f} MB | {m.exit_code} | {m.runs} | {m.note} |")
    parts = [header, "", *rows, "", *(f"- {n}" for n in notes), "",
             "Invocation check (untimed, before the run; a canary template whose bucket has an "
             "AccessControl value outside the enum):", "", *(f"- {c}" for c in checks), ""]
    if exclusions.searches:
        parts += ["## Files left out of the common set", "",
                  "| tool | version | files that break its batch run | search |",
                  "| --- | --- | ---: | --- |"]
        for tool, s in exclusions.searches.items():
            how = ("cached result of an earlier search" if s["cached"]
                   else f"{s['runs']} runs, {s['seconds']} s")
            if not s["complete"]:
                how += "; INCOMPLETE (budget exhausted)"
            if s["unexplained"]:
                how += f"; {len(s['unexplained'])} chunks broke with no single file to blame"
            parts.append(f"| {tool} | {s['version']} | {len(s['excluded'])} | {how} |")
        parts += ["", "| file | tool: reason |", "| --- | --- |"]
        for path, reasons in sorted(exclusions.union.items()):
            why = "<br>".join(reason.replace("|", "/") for reason in reasons)
            parts.append(f"| {relative(path, exclusions.corpus)} | {why} |")
        parts.append("")
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="cfnaudit benchmark")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--tools", nargs="*", default=list(OTHER_TOOLS),
                        help=f"other tools to compare (default: {' '.join(OTHER_TOOLS)})")
    parser.add_argument("--runs", type=int, default=9, help="runs of the cold-start case")
    parser.add_argument("--search-budget", type=float, default=900,
                        help="seconds per tool for finding the files that break its batch run")
    parser.add_argument("--chunk", type=int, default=50,
                        help="files per run when searching for breaking files")
    parser.add_argument("--shapes", action="store_true",
                        help="only the pathological shapes (cfnaudit, 1x/2x/4x sizes)")
    parser.add_argument("--shape-timeout", type=float, default=120,
                        help="seconds before one run of a shape counts as a hang")
    parser.add_argument("--cfnaudit", metavar="COMMAND",
                        help="time this cfnaudit command instead (e.g. an older checkout's)")
    args = parser.parse_args(argv)
    if args.cfnaudit:
        CFNAUDIT_OVERRIDE[:] = args.cfnaudit.split()
    load = os.getloadavg()
    stamp = args.stamp = time.strftime("%Y%m%d-%H%M%S")
    if args.shapes:
        results, exclusions, checks = shapes_only(args)
    else:
        results, exclusions, checks = benchmark(args)
    notes = ratios(results) + SHAPE_NOTES
    print("\n".join(["", *notes]))
    header = (f"# cfnaudit benchmark {stamp}\n\nmachine: {platform.platform()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}, load average "
              f"before the run {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)")
    (RESULTS / f"results-{stamp}.json").write_text(json.dumps(
        {"header": header, "results": [asdict(m) for m in results], "ratios": notes,
         "invocation_checks": list(checks), "exclusions": exclusions.searches}, indent=2))
    (RESULTS / f"results-{stamp}.md").write_text(
        markdown(results, notes, header, exclusions, checks))
    print(f"\nwritten to {RESULTS}/results-{stamp}.md and .json")


if __name__ == "__main__":
    main()
