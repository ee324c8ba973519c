"""Time-based partitioning of the data lake (category `partitioning`, severity info).

What counts as a time column, for all three rules: a name that, lowercased and split on
`_`, `-`, `.` and spaces, has a word among `year yyyy month mm day dd hour hh minute dt date
datetime ts timestamp time`, or that contains `date`, `year`, `month`, `hour` or `timestamp`
(`event_date`, `eventdate`, `dt`, `ingest_hour`).
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
    render,
    rule,
    script_deliverers,
    script_location,
    sub_variables,
)

TIME_WORDS = frozenset({"year", "yyyy", "month", "mm", "day", "dd", "hour", "hh", "minute",
                        "dt", "date", "datetime", "ts", "timestamp", "time"})
TIME_PARTS = ("date", "year", "month", "hour", "timestamp")
SPARK_COMMANDS = frozenset({"glueetl", "gluestreaming"})
PARTITION_ARGUMENTS = frozenset({"partitionkeys", "partitionkey", "partitionby",
                                 "partitioncolumns", "partitioncolumn", "partitioncols"})


def is_time_column(name: str) -> bool:
    lowered = name.strip().lower()
    words = set(re.split(r"[_\-. ]+", lowered))
    return bool(words & TIME_WORDS) or any(part in lowered for part in TIME_PARTS)


def _text(ctx: Context, value: Any, variant: Variant) -> str | Unresolved:
    """A string value, literal where possible; Sub and Join parts known only at deployment
    become `*` (Firehose expressions `!{...}` are plain text to CloudFormation)."""
    resolved = ctx.resolve(value, variant.scenario)
    if isinstance(resolved, (str, int, float)) and not isinstance(resolved, bool):
        return str(resolved)
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) and arg else arg
            if isinstance(text, str):
                for variable in set(sub_variables(text)):
                    text = text.replace("${" + variable + "}", "*")
                return text
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 \
                and isinstance(arg[1], list):
            parts = [_text(ctx, v, variant) for v in arg[1]]
            return str(arg[0]).join(p if isinstance(p, str) else "*" for p in parts)
    return resolved if isinstance(resolved, Unresolved) else Unresolved(
        "the value is not a string")


# ------------------------------------------------------------------------- Glue tables

TIME_TYPES = ("date", "timestamp")


def _may_hold_time(ctx: Context, table_input: dict[str, Any], variant: Variant) -> bool:
    """False when the table declares its columns and none is a date or time: typed `date` or
    `timestamp`, or named like a time column. A table whose columns are not declared (a
    crawler fills them in) may hold anything."""
    descriptor = table_input.get("StorageDescriptor")
    columns = descriptor.get("Columns") if isinstance(descriptor, dict) else None
    if not isinstance(columns, list) or not columns:
        return True
    for column in columns:
        if not isinstance(column, dict):
            return True
        name = ctx.resolve(column.get("Name"), variant.scenario)
        kind = ctx.resolve(column.get("Type"), variant.scenario)
        if not isinstance(name, str) or not isinstance(kind, str):
            return True  # not known before deployment
        if is_time_column(name) or kind.strip().lower().startswith(TIME_TYPES):
            return True
    return False



def _check_table(ctx: Context, table: Resource, variant: Variant) -> Iterator[Violation]:
    table_input = variant.properties.get("TableInput")
    if not isinstance(table_input, dict):
        return
    kind = ctx.resolve(table_input.get("TableType"), variant.scenario)
    if kind == "VIRTUAL_VIEW" or variant.properties.get("OpenTableFormatInput") is not None:
        return  # views hold no data; Iceberg tables partition through their own metadata
    parameters = table_input.get("Parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    projected_dates = {key.split(".")[1] for key, value in parameters.items()
                       if isinstance(key, str) and key.count(".") == 2
                       and key.startswith("projection.") and key.endswith(".type")
                       and str(ctx.resolve(value, variant.scenario)).lower() == "date"}
    keys = table_input.get("PartitionKeys")
    names = [str(ctx.resolve(k.get("Name"), variant.scenario))
             for k in (keys if isinstance(keys, list) else []) if isinstance(k, dict)]
    if any(is_time_column(n) or n in projected_dates for n in names):
        return
    if not _may_hold_time(ctx, table_input, variant):
        return  # no date or time column to partition by
    if not names:
        yield Violation(f"Glue table `{table.logical_id}` has no partition keys: every query "
                        "scans all of its data", table.at("Properties", "TableInput"))
    else:
        listed = ", ".join(f"`{n}`" for n in names)
        yield Violation(f"Glue table `{table.logical_id}` partitions by {listed}, none of "
                        "them a date or time column",
                        table.at("Properties", "TableInput", "PartitionKeys"))


@rule(code="PRT001", name="glue-table-time-partitions", severity=Severity.WARNING,
      category="partitioning", resource_types=("AWS::Glue::Table",))
def glue_table_time_partitions(ctx: Context) -> Iterator[Violation]:
    """Glue table is not partitioned by date or time.

    ## What it does
    Reads `TableInput.PartitionKeys` of every `AWS::Glue::Table` and requires a time column
    (see the module docs: `year`, `month`, `day`, `hour`, `dt`, `date`, `event_date`, ...) or
    a partition-projection column of type `date` (`projection.<column>.type: date` in
    `TableInput.Parameters`). Views (`TableType: VIRTUAL_VIEW`) and Iceberg tables
    (`OpenTableFormatInput`) are left out, and so are tables whose declared
    `StorageDescriptor.Columns` hold no date or time (no column typed `date` or `timestamp`,
    none named like a time column): there is no time to partition by. A table that declares
    no columns (a crawler fills them in) is still checked.

    ## Why is this bad?
    Queries on market data almost always filter by time. Without time partitions Athena and
    Spark read the whole table for a one-hour question: slow, and billed per byte scanned.

    ## Example
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Glue::Table
        Properties:
          CatalogId: !Ref AWS::AccountId
          DatabaseName: lake
          TableInput:
            Name: ticks
            PartitionKeys: [{Name: symbol, Type: string}]
    ```

    ## Use instead
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Glue::Table
        Properties:
          CatalogId: !Ref AWS::AccountId
          DatabaseName: lake
          TableInput:
            Name: ticks
            PartitionKeys: [{Name: dt, Type: string}, {Name: hour, Type: string}]
    ```

    ## References
    - [Partitioning data in Athena](https://docs.aws.amazon.com/athena/latest/ug/partitions.html)
    - [Partition projection](https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html)
    """
    for table in ctx.resources():
        yield from ctx.each_variant(table, lambda v, t=table: _check_table(ctx, t, v))


# --------------------------------------------------------------------- Firehose prefixes

_EXPRESSION = re.compile(r"!\{(timestamp|partitionKeyFromQuery|partitionKeyFromLambda):([^}]*)\}")


def _check_stream(ctx: Context, stream: Resource, variant: Variant) -> Iterator[Violation]:
    for destination in ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration"):
        config = variant.properties.get(destination)
        if not isinstance(config, dict):
            continue
        prefix = config.get("Prefix")
        if prefix is None or prefix == "":
            yield Violation(f"Delivery stream `{stream.logical_id}` has no S3 Prefix: objects "
                            "land under Firehose's default yyyy/MM/dd/HH layout, which query "
                            "engines do not read as partitions",
                            stream.at("Properties", destination, "Prefix"))
            continue
        text = _text(ctx, prefix, variant)
        path = stream.at("Properties", destination, "Prefix")
        if isinstance(text, Unresolved):
            yield Violation(f"Delivery stream `{stream.logical_id}` Prefix cannot be checked "
                            f"because {text.reason}", path)
            continue
        if not any(kind == "timestamp" or is_time_column(name)
                   for kind, name in _EXPRESSION.findall(text)):
            yield Violation(f"Delivery stream `{stream.logical_id}` Prefix `{text}` declares no "
                            "`!{timestamp:...}` partition", path)


@rule(code="PRT002", name="firehose-timestamp-prefix", severity=Severity.WARNING,
      category="partitioning", resource_types=("AWS::KinesisFirehose::DeliveryStream",))
def firehose_timestamp_prefix(ctx: Context) -> Iterator[Violation]:
    """Firehose S3 prefix declares no time-based partition.

    ## What it does
    For delivery streams with an `ExtendedS3DestinationConfiguration` or
    `S3DestinationConfiguration`, requires a `Prefix` with a `!{timestamp:...}` expression, or
    a dynamic-partitioning key (`!{partitionKeyFromQuery:...}`,
    `!{partitionKeyFromLambda:...}`) whose name is a time column. The prefix is read through
    `Fn::Sub` and `Fn::Join` and parameter defaults.

    ## Why is this bad?
    Without a declared prefix Firehose writes `yyyy/MM/dd/HH/` folders. Glue crawlers and
    Athena see them as anonymous `partition_0..3` columns at best; a Hive-style prefix
    (`dt=!{timestamp:yyyy-MM-dd}/`) gives named, queryable partitions.

    ## Example
    ```yaml
    Resources:
      Delivery:
        Type: AWS::KinesisFirehose::DeliveryStream
        Properties:
          ExtendedS3DestinationConfiguration:
            BucketARN: arn:aws:s3:::raw-123456789012
            RoleARN: arn:aws:iam::123456789012:role/firehose
            Prefix: raw/
    ```

    ## Use instead
    ```yaml
    Resources:
      Delivery:
        Type: AWS::KinesisFirehose::DeliveryStream
        Properties:
          ExtendedS3DestinationConfiguration:
            BucketARN: arn:aws:s3:::raw-123456789012
            RoleARN: arn:aws:iam::123456789012:role/firehose
            Prefix: "raw/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"
            ErrorOutputPrefix: "errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
    ```

    ## References
    - [Custom prefixes for Amazon S3 objects](https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html)
    - [Dynamic partitioning in Firehose](https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html)
    """
    for stream in ctx.resources():
        yield from ctx.each_variant(stream, lambda v, s=stream: _check_stream(ctx, s, v))


# ----------------------------------------------------------------------- Glue job output


def _normalise(argument: str) -> str:
    return re.sub(r"[-_]", "", argument.lstrip("-").lower())


def _check_job(ctx: Context, job: Resource, variant: Variant) -> Iterator[Violation]:
    command = variant.properties.get("Command")
    name = ctx.resolve(command.get("Name", "glueetl") if isinstance(command, dict)
                       else "glueetl", variant.scenario)
    if isinstance(name, str) and name not in SPARK_COMMANDS:
        return
    arguments = variant.properties.get("DefaultArguments")
    arguments = arguments if isinstance(arguments, dict) else {}
    found = [(k, v) for k, v in arguments.items() if _normalise(str(k)) in PARTITION_ARGUMENTS]
    if not found:
        written = _script_partitioning(ctx, job, variant)
        if written is None and _writes_tables(ctx, arguments):
            return  # its data set is a DynamoDB table, not partitioned S3 objects
        if written is None:
            yield Violation(f"Glue job `{job.logical_id}` declares no output partition keys "
                            "(a `--partition_keys` argument)", job.path)
        elif written and not any(is_time_column(c) for c in written):
            listed = ", ".join(f"`{c}`" for c in written)
            yield Violation(f"Glue job `{job.logical_id}`'s script partitions its output by "
                            f"{listed}, no date or time column", job.path)
        return
    argument, value = found[0]
    path = job.at("Properties", "DefaultArguments", argument)
    resolved = ctx.resolve(value, variant.scenario)
    if isinstance(resolved, Unresolved):
        yield Violation(f"Glue job `{job.logical_id}` partition keys cannot be checked because "
                        f"{resolved.reason}", path)
        return
    columns = [c.strip() for c in re.split(r"[,\s]+", str(resolved)) if c.strip()]
    if not any(is_time_column(c) for c in columns):
        listed = ", ".join(f"`{c}`" for c in columns) or "nothing"
        yield Violation(f"Glue job `{job.logical_id}` partitions its output by {listed}, no "
                        "date or time column", path)


# Argument names (normalised) that name an S3 output location, and ones that name a DynamoDB
# table (`--SOURCE_TABLE_ARN`, `--dynamodb_table`).
_S3_OUTPUT_WORDS = ("output", "target", "dest", "sink", "curated", "processed", "write")
_TABLE_WORDS = ("dynamodb", "tablearn", "ddbtable")


def _writes_tables(ctx: Context, arguments: Mapping[str, Any]) -> bool:
    """The job's arguments name DynamoDB tables (by name or value) and no S3 output
    location: it moves data between tables, and has no S3 data set to partition."""
    tables = False
    for key, value in arguments.items():
        name = _normalise(str(key))
        text = render(value, ctx.template)
        target = ctx.ref_target(value)
        table_value = ":dynamodb:" in text or (
            target is not None and ctx.template.resources[target].type == "AWS::DynamoDB::Table")
        if any(w in name for w in _TABLE_WORDS) or table_value:
            tables = True
        elif any(w in name for w in _S3_OUTPUT_WORDS) or "s3://" in text:
            return False
    return tables


# Partitioned writes in a PySpark or Scala Glue script: `.partitionBy("dt")`, the
# `partitionKeys` connection option, `partition_keys=[...]` / `partition_cols=[...]`.
_PARTITIONED_WRITE = re.compile(
    r"""partitionBy\s*\(([^)]*)\)|["']?partition_?(?:keys|cols)["']?\s*[:=]\s*\[([^\]]*)\]""",
    re.IGNORECASE)
