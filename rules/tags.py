"""Required tags on every taggable resource (category `tags-required`).

Which types take tags, through which property and in which form (a `[{Key, Value}]` list or a
`{key: value}` map) comes from the table generated from the CloudFormation resource provider
schemas (`cfnaudit/data/taggable_types.json`, see `tools/generate_taggable_types.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnaudit.rule import (
    Context,
    Resource,
    Severity,
    TagProperty,
    Unresolved,
    Variant,
    Violation,
    is_macro_output,
    is_true,
    parse_json_text,
    rule,
    tag_property,
)


def _list_keys(ctx: Context, tags: list[Any], variant: Variant) -> tuple[set[str], list[str]]:
    keys: set[str] = set()
    unknown: list[str] = []
    for tag in tags:
        if not isinstance(tag, dict):
            continue
        key = ctx.resolve(tag.get("Key"), variant.scenario)
        if isinstance(key, Unresolved):
            unknown.append(key.reason)
        elif isinstance(key, str):
            keys.add(key)
    return keys, unknown


def _map_keys(value: Any) -> set[str] | None:
    if isinstance(value, str):  # JSON-typed Tags (Glue and others) may be a JSON string
        try:
            value = parse_json_text(value)
        except ValueError:
            return None
    if isinstance(value, dict) and not (len(value) == 1 and _is_intrinsic_key(next(iter(value)))):
        return {str(k) for k in value}
    return None


def _is_intrinsic_key(key: str) -> bool:
    return key == "Ref" or key.startswith("Fn::")


def tag_keys(ctx: Context, prop: TagProperty, value: Any, variant: Variant
             ) -> tuple[set[str], list[str]]:
    """The tag keys a resource carries, and why some of them cannot be known."""
    if prop.form == "list":
        if isinstance(value, list):
            return _list_keys(ctx, value, variant)
        resolved = ctx.resolve(value, variant.scenario)
        if isinstance(resolved, list):
            return _list_keys(ctx, resolved, variant)
        return set(), [resolved.reason if isinstance(resolved, Unresolved)
                       else "the tags are not a list"]
    keys = _map_keys(value)
    if keys is not None:
        return keys, []
    resolved = ctx.resolve(value, variant.scenario)
    keys = _map_keys(resolved)
    if keys is not None:
        return keys, []
    return set(), [resolved.reason if isinstance(resolved, Unresolved)
                   else "the tags are not a mapping"]


def _check(ctx: Context, resource: Resource, prop: TagProperty, variant: Variant
           ) -> Iterator[Violation]:
    required = [str(t) for t in ctx.option("required_tags")]
    what = f"`{resource.logical_id}` ({resource.type})"
    value = variant.properties.get(prop.name)
    if value is None:
        if required:
            yield Violation(f"{what} has no {prop.name}: required tags "
                            f"{_names(required)} are missing", resource.path)
        return
    if is_macro_output(value, ctx.template):
        return  # a macro writes the tags at deployment: nothing here to check or fix
    keys, unknown = tag_keys(ctx, prop, value, variant)
    missing = [t for t in required if t not in keys]
    if not missing:
        return
    path = resource.at("Properties", prop.name)
    if unknown:
        yield Violation(f"{what} tags cannot be checked because {unknown[0]}", path)
    else:
        noun = "tag" if len(missing) == 1 else "tags"
        yield Violation(f"{what} lacks required {noun} {_names(missing)}", path)


def _names(tags: list[str]) -> str:
    return ", ".join(f"`{t}`" for t in tags)


@rule(code="TAG001", name="required-tags", severity=Severity.WARNING,
      category="tags-required",
      options={"required_tags": ["Environment", "CostCenter"], "stack_tags": False})
def required_tags(ctx: Context) -> Iterator[Violation]:
    """Taggable resource lacks a required tag.

    ## What it does
    For every resource whose type the CloudFormation provider schemas declare taggable, reads
    its tag property (`Tags`, or the schema's own name such as `UserPoolTags`) in the schema's
    form, a `[{Key, Value}]` list or a `{key: value}` map (Glue's JSON `Tags` may also be a
    JSON string), in every condition scenario (`Fn::If` around the whole property or single
    tags), and reports the tags of `required_tags` that are missing. Keys that come from
    parameters are resolved through their defaults. Types that cannot be tagged (for example
    `AWS::Lambda::Permission`), custom resources and SAM types are never flagged, nor are tags
    that a macro writes at deployment (`Fn::Transform`, or a macro script such as PyPlate's
    `#!PyPlate` in a template that declares its own macro).

    A template in which no taggable resource carries any tag property gets one finding on its
    `Resources` section naming the resources, not one per resource: it has no tagging at
    all, which is one decision to make (tag in the template, or through the stack's tags).

    ## Why is this bad?
    Costs cannot be allocated and resources cannot be told apart by environment without tags:
    the bill shows one line for the whole pipeline, and a clean-up script cannot tell the dev
    bucket from the prod one.

    ## Example
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          Tags:
            - {Key: Environment, Value: dev}
    ```

    ## Use instead
    ```yaml
    Parameters:
      Environment: {Type: String, Default: dev}
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          Tags:
            - {Key: Environment, Value: !Ref Environment}
            - {Key: CostCenter, Value: market-data}
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
          Tags: {Environment: !Ref Environment, CostCenter: market-data}
      InvokePermission:
        Type: AWS::Lambda::Permission
        Properties:
          Action: lambda:InvokeFunction
          FunctionName: validator
          Principal: s3.amazonaws.com
    ```

    ## Options
    - `required_tags` (list, default `[Environment, CostCenter]`).
    - `stack_tags` (bool, default `false`): the stack's own tags (`aws cloudformation deploy
      --tags`) supply the required tags, so a template that tags nothing is accepted; a
      template that tags some resources is still checked resource by resource.

    ## Known problems
    Tags given to the stack itself (`aws cloudformation deploy --tags`) propagate to most
    resources but are invisible in the template; teams that tag that way set `stack_tags`
    (or `required_tags` to the tags they add in the template).

    ## References
    - [Resource tag property](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html)
    - [Tagging best practices](https://docs.aws.amazon.com/whitepapers/latest/tagging-best-practices/tagging-best-practices.html)
    """
    types = sorted({r.type for r in ctx.template.resources.values() if tag_property(r.type)})
    if not types:
        return
    taggable = [r for r in ctx.resources(*types) if tag_property(r.type) is not None]
    required = [str(t) for t in ctx.option("required_tags")]
    if taggable and required and not _tags_anything(ctx):
        # One problem, one finding: a template that tags nothing has no tagging in it at all
        # (or leaves it to the stack's own tags), not N separate omissions.
        if not is_true(ctx.option("stack_tags")):
            yield _untagged_template(taggable, required)
        return
    for resource in taggable:
        prop = tag_property(resource.type)
        if prop is not None:
            yield from ctx.each_variant(
                resource, lambda v, r=resource, p=prop: _check(ctx, r, p, v))


def _tags_anything(ctx: Context) -> bool:
    """Does the template tag any resource: through a type's tag property, the `Tags` of a SAM
    resource, or SAM's `Globals`?"""
    for resource in ctx.template.resources.values():
        prop = tag_property(resource.type)
        name = prop.name if prop is not None else "Tags"
        if resource.properties.get(name) is not None:
            return True
    globals_ = ctx.template.data.get("Globals")
    return isinstance(globals_, dict) and any(
        isinstance(section, dict) and section.get("Tags") is not None
        for section in globals_.values())


def _untagged_template(taggable: list[Resource], required: list[str]) -> Violation:
    shown = ", ".join(f"`{r.logical_id}`" for r in taggable[:5])
    more = f" and {len(taggable) - 5} more" if len(taggable) > 5 else ""
    count = (f"{len(taggable)} taggable resources" if len(taggable) > 1
             else "1 taggable resource")
    verb = "lack" if len(taggable) > 1 else "lacks"
    return Violation(f"No resource of the template carries tags: {count} ({shown}{more}) {verb} "
                     f"required tags {_names(required)}", ("Resources",), key="untagged")
