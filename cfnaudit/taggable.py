"""Which resource types take tags, through which property, in which form.

The data comes from `data/taggable_types.json`, generated from the CloudFormation resource
provider schemas by `tools/generate_taggable_types.py` (see that script for what counts as
taggable). It is read once, on first use, so scans that never ask pay nothing.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Literal

TagForm = Literal["list", "map"]


@dataclass(frozen=True, slots=True)
class TagProperty:
    """`name` is the property that carries tags (usually `Tags`); `form` is "list" for
    `[{Key, Value}, ...]` and "map" for `{key: value}`."""

    name: str
    form: TagForm


@functools.cache
def _table() -> dict[str, TagProperty]:
    text = resources.files("cfnaudit").joinpath("data", "taggable_types.json").read_text(
        encoding="utf-8")
    table: dict[str, TagProperty] = {}
    for type_name, entry in json.loads(text)["types"].items():
        form = entry["form"]
        if form in ("list", "map"):
            table[type_name] = TagProperty(entry["property"], form)
    return table


def tag_property(resource_type: str) -> TagProperty | None:
    """How `resource_type` takes tags, or None when it is not taggable (or not known: custom
    resources, SAM and third-party types are never treated as taggable)."""
    return _table().get(resource_type)


def taggable_types() -> frozenset[str]:
    return frozenset(_table())
