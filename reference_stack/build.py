"""Inline the reference stack's code into its template and regenerate the JSON form.

The template marks each generated block with a comment naming its source file::

    Code:
      # inline: lambda/validator.py
      ZipFile: |
        ...generated...

``python reference_stack/build.py`` rewrites the blocks from reference_stack/lambda and
reference_stack/glue and regenerates pipeline.json with cfn-flip. ``--check`` writes
nothing and exits 1 when either file is out of date (the test suite calls ``stale_files``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "pipeline.yaml"
TEMPLATE_JSON = HERE / "pipeline.json"
# CloudFormation used to reject inline Lambda code over 4096 characters; stay below it.
ZIPFILE_LIMIT = 4096

_MARKER = re.compile(r"^(?P<indent> *)# inline: (?P<source>\S+)\s*$")
_BLOCK_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9]+): \|\s*$")


class BuildError(Exception):
    """The template's inline markers or sources are inconsistent."""


def _indented_block(source: str, indent: str) -> list[str]:
    if "\t" in source:
        raise BuildError("tabs cannot be inlined into YAML block scalars")
    return [(indent + line) if line.strip() else "" for line in source.rstrip("\n").split("\n")]


def render_template(text: str, root: Path = HERE) -> tuple[str, dict[str, int]]:
    """Return the template with every marked block replaced by its source file.

    Also returns the length of each inlined ZipFile, keyed by source path.
    """
    lines = text.split("\n")
    out: list[str] = []
    sizes: dict[str, int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        marker = _MARKER.match(line)
        if marker is None:
            out.append(line)
            i += 1
            continue
        indent = marker["indent"]
        key = _BLOCK_KEY.match(lines[i + 1]) if i + 1 < len(lines) else None
        if key is None or key["indent"] != indent:
            raise BuildError(
                f"line {i + 1}: '# inline:' must be followed by 'Key: |' at its indent"
            )
        source_path = root / marker["source"]
        if not source_path.is_file():
            raise BuildError(f"line {i + 1}: no such source file {marker['source']}")
        source = source_path.read_text(encoding="utf-8")
        out += [line, lines[i + 1]]
        out += _indented_block(source, indent + "  ")
        if key["key"] == "ZipFile":
            sizes[marker["source"]] = len(source.rstrip("\n") + "\n")
        # skip the old block: blank lines and lines indented deeper than the key
        j = i + 2
        while j < len(lines):
            current = lines[j]
            if current.strip() and not current.startswith(indent + " "):
                break
            if not current.strip():
                # a blank run belongs to the block only if the block continues after it
                k = j
                while k < len(lines) and not lines[k].strip():
                    k += 1
                if k == len(lines) or not lines[k].startswith(indent + " "):
                    break
            j += 1
        i = j
    return "\n".join(out), sizes


def to_json(yaml_text: str) -> str:
    from cfn_flip import to_json as flip_to_json

    return flip_to_json(yaml_text).rstrip("\n") + "\n"


def expected_outputs() -> dict[Path, str]:
    """The contents pipeline.yaml and pipeline.json must have; raises BuildError."""
    rendered, sizes = render_template(TEMPLATE.read_text(encoding="utf-8"))
    too_big = {src: n for src, n in sizes.items() if n > ZIPFILE_LIMIT}
    if too_big:
        raise BuildError(f"inline code over {ZIPFILE_LIMIT} characters: {too_big}")
    return {TEMPLATE: rendered, TEMPLATE_JSON: to_json(rendered)}


def stale_files() -> list[Path]:
    """Generated files whose content differs from what the build would write."""
    return [
        path
        for path, content in expected_outputs().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != content
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a generated file is stale")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_files()
            for path in stale:
                print(f"out of date: {path.relative_to(HERE.parent)}", file=sys.stderr)
            if stale:
                print("run: python reference_stack/build.py", file=sys.stderr)
            return 1 if stale else 0
        for path, content in expected_outputs().items():
            if not path.is_file() or path.read_text(encoding="utf-8") != content:
                path.write_text(content, encoding="utf-8")
                print(f"wrote {path.relative_to(HERE.parent)}")
    except BuildError as exc:
        print(f"build error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
