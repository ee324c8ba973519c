"""Generate cfnaudit/data/taggable_types.json from the CloudFormation resource provider schemas.

Dev-only: the schemas come from cfn-lint (a test dependency), which ships one provider schema per
resource type under `cfnlint/data/schemas/resources/<hash>.json`, indexed per region by
`cfnlint/data/schemas/providers/<region>.py` (`types: {type name: hash}`).

For every type this records whether it is taggable and, if so, the property that carries the
tags and its form:

- `tagging.taggable` decides. A `tagging` block with `taggable: false` means untaggable even when
  a `Tags` property exists (e.g. AWS::EC2::SpotFleet). Older schemas without a `tagging` block are
  taggable when they declare a top-level `Tags` property.
- The property is `tagging.tagProperty` (`/properties/Tags` when absent). Types whose tags sit
  below a list (`/properties/TagSpecifications/*/Tags`) are left out: the rule cannot check them
  with a single property and would otherwise flag them wrongly.
- The form is "list" for an array of `{Key, Value}` objects and "map" for an object of
  key/value pairs (including the JSON-typed `["object", "string"]` Tags of Glue and others).

Regions are merged with us-east-1 first, so a type's entry comes from the first region that has
it. Run: `.venv/bin/python tools/generate_taggable_types.py` (writes the file) or with
`--check` (exits 1 when the committed file is stale).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent.parent / "cfnaudit" / "data" / "taggable_types.json"
FIRST_REGION = "us_east_1"


def _schemas_dir() -> tuple[Path, str]:
    """The cfn-lint schemas directory (a namespace package: no `__file__`) and its version."""
    from importlib.metadata import version

    import cfnlint.data.schemas.providers as providers

    root = Path(next(iter(providers.__path__))).resolve().parent
    return root, version("cfn-lint")


def _regions() -> list[str]:
    import cfnlint.data.schemas.providers as providers

    names = sorted(m.name for m in pkgutil.iter_modules(providers.__path__))
    return [FIRST_REGION, *(n for n in names if n != FIRST_REGION)]


def _type_index() -> dict[str, str]:
    """Type name -> schema hash, first region wins."""
    index: dict[str, str] = {}
    for region in _regions():
        module = importlib.import_module(f"cfnlint.data.schemas.providers.{region}")
        for type_name, digest in module.types.items():
            index.setdefault(type_name, digest)
    return index


def _deref(schema: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 10:
        target: Any = schema
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, seen = target, seen + 1
    return node


def tag_form(schema: dict[str, Any], node: Any) -> str | None:
    """"list" or "map" for a Tags property schema, None when neither shape is recognised."""
    node = _deref(schema, node)
    if not isinstance(node, dict):
        return None
    kind = node.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "array" in kinds or "items" in node:
        return "list"
    if "object" in kinds or "patternProperties" in node or "additionalProperties" in node:
        return "map"
    return None


def describe_type(schema: dict[str, Any]) -> dict[str, str] | None:
    """`{"property": name, "form": "list"|"map"}` for a taggable type, else None."""
    properties = schema.get("properties") or {}
    tagging = schema.get("tagging")
    if isinstance(tagging, dict):
        if not tagging.get("taggable", True):
            return None
        pointer = tagging.get("tagProperty") or "/properties/Tags"
    elif "Tags" in properties:
        pointer = "/properties/Tags"
    else:
        return None
    parts = pointer.strip("/").split("/")
    if len(parts) != 2 or parts[0] != "properties" or parts[1] not in properties:
        return None  # nested (TagSpecifications/*/Tags) or not a property of this schema
    form = tag_form(schema, properties[parts[1]])
    return {"property": parts[1], "form": form} if form else None


def generate() -> dict[str, Any]:
    root, cfnlint_version = _schemas_dir()
    types: dict[str, dict[str, str]] = {}
    untaggable = 0
    for type_name, digest in sorted(_type_index().items()):
        schema = json.loads((root / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
        described = describe_type(schema)
        if described is None:
            untaggable += 1
        else:
            types[type_name] = described
    return {
        "source": f"cfn-lint {cfnlint_version} resource provider schemas",
        "generator": "tools/generate_taggable_types.py",
        "untaggable_count": untaggable,
        "types": types,
    }


def render(data: dict[str, Any]) -> str:
    """Stable JSON with one type per line, so regenerating gives a readable diff."""
    head = {k: v for k, v in sorted(data.items()) if k != "types"}
    lines = ["{"]
    lines += [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lines.append(' "types": {')
    entries = sorted(data["types"].items())
    lines += [f"  {json.dumps(k)}: {json.dumps(v, sort_keys=True)}"
              + ("," if i < len(entries) - 1 else "") for i, (k, v) in enumerate(entries)]
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args(argv)
    text = render(generate())
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale; run tools/generate_taggable_types.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(json.loads(text)['types'])} taggable types)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
