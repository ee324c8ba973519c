"""The judged set (tests/precision/verdicts) and the precision page (docs/precision.md).

    python tools/precision_report.py            # rewrite docs/precision.md (needs ../shared/corpus)
    python tools/precision_report.py --check    # exit 1 when docs/precision.md is stale
    python tools/precision_report.py --broken   # judged findings whose verdict no longer holds

A verdict names one finding by (file, code, resource, path). `true` findings must still be
reported; `false` and `inapplicable` ones must not come back. A verdict with `about: message`
judged only the wording: it comes back only if the same message does. Verdicts that name one
finding with different messages (one place, several messages) are told apart by message.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402  # imported after the path is set

from cfnaudit.api import Config, audit  # noqa: E402  # imported after the path is set
from cfnaudit.engine import Finding  # noqa: E402  # imported after the path is set

VERDICTS = ROOT / "tests" / "precision" / "verdicts"
OPEN = ROOT / "tests" / "precision" / "open"  # judged false/inapplicable, still reported
BEFORE = ROOT / "tests" / "precision" / "corpus_before.json"
PAGE = ROOT / "docs" / "precision.md"
CORPUS_PREFIX = "corpus/"
KINDS = ("true", "inapplicable", "false")


def shared_dir() -> Path:
    """The shared folder beside the checkout; `CFNAUDIT_SHARED` points elsewhere (CI hides it
    to prove the suite passes without it)."""
    return Path(os.environ.get("CFNAUDIT_SHARED", ROOT.parent / "shared"))


def corpus_dir() -> Path:
    return shared_dir() / "corpus"


@dataclass(frozen=True)
class Verdict:
    file: str
    code: str
    resource: str | None
    path: tuple[str | int, ...]
    message: str
    verdict: str
    reason: str
    about_message: bool
    source: str  # the verdict file, for messages
    by_message: bool = False  # another verdict names the same finding with another message
    reading: int = 1  # 1: before the precision work; 2: after the first fixes; 3: final code

    @property
    def needs_corpus(self) -> bool:
        return self.file.startswith(CORPUS_PREFIX)

    def disk_path(self) -> Path:
        if self.needs_corpus:
            return corpus_dir() / self.file.removeprefix(CORPUS_PREFIX)
        return ROOT / self.file

    def same_finding(self, finding: Finding) -> bool:
        return (finding.code == self.code and finding.resource == self.resource
                and tuple(finding.path) == self.path)

    def reported_as(self, here: Sequence[Finding]) -> list[Finding]:
        """The findings among `here` that are this judged one. With `about: message`, or when
        other verdicts judge other messages at the same place (GLU003 names each missing
        argument), only those with the judged wording. Otherwise the names a `false` or
        `inapplicable` message quotes tell it from another finding on its path (MON002
        reports consumer lag and ingestion on one stream); a `true` one counts in any
        wording."""
        same = [f for f in here if self.same_finding(f)]
        if self.about_message or self.by_message:
            return [f for f in same if f.message == self.message]
        if self.verdict == "true":
            return same  # still reported, perhaps reworded
        wanted = _quoted(self.message) - {self.resource}
        return [f for f in same if f.message == self.message
                or not wanted or _quoted(f.message) & wanted]


def _quoted(message: str) -> set[str]:
    """The `names` a message quotes."""
    return set(re.findall(r"`([^`]+)`", message))


def load_verdicts(folder: Path = VERDICTS) -> list[Verdict]:
    found = []
    for file in sorted(folder.glob("*.yaml")):
        for entry in yaml.safe_load(file.read_text(encoding="utf-8")) or ():
            verdict = str(entry["verdict"]).lower()
            if verdict not in KINDS:
                raise ValueError(f"{file.name}: verdict {verdict!r} is not one of {KINDS}")
            found.append(Verdict(
                file=entry["file"], code=entry["code"], resource=entry.get("resource"),
                path=tuple(entry["path"]), message=entry["message"], verdict=verdict,
                reason=entry["reason"], about_message=entry.get("about") == "message",
                source=file.name, reading=int(entry.get("round", 1))))
    # One rule may report several messages at one place (GLU003 lists each missing argument
    # at `DefaultArguments`): judged apart, they are told apart by their messages.
    messages: dict[tuple[str, str, str | None, tuple[str | int, ...]], set[str]] = {}
    for v in found:
        messages.setdefault((v.file, v.code, v.resource, v.path), set()).add(v.message)
    return [replace(v, by_message=True) if len(messages[(v.file, v.code, v.resource, v.path)])
            > 1 else v for v in found]


def scan(files: Iterable[Path]) -> dict[Path, list[Finding]]:
    """Findings per file (default configuration, as a user runs it)."""
    paths = sorted({p.resolve() for p in files})
    report = audit(paths, Config())
    by_file: dict[Path, list[Finding]] = {p: [] for p in paths}
    for finding in report.findings:
        by_file.setdefault(Path(finding.file).resolve(), []).append(finding)
    return by_file


def broken(verdicts: Sequence[Verdict], findings: Mapping[Path, list[Finding]]) -> list[str]:
    """One line per verdict that no longer holds."""
    problems = []
    for v in verdicts:
        here = findings.get(v.disk_path().resolve(), [])
        reported = v.reported_as(here)
        where = f"{v.source}: {v.code} {v.file} {v.resource} {'/'.join(map(str, v.path))}"
        if v.verdict == "true" and v.about_message:
            # a true finding whose message was judged wrong: it must stay, reworded
            if not any(v.same_finding(f) for f in here):
                problems.append(f"{where}: judged true ({v.reason}) but no longer reported")
            elif reported:
                problems.append(f"{where}: judged true but its message wrong ({v.reason}), "
                                f"and still reported with that message")
        elif v.verdict == "true" and not reported:
            problems.append(f"{where}: judged true ({v.reason}) but no longer reported")
        elif v.verdict != "true" and reported:
            problems.append(f"{where}: judged {v.verdict} ({v.reason}) but reported again: "
                            f"{reported[0].message}")
    return problems


def fixed(open_entries: Sequence[Verdict], findings: Mapping[Path, list[Finding]]
          ) -> list[str]:
    """Open entries (judged false or inapplicable, known to be still reported) that are no
    longer reported: they belong in verdicts/ now, where the test keeps them gone."""
    return [f"{v.source}: {v.code} {v.file} {v.resource} {'/'.join(map(str, v.path))}: no "
            f"longer reported; move it from open/ to verdicts/"
            for v in open_entries
            if not v.reported_as(findings.get(v.disk_path().resolve(), []))]


def corpus_counts() -> tuple[Counter[str], int]:
    """Findings per rule code over the corpus, and the number of templates scanned."""
    report = audit([corpus_dir()], Config())
    counts = Counter(f.code for f in report.findings if not f.code.startswith("CFA"))
    scanned = sum(1 for outcome in report.files if outcome.status == "scanned")
    return counts, scanned


def _share(tally: Counter[str]) -> str:
    total = sum(tally.values())
    return f"{100 * tally['true'] / total:.0f}%" if total else "-"


def _tally(entries: Iterable[Verdict]) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for v in entries:
        found.setdefault(v.code, Counter())[v.verdict] += 1
    return found


def _triple(tally: Counter[str]) -> str:
    return f"{tally['true']} / {tally['inapplicable']} / {tally['false']}"


READINGS = {
    1: "findings of {commit}, before the precision work, at least ten per rule",
    2: "findings after the first round of fixes that the first reading did not cover, about "
       "five per rule; most of its problems were fixed afterwards",
    3: "findings of the final code that no earlier reading covered, four per rule, chosen "
       "among the rules that print the most",
}


def render(verdicts: Sequence[Verdict], open_entries: Sequence[Verdict], counts: Counter[str],
           scanned: int) -> str:
    before = json.loads(BEFORE.read_text(encoding="utf-8"))
    old: dict[str, int] = before["counts"]
    every = [*verdicts, *open_entries]
    readings = {n: _tally(v for v in every if v.reading == n) for n in READINGS}
    codes = sorted(set(old) | set(counts) | {c for t in readings.values() for c in t})
    rows = [f"| {code} | {old.get(code, 0)} | {counts.get(code, 0)} | "
            + " | ".join(f"{_triple(readings[n].get(code, Counter()))}" for n in READINGS)
            + f" | {_share(readings[1].get(code, Counter()))} | "
            f"{_share(readings[3].get(code, Counter()) or readings[2].get(code, Counter()))} |"
            for code in codes]
    total_before, total_after = sum(old.values()), sum(counts.values())
    summary = []
    for n, what in READINGS.items():
        tally = sum(readings[n].values(), Counter())
        if not tally:
            continue
        still = sum(1 for v in open_entries if v.reading == n)
        fixed = tally["inapplicable"] + tally["false"] - still
        printed = Counter(true=tally["true"], inapplicable=still)
        summary.append(
            f"- Reading {n} ({what.format(commit=before['commit'])}): "
            f"**{sum(tally.values())}** judged, {tally['true']} true, {tally['inapplicable']} "
            f"inapplicable, {tally['false']} false: {_share(tally)} per judged finding, "
            f"{_weighted(readings[n], counts if n > 1 else Counter(old))} weighted by each "
            f"judged rule's corpus count. {fixed} of its problems are fixed since; of its "
            f"findings still printed, {_share(printed)} are true.")
    still_open = [f"- {v.code} `{v.file}` `{v.resource}` (reading {v.reading}): {v.verdict}, "
                  f"{v.reason}" for v in open_entries]
    lines = [
        "# Precision",
        "",
        "Generated by `python tools/precision_report.py` from the judged set",
        "(`tests/precision/`) and a scan of `../shared/corpus`; `tests/test_precision.py` fails",
        "when this page is stale, when a judged finding's verdict no longer holds, or when an",
        "open one is fixed without moving it to the kept verdicts.",
        "",
        f"- Corpus findings before the precision work (commit {before['commit']}): "
        f"**{total_before}** on {before['templates_scanned']} templates "
        f"({total_before / before['templates_scanned']:.1f} per template).",
        f"- Corpus findings now: **{total_after}** on {scanned} templates "
        f"({total_after / max(scanned, 1):.1f} per template), "
        f"{100 * (total_before - total_after) / max(total_before, 1):.0f}% fewer.",
        *summary,
        "",
        "A verdict is `true` when the message is true of the template and a reviewer would act",
        "on it, `inapplicable` when it is true to the letter but pointless for that resource,",
        "`false` when the message is untrue of the template; precision is the share judged",
        "`true` (the weighted figure counts each rule by how many findings it prints, so it",
        "estimates the share of all printed findings a reviewer would act on). Every `false`",
        "and `inapplicable` finding of all readings is gone now, except the open ones listed",
        "below, and every `true` one is still reported (the test checks both). Counts are",
        "true / inapplicable / false; problems found by a reading may have been fixed after it.",
        "",
        "| rule | corpus before | corpus now | reading 1 | reading 2 | reading 3 "
        "| precision, reading 1 | precision, latest reading |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        "## Open",
        "",
        "Judged `inapplicable` or `false` and still reported (`tests/precision/open/`):",
        "",
        *(still_open or ["- none"]),
        "",
    ]
    return "\n".join(lines)


def _weighted(second: Mapping[str, Counter[str]], counts: Counter[str]) -> str:
    """Precision of the second reading with each rule weighted by its corpus findings: what
    share of all findings printed today a reviewer would call true."""
    judged = {code: tally for code, tally in second.items() if sum(tally.values())}
    weight = sum(counts.get(code, 0) for code in judged)
    if not weight:
        return "-"
    share = sum(counts.get(code, 0) * tally["true"] / sum(tally.values())
                for code, tally in judged.items()) / weight
    return f"{100 * share:.0f}%"


def main(argv: list[str]) -> int:
    verdicts = load_verdicts()
    open_entries = load_verdicts(OPEN)
    if not corpus_dir().is_dir():
        print(f"{corpus_dir()} is absent: the page and the corpus verdicts cannot be checked")
        return 0
    if "--broken" in argv:
        findings = scan(v.disk_path() for v in [*verdicts, *open_entries])
        problems = broken(verdicts, findings) + fixed(open_entries, findings)
        print("\n".join(problems) or "every verdict holds")
        return 1 if problems else 0
    counts, scanned = corpus_counts()
    page = render(verdicts, open_entries, counts, scanned)
    if "--check" in argv:
        if PAGE.exists() and PAGE.read_text(encoding="utf-8") == page:
            return 0
        print(f"{PAGE.relative_to(ROOT)} is stale: run `python tools/precision_report.py`")
        return 1
    PAGE.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
