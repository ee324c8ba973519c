"""DynamoDB tables: time to live and point-in-time recovery."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    Context,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Violation,
    holds_passing_records,
    is_connection_table,
    is_ephemeral_table,
    is_true,
    named_as_results,
    rule,
)

TABLE = "AWS::DynamoDB::Table"
GLOBAL_TABLE = "AWS::DynamoDB::GlobalTable"


def _selected(logical_id: str, patterns: Any) -> bool:
    return any(fnmatch.fnmatchcase(logical_id, str(p)) for p in patterns)


@rule(code="DDB001", name="dynamodb-time-to-live", severity=Severity.WARNING,
      category="dynamodb-ttl", resource_types=(TABLE, GLOBAL_TABLE), options={"tables": []})
def time_to_live(ctx: Context) -> Iterator[Violation]:
    """DynamoDB table keeps every item forever.

    ## What it does
    Checks that every `AWS::DynamoDB::Table` and `AWS::DynamoDB::GlobalTable` that keeps
    records of something that passes sets `TimeToLiveSpecification` with `Enabled: true` and
    an `AttributeName`, in every condition scenario (parameter defaults resolved). Such a
    table is recognised by its logical id, `TableName` or key attributes: connections,
    sessions, runs and executions, workflow state, lineage, checkpoints, de-duplication or
    idempotency keys, locks, leases, cache entries, events, tokens, callbacks. Entity and
    reference tables (users, orders, one item per device) are not asked: expiring their
    items would delete live data. Nor is a table whose logical id or `TableName` calls it a
    store of results or data (`ProcessedDataTable`, `job-results`) and names nothing passing:
    its name outweighs a key called `execution_id`. Tables matching the `tables` patterns
    are checked too.

    ## Why is this bad?
    Pipeline tables (lineage records, checkpoints, deduplication keys, job state) grow with
    every file processed. Without a TTL they grow forever: storage cost rises, scans and
    backups slow down, and data is kept past its retention period. TTL deletes expired items
    at no write cost.

    ## Example
    ```yaml
    Resources:
      Lineage:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
    ```

    ## Use instead
    ```yaml
    Resources:
      Lineage:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
          TimeToLiveSpecification:
            AttributeName: expires_at
            Enabled: true
    ```

    ## Options
    - `tables` (default `[]`): shell-style patterns of logical ids of further tables that
      need a TTL, e.g. `--option DDB001.tables=Positions*`; `["*"]` checks every table.

    ## References
    - [Expiring items with DynamoDB Time to Live](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html)
    - [AWS::DynamoDB::Table TimeToLiveSpecification](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-table-timetolivespecification.html)
    """
    patterns = ctx.option("tables")
    for table in ctx.resources():
        passing = holds_passing_records(ctx, table) and not named_as_results(ctx, table)
        if passing or _selected(table.logical_id, patterns):
            yield from ctx.each_variant(table, lambda v, t=table: _check_ttl(
                ctx, t, v.scenario, v.properties))


def _check_ttl(ctx: Context, table: Resource, scenario: Scenario,
               props: Mapping[str, Any]) -> Iterator[Violation]:
    name = table.logical_id
    spec = ctx.resolve(props.get("TimeToLiveSpecification"), scenario)
    if spec is None:
        yield Violation(f"Table `{name}` has no time to live", table.path)
        return
    path = table.at("Properties", "TimeToLiveSpecification")
    if isinstance(spec, Unresolved):
        yield Violation(f"Time to live of table `{name}` cannot be checked because "
                        f"{spec.reason}", path)
        return
    enabled = ctx.resolve(spec.get("Enabled"), scenario) if isinstance(spec, dict) else None
    attribute = (ctx.resolve(spec.get("AttributeName"), scenario) if isinstance(spec, dict)
                 else None)
    for value in (enabled, attribute):
        if isinstance(value, Unresolved):
            yield Violation(f"Time to live of table `{name}` cannot be checked because "
                            f"{value.reason}", path)
            return
    if not is_true(enabled):
        yield Violation(f"Table `{name}` does not enable its time to live", path)
    elif not attribute:
        yield Violation(f"Time to live of table `{name}` names no attribute", path)


@rule(code="DDB002", name="dynamodb-point-in-time-recovery", severity=Severity.WARNING,
      category="dynamodb-pitr", resource_types=(TABLE, GLOBAL_TABLE))
def point_in_time_recovery(ctx: Context) -> Iterator[Violation]:
    """DynamoDB table has no point-in-time recovery.

    ## What it does
    Checks that every `AWS::DynamoDB::Table` sets
    `PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: true`, and that every
    replica of an `AWS::DynamoDB::GlobalTable` does, in every condition scenario (parameter
    defaults resolved).

    ## Why is this bad?
    A faulty deployment or a bad batch job can overwrite or delete items in seconds. Without
    point-in-time recovery the only way back is the last on-demand backup, if there is one;
    with it, the table can be restored to any second of the last 35 days.

    Ephemeral tables are exempt: a table that already expires its items (time to live
    enabled) and whose partition key or name is a connection, session, token, execution or
    callback holds only correlation state that a restore would bring back stale. A table
    keyed or named by a connection id (a websocket connection table) is exempt with or
    without a time to live (its missing TTL is DDB001's finding), unless its name calls it a
    store of results or data.

    ## Example
    ```yaml
    Resources:
      Positions:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
    ```

    ## Use instead
    ```yaml
    Resources:
      Positions:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
          PointInTimeRecoverySpecification:
            PointInTimeRecoveryEnabled: true
    ```

    ## References
    - [Point-in-time recovery for DynamoDB](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html)
    - [AWS::DynamoDB::Table PointInTimeRecoverySpecification](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-table-pointintimerecoveryspecification.html)
    """
    for table in ctx.resources():
        if is_ephemeral_table(ctx, table) or is_connection_table(ctx, table):
            continue
        yield from ctx.each_variant(table, lambda v, t=table: _check_pitr(
            ctx, t, v.scenario, v.properties))


def _check_pitr(ctx: Context, table: Resource, scenario: Scenario,
                props: Mapping[str, Any]) -> Iterator[Violation]:
    if table.type == GLOBAL_TABLE:
        replicas = ctx.resolve(props.get("Replicas"), scenario)
        for index, replica in enumerate(replicas if isinstance(replicas, list) else []):
            if isinstance(replica, dict):
                region = ctx.resolve(replica.get("Region"), scenario)
                label = f"replica `{region}`" if isinstance(region, str) else "a replica"
                yield from _pitr_of(ctx, table, scenario, replica,
                                    ("Properties", "Replicas", index), f" in {label}")
    else:
        yield from _pitr_of(ctx, table, scenario, props, ("Properties",), "")


def _pitr_of(ctx: Context, table: Resource, scenario: Scenario, holder: Mapping[str, Any],
             where: tuple[Any, ...], label: str) -> Iterator[Violation]:
    name = table.logical_id
    spec = ctx.resolve(holder.get("PointInTimeRecoverySpecification"), scenario)
    if spec is None:
        path = table.at(*where) if len(where) > 1 else table.path
        yield Violation(f"Table `{name}` has no point-in-time recovery{label}", path)
        return
    path = table.at(*where, "PointInTimeRecoverySpecification")
    enabled = (ctx.resolve(spec.get("PointInTimeRecoveryEnabled"), scenario)
               if isinstance(spec, dict) else spec)
    if isinstance(enabled, Unresolved):
        yield Violation(f"Point-in-time recovery of table `{name}`{label} cannot be checked "
                        f"because {enabled.reason}", path)
    elif not is_true(enabled):
        yield Violation(f"Table `{name}` does not enable point-in-time recovery{label}", path)