_QUOTED = re.compile(r"""["']([^"'\s,]+)["']""")


def _script_partitioning(ctx: Context, job: Resource, variant: Variant) -> list[str] | None:
    """When the stack uploads the job's script (see GLU010) and the script writes partitioned
    output: the partition columns it names (empty when they are not literal). None when the
    script is not in the stack or writes no partitions."""
    location = script_location(ctx, variant.properties)
    if location is None:
        return None
    columns: list[str] | None = None
    for deliverer in script_deliverers(ctx, job, location):
        for text in _strings(deliverer.properties):
            for match in _PARTITIONED_WRITE.finditer(text):
                columns = columns or []
                columns += _QUOTED.findall(match.group(1) or match.group(2) or "")
    return None if columns is None else list(dict.fromkeys(columns))


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a property value (a script body may sit at any depth)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


@rule(code="PRT003", name="glue-job-partition-keys", severity=Severity.WARNING,
      category="partitioning", resource_types=("AWS::Glue::Job",))
def glue_job_partition_keys(ctx: Context) -> Iterator[Violation]:
    """Glue job does not declare time-based output partition keys.

    ## What it does
    Glue has no standard property for output partitioning; the script reads it from a job
    argument. This rule recognises, in `DefaultArguments` of Spark jobs (`glueetl`,
    `gluestreaming`), an argument whose name without leading dashes, lowercased and with `-`
    and `_` removed is one of `partitionkeys`, `partitionkey`, `partitionby`,
    `partitioncolumns`, `partitioncolumn`, `partitioncols` (so `--partition_keys`,
    `--partition-by`, `--partitionColumns`), and requires its value, a comma- or
    space-separated column list, to name a time column (`event_date`, `dt`, `year`, ...).
    When the stack itself uploads the job's script (a custom resource or function that names
    the script's bucket and key, as GLU010 requires) and that script writes partitioned
    output (`.partitionBy(...)`, `partitionKeys`, `partition_keys=[...]`), the script's own
    partitioning counts, with the same time-column requirement when its columns are literal.

    ## Why is this bad?
    A job that writes its output unpartitioned forces every downstream query to read all of
    it; declaring the keys as an argument also documents, in the template, how the curated
    data is laid out.

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
          DefaultArguments:
            "--partition_keys": event_date,record_type
    ```

    A job whose arguments name DynamoDB tables (`--SOURCE_TABLE_ARN`, a value that is a
    table's ARN or a `Ref` to an `AWS::DynamoDB::Table`) and no S3 location (no `s3://`
    value, no argument named for an output, target, destination or sink) moves data between
    tables: it has no S3 data set to partition and is not asked.

    ## Known problems
    A script uploaded from outside the template (a CI step) cannot be read: declare its
    partitioning as an argument that the script reads, or suppress the finding.

    ## References
    - [Managing partitions for ETL output in AWS Glue](https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-partitions.html)
    """
    for job in ctx.resources():
        yield from ctx.each_variant(job, lambda v, j=job: _check_job(ctx, j, v))
