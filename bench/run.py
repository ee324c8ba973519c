"""Benchmark cfnaudit against cfn-lint, checkov and cfripper on the same files, same machine.

    python bench/run.py                      # everything (the other tools take minutes)
    python bench/run.py --tools cfnaudit     # cfnaudit and the parse floor only
    python bench/run.py --corpus PATH --runs 9

Each tool runs in its normal batch mode as a separate process; wall time is measured around the
process and peak memory is the largest resident set of any process in the tool's tree (from
wait4's rusage, as /usr/bin/time reports it). CPU time (user + system, children included) is
reported too, since a tool that uses both cores can have a wall time below its CPU time.

The other tools are installed by this script into their own virtual environments under
`bench/.venv/<tool>` (pinned versions below), never into the project's environment. Results are
printed and written to `bench/results/` as JSON and Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
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
import generate  # noqa: E402  (bench/ is a directory of scripts, not a package)


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


# ----------------------------------------------------------------------------- processes


def measure(command: Sequence[str], timeout: float, stdout_path: Path | None = None
            ) -> tuple[float, float, float, int]:
    """(wall seconds, cpu seconds, peak RSS MB, exit code) of one process tree."""
    out = stdout_path.open("wb") if stdout_path else subprocess.DEVNULL
    err = stdout_path.with_suffix(".stderr").open("wb") if stdout_path else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        process = subprocess.Popen(list(command), stdout=out, stderr=err,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
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


def run_case(tool: str, case: str, command: Sequence[str], runs: int, timeout: float,
             stdout_path: Path | None = None) -> Measurement:
    walls, cpus, peaks, code = [], [], [], 0
    for _ in range(runs):
        wall, cpu, peak, code = measure(command, timeout, stdout_path)
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
        if code == -9:
            return Measurement(tool, case, wall, cpu, peak, code, len(walls), walls,
                               f"timed out after {timeout:.0f} s")
    result = Measurement(tool, case, statistics.median(walls), statistics.median(cpus),
                         max(peaks), code, runs, [round(w, 4) for w in walls])
    print(f"  {tool:9} {case:24} {result.wall_s:8.3f} s  {result.peak_rss_mb:7.1f} MB"
          f"  exit {code}", flush=True)
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


def cfnaudit_command() -> list[str]:
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
                "--skip-download", "--output-file-path", str(out.parent / out.stem)]
    if tool == "cfripper":
        return [binary, *files, "--format", "json"]  # one JSON line per template on stdout
    raise ValueError(tool)


def corpus_files(corpus: Path) -> list[Path]:
    """The files cfnaudit discovers: template suffixes, sorted, hidden folders skipped."""
    found = []
    for root, dirs, files in os.walk(corpus):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root) / name for name in sorted(files) if name.endswith(TEMPLATE_SUFFIXES)]
    return found


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


def parse_floor(files: Sequence[Path], runs: int) -> Measurement:
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "floor.py"
        script.write_text(FLOOR_SCRIPT)
        out = Path(scratch) / "floor.json"
        result = run_case("floor", "parse corpus (libyaml)",
                          [sys.executable, str(script), *map(str, files)], runs, 600, out)
        detail = json.loads(out.read_text())
    result.note = (f"{detail['parsed']} parsed, {detail['failed']} unparsable; "
                   f"parse loop alone {detail['loop_s']:.3f} s")
    return result


# --------------------------------------------------------------------------------- main


def small_template(corpus: Path, scratch: Path) -> Path:
    real = corpus / SMALL_TEMPLATE
    if real.is_file():
        return real
    path = scratch / "small.yaml"
    path.write_text(generate.resources(5))
    return path


def benchmark(args: argparse.Namespace) -> list[Measurement]:
    tools = ["cfnaudit", *[t for t in OTHER_TOOLS if t in args.tools]]
    install_tools([t for t in tools if t != "cfnaudit"])
    corpus: Path = args.corpus
    files = corpus_files(corpus) if corpus.is_dir() else []
    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="cfnaudit-bench-"))
    outputs = RESULTS / f"outputs-{args.stamp}"  # kept, to check that each tool did the work
    outputs.mkdir(parents=True, exist_ok=True)
    results: list[Measurement] = []

    def case(tool: str, name: str, targets: Sequence[Path], directory: Path | None,
             runs: int, timeout: float) -> None:
        out = outputs / f"{tool}-{name.replace(' ', '_')}.json"
        command = command_for(tool, targets, directory, out)
        # stdout and stderr are kept; cfnaudit and checkov write their reports themselves.
        stdout = out.with_suffix(".stdout") if tool in ("cfnaudit", "checkov") else out
        result = run_case(tool, name, command, runs, timeout, stdout)
        result.note = "; ".join(filter(None, [result.note, coverage(tool, out, len(targets))]))
        results.append(result)

    small = small_template(corpus, scratch)
    print(f"cold start, one small template ({small.name}), median of {args.runs} runs")
    for tool in tools:
        case(tool, "cold small template", [small], None,
             args.runs if tool == "cfnaudit" else max(3, args.runs // 2), 120)

    print("synthetic templates")
    for size in SIZES:
        path = scratch / f"resources-{size}.yaml"
        path.write_text(generate.resources(size))
        for tool in tools:
            case(tool, f"{size} resources", [path], None, 3 if tool == "cfnaudit" else 1, 900)
    path = scratch / f"conditions-{CONDITIONS}.yaml"
    path.write_text(generate.conditions(CONDITIONS))
    for tool in tools:
        case(tool, f"{CONDITIONS} conditions", [path], None, 3 if tool == "cfnaudit" else 1, 300)

    if files:
        print(f"whole corpus: {len(files)} files in {corpus}")
        results.append(parse_floor(files, 3))
        for tool in tools:
            case(tool, "whole corpus", files, corpus, 3 if tool == "cfnaudit" else 1, 3600)
    else:
        print(f"no corpus at {corpus}: corpus cases skipped")
    shutil.rmtree(scratch, ignore_errors=True)
    return results


def coverage(tool: str, out: Path, expected: int) -> str:
    """What the tool's own output says it checked, so a tool that stopped early is visible."""
    stderr = out.with_suffix(".stderr")
    if tool != "cfnaudit" and stderr.is_file() and "Traceback" in stderr.read_text(
            errors="replace"):
        last = stderr.read_text(errors="replace").strip().splitlines()[-1][:120]
        return f"CRASHED, no complete report ({last}); see {stderr.name}"
    try:
        if tool == "cfripper":
            written = out.read_text().count('"failures"')
            if written < expected:
                return (f"ABORTED: results for {written} of {expected} files (cfripper stops "
                        "at the first template its model rejects)")
            return f"results for {written} files"
        if tool == "cfnaudit":
            summary = json.loads(out.read_text())["summary"]
            return (f"{summary['scanned']} scanned, {summary['errors']} errors, "
                    f"{summary['skipped']} skipped; {summary['findings']} findings")
        if tool == "checkov":
            folder = out.parent / out.stem
            reports = [json.loads(p.read_text()) for p in folder.glob("*.json")]
            docs = [d for r in reports for d in (r if isinstance(r, list) else [r])]
            summary = [d.get("summary", {}) for d in docs if isinstance(d, dict)]
            return (f"{sum(s.get('resource_count', 0) for s in summary)} resources, "
                    f"{sum(s.get('failed', 0) for s in summary)} failed checks, "
                    f"{sum(s.get('parsing_errors', 0) for s in summary)} parsing errors")
        if tool == "cfn-lint":
            findings = json.loads(out.read_text() or "[]")
            files = {f.get("Filename") for f in findings}
            return f"{len(findings)} findings in {len(files)} files"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"output not readable: {type(exc).__name__}"
    return ""


