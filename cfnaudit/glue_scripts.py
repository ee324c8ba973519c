"""Where a Glue job's script comes from, answered once for every rule: the bucket of the stack
and key its `Command.ScriptLocation` points at, and the resources of the stack that upload it
(a custom resource or function that refers to the bucket and names the key). GLU010 asks
whether anything delivers the script; PRT003 reads what the delivered script does."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cfnaudit.intrinsics import sub_variables

if TYPE_CHECKING:
    from cfnaudit.rule import Context
    from cfnaudit.template import Resource

BUCKET = "AWS::S3::Bucket"
DELIVERER_TYPES = ("AWS::CloudFormation::CustomResource", "AWS::Lambda::Function")
_S3_URL = re.compile(r"^s3://([^/]+)/(.+)$")


@dataclass(frozen=True, slots=True)
class ScriptLocation:
    """A job script kept in a bucket of this stack."""

    bucket: Resource
    key: str


def sketch(ctx: Context, value: Any) -> str | None:
    """A string value as Fn::Sub text: references as `${Name}`, parameters with a default
    substituted. None when it is not string-like."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return None
    (key, arg), = value.items()
    if key == "Ref" and isinstance(arg, str):
        literal = ctx.resolve(value)
        return literal if isinstance(literal, str) else "${" + arg + "}"
    if key == "Fn::GetAtt":
        parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
        return "${" + ".".join(str(p) for p in parts) + "}"
    if key == "Fn::Sub":
        text = arg[0] if isinstance(arg, list) and arg else arg
        local = arg[1] if isinstance(arg, list) and len(arg) == 2 else {}
        if not isinstance(text, str):
            return None
        for variable in set(sub_variables(text)):
            replacement = None
            if isinstance(local, dict) and variable in local:
                replacement = sketch(ctx, local[variable])
            elif "." not in variable and variable in ctx.template.parameters:
                literal = ctx.resolve({"Ref": variable})
                replacement = literal if isinstance(literal, str) else None
            if replacement is not None:
                text = text.replace("${" + variable + "}", replacement)
        return text
    if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 \
            and isinstance(arg[1], list):
        parts = [sketch(ctx, v) for v in arg[1]]
        return str(arg[0]).join(p if p is not None else "${?}" for p in parts)
    literal = ctx.resolve(value)
    return literal if isinstance(literal, str) else None


def script_location(ctx: Context, properties: Mapping[str, Any]) -> ScriptLocation | None:
    """The stack's bucket and key of a job's `Command.ScriptLocation` (as in `properties`, one
    scenario's); None when the script lives elsewhere or the location cannot be read."""
    command = properties.get("Command")
    location = command.get("ScriptLocation") if isinstance(command, dict) else None
    if location is None:
        return None
    match = _S3_URL.match(sketch(ctx, location) or "")
    if match is None:
        return None
    bucket_part, key = match.groups()
    head = bucket_part[2:-1].split(".")[0] if bucket_part.startswith("${") else None
    bucket = ctx.template.resources.get(head) if head else _bucket_names(ctx).get(bucket_part)
    if bucket is None or bucket.type != BUCKET:
        return None
    ctx.examine(bucket)
    return ScriptLocation(bucket, key)


def _bucket_names(ctx: Context) -> dict[str, Resource]:
    """Literal bucket names (parameter defaults resolved) of the stack's buckets."""
    names = {}
    for bucket in ctx.template.of_type(BUCKET):
        literal = ctx.resolve(bucket.properties.get("BucketName"))
        if isinstance(literal, str):
            names[literal] = bucket
    return names


def script_deliverers(ctx: Context, job: Resource, location: ScriptLocation) -> list[Resource]:
    """Custom resources and functions of the stack that refer to the script's bucket and
    mention its key (in full, or its file name): what uploads the script."""
    needles = {location.key, location.key.rsplit("/", 1)[-1]} - {""}
    needles = {n for n in needles if "${?}" not in n}
    found = []
    for source in ctx.referring_resources(location.bucket):
        if source.logical_id == job.logical_id or not (
                source.type.startswith("Custom::") or source.type in DELIVERER_TYPES):
            continue
        text = json.dumps(source.properties, default=str)
        if any(n in text for n in needles):
            found.append(source)
    return found
