"""Glue jobs: tuning (category `glue-tuning`) and script delivery (category `glue-script`).

Tuning rules apply to Spark jobs (`Command.Name` `glueetl`, the default, and `gluestreaming`).
Python shell and Ray jobs size and version themselves differently and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    Context,
    Resource,
    Severity,
    Unresolved,
    Variant,
    Violation,
    mapping_or_empty,
    rule,
    script_deliverers,
    script_location,
)

JOB = "AWS::Glue::Job"
SPARK_COMMANDS = frozenset({"glueetl", "gluestreaming"})


def command_name(ctx: Context, properties: Mapping[str, Any]) -> str | Unresolved:
    command = properties.get("Command")
    name = command.get("Name", "glueetl") if isinstance(command, dict) else "glueetl"
    resolved = ctx.resolve(name)
    return resolved if isinstance(resolved, (str, Unresolved)) else "glueetl"


def is_spark_job(ctx: Context, job: Resource, variant: Variant) -> bool:
    """True for Spark jobs (and for jobs whose command cannot be known: checked as Spark)."""
    name = command_name(ctx, variant.properties)
    return isinstance(name, Unresolved) or name in SPARK_COMMANDS


TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
_DYNAMODB = re.compile(r"dynamo\s*db|:dynamodb:", re.IGNORECASE)
_SOURCE_KEY = re.compile(r"source|input", re.IGNORECASE)


def _names_dynamodb_table(ctx: Context, value: Any) -> bool:
    """A table of the stack, text with `:dynamodb:`, or a parameter that asks for a
    DynamoDB table (its description, pattern or default says so)."""
    target = ctx.ref_target(value)
    if target is not None and ctx.template.resources[target].type in TABLE_TYPES:
        return True
    name = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
    parameter = ctx.template.parameters.get(name) if isinstance(name, str) else None
    if parameter is not None:
        texts = [parameter.raw.get(k) for k in ("Description", "AllowedPattern", "Default")]
        return any(isinstance(t, str) and _DYNAMODB.search(t) for t in texts)
    resolved = ctx.resolve(value)
    return isinstance(resolved, str) and ":dynamodb:" in resolved


def is_full_load(ctx: Context, variant: Variant) -> bool:
    """The job's source argument (`--SOURCE_TABLE_ARN`, `--input_table`) names a DynamoDB
    table: each run loads the whole table (an export), which job bookmarks cannot track
    (they follow S3 and JDBC sources) and which an automatic retry would load again."""
    arguments = variant.properties.get("DefaultArguments")
    return isinstance(arguments, dict) and any(
        isinstance(key, str) and _SOURCE_KEY.search(key) and _names_dynamodb_table(ctx, value)
        for key, value in arguments.items())


def _version(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return None


# ---------------------------------------------------------------------------- version


def _check_version(ctx: Context, job: Resource, variant: Variant) -> Iterator[Violation]:
    if not is_spark_job(ctx, job, variant):
        return
    minimum = str(ctx.option("minimum_version"))
    resolved = ctx.read_text(variant.properties.get("GlueVersion"), variant.scenario,
                             what="GlueVersion")
    if resolved is None:
        yield Violation(f"Glue job `{job.logical_id}` has no GlueVersion: it runs an old "
                        f"default runtime (want {minimum} or later)", job.path)
        return
    path = job.at("Properties", "GlueVersion")
    if isinstance(resolved, Unresolved):
        yield Violation(f"Glue job `{job.logical_id}` GlueVersion cannot be checked because "
                        f"{resolved.reason}", path)
        return
    have, want = _version(resolved), _version(minimum)
    if have is None or want is None or have < want:
        yield Violation(f"Glue job `{job.logical_id}` uses GlueVersion {resolved} (want "
                        f"{minimum} or later)", path)


@rule(code="GLU001", name="glue-version-current", severity=Severity.WARNING,
      category="glue-tuning", resource_types=(JOB,), options={"minimum_version": "4.0"})
def glue_version_current(ctx: Context) -> Iterator[Violation]:
    """Glue Spark job runs an old or default Glue version.

    ## What it does
    Requires `GlueVersion` on Spark jobs (`glueetl`, `gluestreaming`) and compares it, from a
    literal or a parameter default, with `minimum_version`.

    ## Why is this bad?
    Old Glue versions run old Spark and Python, start slower (no fast start before 2.0), lack
    auto scaling (before 3.0) and reach end of support; a job without `GlueVersion` falls back
    to the oldest runtime.

    ## Example
    ```yaml
    Resources:
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          GlueVersion: "2.0"
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
    ```

    ## Use instead
    ```yaml
    Resources:
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          GlueVersion: "4.0"
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
    ```

    ## Options
    - `minimum_version` (string, default `"4.0"`).

    ## References
    - [AWS Glue versions](https://docs.aws.amazon.com/glue/latest/dg/release-notes.html)
    """
    for job in ctx.resources():
        yield from ctx.each_variant(job, lambda v, j=job: _check_version(ctx, j, v))


# ---------------------------------------------------------------------------- capacity


def _check_capacity(ctx: Context, job: Resource, variant: Variant) -> Iterator[Violation]:
    if not is_spark_job(ctx, job, variant):
        return
    props = variant.properties
    missing = [p for p in ("WorkerType", "NumberOfWorkers") if props.get(p) is None]
    if not missing:
        return
    legacy = [p for p in ("MaxCapacity", "AllocatedCapacity") if props.get(p) is not None]
    how = f" (it sizes itself with {legacy[0]})" if legacy else ""
    yield Violation(f"Glue job `{job.logical_id}` does not set "
                    + " and ".join(missing) + how,
                    job.at("Properties", legacy[0]) if legacy else job.path)


@rule(code="GLU002", name="glue-worker-capacity", severity=Severity.WARNING,
      category="glue-tuning", resource_types=(JOB,))
def glue_worker_capacity(ctx: Context) -> Iterator[Violation]:
    """Glue Spark job does not choose its worker type and count.

    ## What it does
    Requires `WorkerType` and `NumberOfWorkers` on Spark jobs; `MaxCapacity` or
    `AllocatedCapacity` (DPUs of the default worker) do not count.

    ## Why is this bad?
    Without an explicit worker type the job runs on the default `G.1X`-equivalent capacity:
    memory-heavy transformations spill or fail, and capacity cannot be planned or scaled.

    ## Example
    ```yaml
    Resources:
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          MaxCapacity: 10
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
    ```

    ## Use instead
    ```yaml
    Resources:
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          WorkerType: G.2X
          NumberOfWorkers: 10
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
    ```

    ## References
    - [AWS::Glue::Job WorkerType](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-glue-job.html#cfn-glue-job-workertype)
    - [Defining job properties for Spark jobs](https://docs.aws.amazon.com/glue/latest/dg/add-job.html)
    """
    for job in ctx.resources():
        yield from ctx.each_variant(job, lambda v, j=job: _check_capacity(ctx, j, v))


# --------------------------------------------------------------------------- arguments


def _requirements(ctx: Context) -> list[tuple[str, str | None]]:
    """The `required_arguments` option as (argument, wanted value or None for "not false")."""
    result = []
    for entry in ctx.option("required_arguments"):
        name, eq, value = str(entry).partition("=")
        result.append((name.strip(), value.strip() if eq else None))
    return result


def _check_arguments(ctx: Context, job: Resource, variant: Variant) -> Iterator[Violation]:
    name = command_name(ctx, variant.properties)
    if not (isinstance(name, Unresolved) or name in SPARK_COMMANDS):
        return
    arguments: dict[str, Any] = {}
    for key in ("DefaultArguments", "NonOverridableArguments"):
        value = variant.properties.get(key)
        if isinstance(value, dict):
            arguments.update(value)
    present = variant.properties.get("DefaultArguments") is not None
    where = job.at("Properties", "DefaultArguments") if present else job.path
    for argument, wanted in _requirements(ctx):
        if argument == "--job-bookmark-option" and (
                name == "gluestreaming" or is_full_load(ctx, variant)):
            continue  # streaming jobs keep checkpoints; full loads have nothing to bookmark
        if argument not in arguments:
            what = f"`{argument}` to `{wanted}`" if wanted else f"`{argument}`"
            yield Violation(f"Glue job `{job.logical_id}` does not set {what}", where,
                            key=argument)
            continue
        value = ctx.resolve(arguments[argument], variant.scenario)
        path = job.at("Properties", "DefaultArguments", argument) \
            if argument in mapping_or_empty(variant.properties.get("DefaultArguments")) else where
        if isinstance(value, Unresolved):
            yield Violation(f"Glue job `{job.logical_id}` argument `{argument}` cannot be "
                            f"checked because {value.reason}", path, key=argument)
            continue
        text = str(value).lower()
        if (wanted is not None and text != wanted.lower()) or (wanted is None
                                                               and text == "false"):
            yield Violation(f"Glue job `{job.logical_id}` sets `{argument}` to `{value}`"
                            + (f" (want `{wanted}`)" if wanted else ""), path, key=argument)


@rule(code="GLU003", name="glue-job-arguments", severity=Severity.WARNING,
      category="glue-tuning", resource_types=(JOB,),
      options={"required_arguments": ["--enable-auto-scaling=true", "--enable-metrics",
                                      "--enable-continuous-cloudwatch-log=true",
                                      "--job-bookmark-option=job-bookmark-enable"]})
def glue_job_arguments(ctx: Context) -> Iterator[Violation]:
    """Glue Spark job lacks auto scaling, metrics, continuous logging or job bookmarks.

    ## What it does
    Reads `DefaultArguments` (and `NonOverridableArguments`) of Spark jobs in every condition
    scenario and checks each entry of `required_arguments`: `name=value` requires that value
    (case-insensitive, parameter defaults resolved), a bare `name` requires the argument with
    any value but `false`. Streaming jobs are not asked for `--job-bookmark-option`, nor
    are full loads: jobs whose source argument (a key with `source` or `input`) names a
    DynamoDB table (a table of the stack, a `:dynamodb:` ARN, or a parameter described as
    one): bookmarks track S3 and JDBC sources only, and each run reads the whole table.

    ## Why is this bad?
    Without auto scaling the job pays for its peak worker count on every run; without job
    metrics and continuous logging a slow or stuck run cannot be diagnosed while it runs; without
    bookmarks every run reprocesses all input, duplicating output and cost.

    ## Example
    ```yaml
    Resources:
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
          DefaultArguments:
            "--job-bookmark-option": job-bookmark-disable
    ```

    ## Use instead
    ```yaml
    Resources:
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
          DefaultArguments:
            "--enable-auto-scaling": "true"
            "--enable-metrics": "true"
            "--enable-continuous-cloudwatch-log": "true"
            "--job-bookmark-option": job-bookmark-enable
    ```

    ## Options
    - `required_arguments` (list): `name=value` or `name` entries.

    ## References
    - [Glue job parameters](https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-glue-arguments.html)
    - [Using auto scaling for AWS Glue](https://docs.aws.amazon.com/glue/latest/dg/auto-scaling.html)
    - [Tracking processed data using job bookmarks](https://docs.aws.amazon.com/glue/latest/dg/monitor-continuations.html)
    """
    for job in ctx.resources():
        yield from ctx.each_variant(job, lambda v, j=job: _check_arguments(ctx, j, v))


# ---------------------------------------------------------------------- timeout, retries


def _check_limits(ctx: Context, job: Resource, variant: Variant) -> Iterator[Violation]:
    for prop, why in (("Timeout", "a stuck run holds its workers for up to 48 hours"),
                      ("MaxRetries", "whether a failed run is retried is left to the "
                                     "default")):
        if prop == "MaxRetries" and is_full_load(ctx, variant):
            continue  # the default of no retry is right: a retry would load everything again
        if variant.properties.get(prop) is None:
            yield Violation(f"Glue job `{job.logical_id}` does not set {prop}: {why}",
                            job.path, key=prop)


@rule(code="GLU004", name="glue-job-timeout-retries", severity=Severity.WARNING,
      category="glue-tuning", resource_types=(JOB,))
def glue_job_timeout_retries(ctx: Context) -> Iterator[Violation]:
    """Glue job leaves its timeout or retry count to the defaults.

    ## What it does
    Requires `Timeout` (minutes) and `MaxRetries` on every Glue job, in every condition
    scenario. A full load (a job whose source argument names a DynamoDB table, see GLU003)
    is not asked for `MaxRetries`: its default of no retry is the right choice, since a
    retry would load the whole table again.

    ## Why is this bad?
    The default timeout is 48 hours (2,880 minutes) for most job types: a run stuck on a skewed
    partition bills its workers for two days. Retries decide whether a transient failure heals
    itself or pages someone; the default should be a decision.

    ## Example
    ```yaml
    Resources:
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
    ```

    ## Use instead
    ```yaml
    Resources:
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
          Timeout: 120
          MaxRetries: 1
    ```

    ## References
    - [AWS::Glue::Job](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-glue-job.html)
    """
    for job in ctx.resources():
        yield from ctx.each_variant(job, lambda v, j=job: _check_limits(ctx, j, v))


# ---------------------------------------------------------------------- script delivery


def _check_script(ctx: Context, job: Resource, variant: Variant) -> Iterator[Violation]:
    location = script_location(ctx, variant.properties)
    if location is None:
        return  # the script lives outside the stack's buckets, or cannot be read
    if not script_deliverers(ctx, job, location):
        yield Violation(f"Glue job `{job.logical_id}` runs `{location.key}` from bucket "
                        f"`{location.bucket.logical_id}` of this stack, but nothing in the "
                        "stack uploads that script",
                        job.at("Properties", "Command", "ScriptLocation"))


@rule(code="GLU010", name="glue-script-delivered", severity=Severity.ERROR,
      category="glue-script", resource_types=(JOB,))
def glue_script_delivered(ctx: Context) -> Iterator[Violation]:
    """Glue job's script lives in a bucket of the stack that nothing fills.

    ## What it does
    Reads `Command.ScriptLocation` (literal, `Fn::Sub`, `Fn::Join`, parameter defaults
    resolved). When it points into a bucket of this stack (`s3://${Bucket}/key`, a `Ref`
    inside a Join, or the bucket's literal `BucketName`), some custom resource
    (`Custom::*`, `AWS::CloudFormation::CustomResource`) or Lambda function of the stack must
    refer to that bucket and mention the key (the whole key or its file name) in its
    properties. Locations outside the stack's buckets are not this rule's business.

    ## Why is this bad?
    A bucket created by the stack starts empty. The job deploys fine and fails on its first
    run with "script not found"; someone then uploads the script by hand, and the next
    environment fails the same way.

    ## Example
    ```yaml
    Resources:
      Artifacts:
        Type: AWS::S3::Bucket
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: !Sub "s3://${Artifacts}/scripts/etl.py"}
    ```

    ## Use instead
    ```yaml
    Resources:
      Artifacts:
        Type: AWS::S3::Bucket
      ScriptUpload:
        Type: Custom::GlueScript
        Properties:
          ServiceToken: arn:aws:lambda:eu-west-1:123456789012:function:upload-script
          Bucket: !Ref Artifacts
          Key: scripts/etl.py
          ScriptBody: "print('etl')"
      Etl:
        Type: AWS::Glue::Job
        DependsOn: ScriptUpload
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: !Sub "s3://${Artifacts}/scripts/etl.py"}
    ```

    ## Known problems
    A delivery mechanism outside the template (a CI step running `aws s3 cp`) is invisible;
    suppress the finding with that reason. A deliverer that names the bucket only by a literal
    string is not found (the graph sees references only).

    ## References
    - [AWS::Glue::Job JobCommand](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-glue-job-jobcommand.html)
    - [Custom resources](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-custom-resources.html)
    """
    for job in ctx.resources():
        yield from ctx.each_variant(job, lambda v, j=job: _check_script(ctx, j, v))