def ratios(results: Sequence[Measurement]) -> list[str]:
    by = {(m.tool, m.case): m for m in results}
    lines = []
    for (tool, case), m in sorted(by.items()):
        mine = by.get(("cfnaudit", case))
        if (tool in ("cfnaudit", "floor") or mine is None or m.exit_code == -9
                or "ABORTED" in m.note or "CRASHED" in m.note):
            continue
        ratio = m.wall_s / mine.wall_s
        speed = f"{ratio:.1f}x faster than" if ratio >= 1 else f"{1 / ratio:.1f}x slower than"
        lines.append(f"{case}: cfnaudit is {speed} {tool} ({mine.wall_s:.3f} s vs "
                     f"{m.wall_s:.3f} s wall, {mine.cpu_s:.3f} s vs {m.cpu_s:.3f} s CPU; memory "
                     f"{mine.peak_rss_mb:.0f} vs {m.peak_rss_mb:.0f} MB)")
    floor, whole = by.get(("floor", "parse corpus (libyaml)")), by.get(("cfnaudit",
                                                                        "whole corpus"))
    if floor and whole:
        lines.append(f"whole corpus: cfnaudit takes {whole.wall_s / floor.wall_s:.2f}x the parse "
                     f"floor ({whole.wall_s:.3f} s vs {floor.wall_s:.3f} s)")
    small, large = by.get(("cfnaudit", "500 resources")), by.get(("cfnaudit", "2000 resources"))
    if small and large:
        lines.append(f"growth: 2000 vs 500 resources takes {large.wall_s / small.wall_s:.2f}x "
                     "(4x the resources)")
    return lines


def markdown(results: Sequence[Measurement], notes: Sequence[str], header: str) -> str:
    rows = ["| case | tool | wall (median) | CPU | peak RSS | exit | runs | note |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for m in results:
        rows.append(f"| {m.case} | {m.tool} | {m.wall_s:.3f} s | {m.cpu_s:.3f} s | "
                    f"{m.peak_rss_mb:.1f} MB | {m.exit_code} | {m.runs} | {m.note} |")
    return "\n".join([header, "", *rows, "", *(f"- {n}" for n in notes), ""])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="cfnaudit benchmark")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--tools", nargs="*", default=list(OTHER_TOOLS),
                        help=f"other tools to compare (default: {' '.join(OTHER_TOOLS)})")
    parser.add_argument("--runs", type=int, default=9, help="runs of the cold-start case")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    stamp = args.stamp = time.strftime("%Y%m%d-%H%M%S")
    results = benchmark(args)
    notes = ratios(results)
    print("\n".join(["", *notes]))
    header = (f"# cfnaudit benchmark {stamp}\n\nmachine: {platform.platform()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}, load average "
              f"before the run {load[0]:.2f}")
    (RESULTS / f"results-{stamp}.json").write_text(json.dumps(
        {"header": header, "results": [asdict(m) for m in results], "ratios": notes}, indent=2))
    (RESULTS / f"results-{stamp}.md").write_text(markdown(results, notes, header))
    print(f"\nwritten to {RESULTS}/results-{stamp}.md and .json")


if __name__ == "__main__":
    main()
