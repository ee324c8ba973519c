"""Stateful resources keep their data when the stack is deleted or the resource replaced.

`DeletionPolicy` and `UpdateReplacePolicy` are read as written, through parameters and
`Fn::If` (allowed with the `AWS::LanguageExtensions` transform). `Retain`,
`RetainExceptOnCreate` and, on types that support it, `Snapshot` keep the data.

Only stores whose loss loses data are asked (the core's `Roles.keeps_data`): a log group that
keeps its events for `log_group_days` or less, or a Kinesis stream that keeps its records for
`stream_hours` or less, holds nothing a deletion would take that its retention would not; a
build-artifact store holds what the next pipeline run rebuilds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnaudit.rule import (
    NO_CONDITIONS,
    Context,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Violation,
    fold,
    rule,
)

STATEFUL_TYPES = [
    "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::KMS::Key",
    "AWS::Kinesis::Stream", "AWS::Logs::LogGroup", "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster", "AWS::EFS::FileSystem", "AWS::FSx::FileSystem", "AWS::EC2::Volume",
    "AWS::ElastiCache::ReplicationGroup", "AWS::Neptune::DBCluster", "AWS::DocDB::DBCluster",
    "AWS::Redshift::Cluster", "AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain",
    "AWS::Backup::BackupVault", "AWS::Cognito::UserPool", "AWS::ECR::Repository",
    "AWS::Timestream::Table", "AWS::QLDB::Ledger",
]
SNAPSHOT_TYPES = frozenset({
    "AWS::EC2::Volume", "AWS::ElastiCache::CacheCluster", "AWS::ElastiCache::ReplicationGroup",
    "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::Redshift::Cluster",
    "AWS::Neptune::DBCluster", "AWS::DocDB::DBCluster",
})
OPTIONS = {"resource_types": STATEFUL_TYPES, "log_group_days": 90, "stream_hours": 24}
RETAINING = frozenset({"Retain", "RetainExceptOnCreate"})
# Without a DeletionPolicy, CloudFormation snapshots these (DBInstance: outside a cluster).
SNAPSHOT_BY_DEFAULT = frozenset({"AWS::RDS::DBCluster", "AWS::RDS::DBInstance"})


def _in_cluster(resource: Resource) -> bool:
    """An Aurora instance: its data lives in the cluster, which carries the policy."""
    return resource.type == "AWS::RDS::DBInstance" and "DBClusterIdentifier" in resource.properties


def _values(ctx: Context, resource: Resource, raw: Any) -> list[tuple[Scenario, Any]]:
    if raw is None or isinstance(raw, str):
        return [(NO_CONDITIONS, raw)]
    return [(scenario, ctx.resolve(value, scenario))
            for scenario, value in ctx.variants_of(resource, raw)]


def _check_policy(ctx: Context, attribute: str) -> Iterator[Violation]:
    log_group_days = int(ctx.option("log_group_days"))
    stream_hours = int(ctx.option("stream_hours"))
    for resource in ctx.resources(*ctx.option("resource_types")):
        if _in_cluster(resource) or not ctx.roles.keeps_data(
                resource, log_group_days=log_group_days, stream_hours=stream_hours):
            continue
        raw = resource.raw.get(attribute)
        found = [(scenario, list(_judge(resource, attribute, value)))
                 for scenario, value in _values(ctx, resource, raw)]
        yield from fold(found)


def _judge(resource: Resource, attribute: str, value: Any) -> Iterator[Violation]:
    label = f"`{resource.logical_id}` ({resource.type})"
    path = resource.at(attribute) if attribute in resource.raw else resource.path
    if value is None:
        if attribute == "DeletionPolicy" and resource.type in SNAPSHOT_BY_DEFAULT:
            return  # CloudFormation's default for these is Snapshot
        yield Violation(f"{label} has no {attribute}, so its data is deleted with it", path)
    elif isinstance(value, Unresolved):
        yield Violation(f"{attribute} of {label} cannot be checked because {value.reason}",
                        path)
    elif not isinstance(value, str):  # a list or mapping where a policy name belongs
        yield Violation(f"{attribute} of {label} is not a policy name, so CloudFormation "
                        "rejects the template", path)
    elif value == "Snapshot":
        if resource.type not in SNAPSHOT_TYPES:
            yield Violation(f"{label} sets {attribute} to Snapshot, which this type does not "
                            "support", path)
    elif value not in RETAINING:
        yield Violation(f"{label} sets {attribute} to {value}, so its data is deleted with it",
                        path)


@rule(code="OPS001", name="stateful-deletion-policy", severity=Severity.WARNING,
      category="deletion-policy", resource_types=tuple(STATEFUL_TYPES),
      options=OPTIONS)
def deletion_policy(ctx: Context) -> Iterator[Violation]:
    """Stateful resource is deleted, with its data, when the stack is deleted.

    ## What it does
    Checks that every stateful resource (see the option) has `DeletionPolicy: Retain`
    (or `RetainExceptOnCreate`), or `Snapshot` on the types that support it: EBS volumes,
    ElastiCache clusters and replication groups, RDS instances and clusters, Redshift,
    Neptune and DocumentDB clusters. `Snapshot` on any other type is reported. RDS clusters
    and stand-alone RDS instances without the attribute pass (CloudFormation snapshots them
    by default); RDS instances inside a cluster are skipped (the cluster holds the data).
    Stores that keep their data only briefly are skipped: log groups whose `RetentionInDays`
    is at most `log_group_days`, Kinesis streams whose `RetentionPeriodHours` (default 24)
    is at most `stream_hours`, and buckets that only store CodePipeline or CodeBuild
    artifacts (found through the graph), which a pipeline run rebuilds.

    ## Why is this bad?
    Without a policy CloudFormation deletes the resource with the stack: one mistaken
    `delete-stack`, or a resource removed from the template, destroys years of market data,
    the key that decrypts the archive, or the audit logs.

    ## Example
    ```yaml
    Resources:
      Archive:
        Type: AWS::S3::Bucket
    ```

    ## Use instead
    ```yaml
    Resources:
      Archive:
        Type: AWS::S3::Bucket
        DeletionPolicy: Retain
        UpdateReplacePolicy: Retain
    ```

    ## Options
    - `resource_types`: the stateful types checked. Default: S3 buckets, DynamoDB tables and
      global tables, KMS keys, Kinesis streams, log groups, RDS instances and clusters, EFS
      and FSx file systems, EBS volumes, ElastiCache replication groups, Neptune, DocumentDB
      and Redshift clusters, OpenSearch and Elasticsearch domains, Backup vaults, Cognito
      user pools, ECR repositories, Timestream tables and QLDB ledgers.
    - `log_group_days` (default 90): log groups that keep events this many days or fewer
      lose nothing worth retaining; groups without `RetentionInDays` keep events forever.
    - `stream_hours` (default 24): Kinesis streams that keep records this many hours or
      fewer are skipped (24 is the service default).

    ## References
    - [DeletionPolicy attribute](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html)
    """
    yield from _check_policy(ctx, "DeletionPolicy")


@rule(code="OPS002", name="stateful-update-replace-policy", severity=Severity.WARNING,
      category="deletion-policy", resource_types=tuple(STATEFUL_TYPES),
      options=OPTIONS)
def update_replace_policy(ctx: Context) -> Iterator[Violation]:
    """Stateful resource loses its data when an update replaces it.

    ## What it does
    Checks that every stateful resource (see the option) has `UpdateReplacePolicy: Retain`
    (or `RetainExceptOnCreate`), or `Snapshot` on the types that support it (as in OPS001).
    Unlike `DeletionPolicy`, there is no Snapshot default for RDS. RDS instances inside a
    cluster are skipped, and so are log groups and streams with short retention (as in
    OPS001).

    ## Why is this bad?
    Changing a property that requires replacement (a table's key schema, a bucket's name, a
    stream's name) makes CloudFormation create a new resource and delete the old one, data
    and all. `DeletionPolicy` does not apply to replacement; only `UpdateReplacePolicy` keeps
    the old resource.

    ## Example
    ```yaml
    Resources:
      Archive:
        Type: AWS::S3::Bucket
        DeletionPolicy: Retain
    ```

    ## Use instead
    ```yaml
    Resources:
      Archive:
        Type: AWS::S3::Bucket
        DeletionPolicy: Retain
        UpdateReplacePolicy: Retain
    ```

    ## Options
    - `resource_types`: the stateful types checked (the same default as OPS001).
    - `log_group_days` (default 90), `stream_hours` (default 24): as in OPS001.

    ## References
    - [UpdateReplacePolicy attribute](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatereplacepolicy.html)
    """
    yield from _check_policy(ctx, "UpdateReplacePolicy")
