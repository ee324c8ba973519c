"""Stateful resources keep their data when the stack is deleted or the resource replaced.

`DeletionPolicy` and `UpdateReplacePolicy` are read as written, through parameters and
`Fn::If` (allowed with the `AWS::LanguageExtensions` transform). `Retain`,
`RetainExceptOnCreate` and, on types that support it, `Snapshot` keep the data.

Only stores whose loss loses data are asked (the core's `Roles.keeps_data`): a log group that
keeps its events for `log_group_days` or less, or a Kinesis stream that keeps its records for
`stream_hours` or less, holds nothing a deletion would take that its retention would not; a
build-artifact store holds what the next pipeline run rebuilds, an ingestion pipeline's staging
bucket what it derives again from the table; a KMS key whose every use in the stack is a store
asked for nothing (an SNS topic, a short-lived log group) guards no data (`stores_under_key`),
nor does one whose every store holding data carries an explicit `Delete`. Nor are stores that
hold nothing: a bucket that only shows a macro's work (`is_macro_placeholder`), an EBS volume
created empty that nothing in the stack attaches, a Timestream table that keeps records
`log_group_days` or fewer. `Delete` written literally on a log group is the author's choice and
accepted; on a data store an explicit `Delete` is reported, saying it is set. """

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
    is_detached_empty_volume,
    is_macro_placeholder,
    is_true,
    key_exported,
    rule,
    stack_stores_under_key,
    stores_under_key,
    timestream_keeps_days,
)

STATEFUL_TYPES = [
    "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::KMS::Key",
    "AWS::Kinesis::Stream", "AWS::Logs::LogGroup", "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster", "AWS::EFS::FileSystem", "AWS::FSx::FileSystem", "AWS::EC2::Volume",
    "AWS::ElastiCache::ReplicationGroup", "AWS::Neptune::DBCluster", "AWS::DocDB::DBCluster",
    "AWS::Redshift::Cluster", "AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain",
    "AWS::Backup::BackupVault", "AWS::Cognito::UserPool",
    "AWS::Timestream::Table", "AWS::QLDB::Ledger",
]
SNAPSHOT_TYPES = frozenset({
    "AWS::EC2::Volume", "AWS::ElastiCache::CacheCluster", "AWS::ElastiCache::ReplicationGroup",
    "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::Redshift::Cluster",
    "AWS::Neptune::DBCluster", "AWS::DocDB::DBCluster",
})
# 168 hours: up to 7 days is a stream's standard retention, a transit buffer as a 7-day log
# group is; beyond it is extended retention, bought to replay records as from a store.
OPTIONS = {"resource_types": STATEFUL_TYPES, "log_group_days": 90, "stream_hours": 168}
KMS_KEY = "AWS::KMS::Key"
ECR_REPOSITORY = "AWS::ECR::Repository"
RETAINING = frozenset({"Retain", "RetainExceptOnCreate"})
# Stores of copies (log events): `Delete` written literally on them is a choice, not an
# omission. On data stores an explicit Delete is still reported (the message says it is set).
DELETABLE_BY_CHOICE = frozenset({"AWS::Logs::LogGroup"})
# Without a DeletionPolicy, CloudFormation snapshots these (DBInstance: outside a cluster).
SNAPSHOT_BY_DEFAULT = frozenset({"AWS::RDS::DBCluster", "AWS::RDS::DBInstance"})


def _in_cluster(resource: Resource) -> bool:
    """An Aurora instance: its data lives in the cluster, which carries the policy."""
    return resource.type == "AWS::RDS::DBInstance" and "DBClusterIdentifier" in resource.properties


def _holds_data(ctx: Context, resource: Resource, log_group_days: int,
                stream_hours: int) -> bool:
    """Whether deleting or replacing `resource` loses data: the core's `keeps_data`, less
    placeholder buckets of macro demos, EBS volumes created empty that nothing attaches, and
    Timestream tables that keep records `log_group_days` or fewer."""
    if _in_cluster(resource) or not ctx.roles.keeps_data(
            resource, log_group_days=log_group_days, stream_hours=stream_hours):
        return False
    if resource.type == "AWS::S3::Bucket":
        return not is_macro_placeholder(ctx, resource)
    if resource.type == "AWS::EC2::Volume":
        return not is_detached_empty_volume(ctx, resource)
    if resource.type == "AWS::Timestream::Table":
        days = timestream_keeps_days(ctx, resource)
        return days is None or days > log_group_days
    if resource.type == KMS_KEY:
        stores = stores_under_key(ctx, resource)
        return stores is None or bool(_protected(ctx, stores, log_group_days, stream_hours))
    return True


def _protected(ctx: Context, stores: list[Resource], log_group_days: int,
               stream_hours: int) -> list[Resource]:
    """The stores among `stores` that this rule itself protects (in scope, holding data)."""
    types = set(ctx.option("resource_types"))
    return [s for s in stores if s.type in types and s.type != KMS_KEY
            and _holds_data(ctx, s, log_group_days, stream_hours)]


def _values(ctx: Context, resource: Resource, raw: Any, attribute: str
            ) -> list[tuple[Scenario, str | Unresolved | None]]:
    if raw is None or isinstance(raw, str):
        return [(NO_CONDITIONS, raw)]
    return [(scenario, ctx.read_text(value, scenario, what=attribute))
            for scenario, value in ctx.variants_of(resource, raw)]


def _check_policy(ctx: Context, attribute: str) -> Iterator[Violation]:
    log_group_days = int(ctx.option("log_group_days"))
    stream_hours = int(ctx.option("stream_hours"))
    for resource in ctx.resources(*ctx.option("resource_types")):
        if not _holds_data(ctx, resource, log_group_days, stream_hours):
            continue
        raw = (resource.deletion_policy if attribute == "DeletionPolicy"
               else resource.update_replace_policy)
        if raw is None and resource.raw.get(attribute) is not None:
            continue  # of the wrong type: a template error (CFA002), nothing to judge
        if raw == "Delete" and resource.type in DELETABLE_BY_CHOICE:
            continue  # written out: the author chose to drop the copies with the stack
        if resource.type == KMS_KEY and _stores_dropped_by_choice(
                ctx, resource, attribute, log_group_days, stream_hours):
            continue
        loss = _loss(ctx, resource, attribute, log_group_days, stream_hours)
        found = [(scenario, list(_judge(resource, attribute, value, loss)))
                 for scenario, value in _values(ctx, resource, raw, attribute)]
        yield from fold(found)


def _stores_dropped_by_choice(ctx: Context, key: Resource, attribute: str,
                              log_group_days: int, stream_hours: int) -> bool:
    """Every use of the key is a store of the stack, and on each one holding data the author
    wrote `Delete` for the same event (a key's replacement loses data of stores that stay,
    so OPS002 asks for `Delete` in both attributes): the data is meant to go, and keeping
    the key keeps nothing."""
    stores = stores_under_key(ctx, key)
    held = _protected(ctx, stores, log_group_days, stream_hours) if stores else []
    attributes = ("DeletionPolicy",) if attribute == "DeletionPolicy" else (
        "DeletionPolicy", "UpdateReplacePolicy")
    return bool(held) and all(s.raw.get(a) == "Delete" for s in held for a in attributes)


def _loss(ctx: Context, resource: Resource, attribute: str, log_group_days: int,
          stream_hours: int) -> str:
    """What deleting the resource costs. CloudFormation cannot delete a bucket that holds
    objects, nor a repository that holds images without `EmptyOnDelete`: the deletion fails
    and leaves it, and only an emptied one goes. A KMS key holds no data: it is scheduled for
    deletion, and what it encrypted becomes unreadable."""
    if resource.type == KMS_KEY:
        return _key_loss(ctx, resource, attribute, log_group_days, stream_hours)
    if resource.type == ECR_REPOSITORY and not is_true(
            ctx.resolve(resource.properties.get("EmptyOnDelete"), NO_CONDITIONS)):
        if attribute == "DeletionPolicy":
            return ("deleting the stack fails while the repository holds images, and deletes "
                    "the repository once it is emptied")
        return ("a replacement moves the stack to a new, empty repository and leaves the old "
                "one outside the stack while it holds images")
    if resource.type != "AWS::S3::Bucket":
        return "its data is deleted with it"
    if attribute == "DeletionPolicy":
        return ("deleting the stack fails while the bucket holds objects, and deletes the "
                "bucket once it is emptied")
    return ("a replacement moves the stack to a new, empty bucket and deletes the old one, or "
            "leaves it outside the stack while it holds objects")


def _key_loss(ctx: Context, key: Resource, attribute: str, log_group_days: int,
              stream_hours: int) -> str:
    stores = stores_under_key(ctx, key)
    named = _protected(ctx, stores if stores is not None else stack_stores_under_key(ctx, key),
                       log_group_days, stream_hours)
    what = ("the data encrypted under it (" + ", ".join(f"`{s.logical_id}`" for s in named)
            + (", and what importing stacks encrypt" if key_exported(ctx, key) else "")
            + ")") if named else "the data encrypted under it"
    event = ("deleting the stack schedules the key for deletion" if attribute == "DeletionPolicy"
             else "a replacement schedules the old key for deletion")
    return f"{event} (after 7-30 days), and then {what} becomes unreadable"


def _judge(resource: Resource, attribute: str, value: str | Unresolved | None, loss: str
           ) -> Iterator[Violation]:
    label = f"`{resource.logical_id}` ({resource.type})"
    path = resource.at(attribute) if attribute in resource.raw else resource.path
    if value is None:
        if attribute == "DeletionPolicy" and resource.type in SNAPSHOT_BY_DEFAULT:
            return  # CloudFormation's default for these is Snapshot
        yield Violation(f"{label} has no {attribute}, so {loss}", path)
    elif isinstance(value, Unresolved):
        yield Violation(f"{attribute} of {label} cannot be checked because {value.reason}",
                        path)
    elif value == "Snapshot":
        if resource.type not in SNAPSHOT_TYPES:
            yield Violation(f"{label} sets {attribute} to Snapshot, which this type does not "
                            "support", path)
    elif value not in RETAINING:
        yield Violation(f"{label} sets {attribute} to {value}, so {loss}", path)


@rule(code="OPS001", name="stateful-deletion-policy", severity=Severity.WARNING,
      category="deletion-policy", resource_types=tuple(STATEFUL_TYPES),
      options=OPTIONS)
def deletion_policy(ctx: Context) -> Iterator[Violation]:
    """Stateful resource is deleted, with its data, when the stack is deleted.

    ## What it does
    Checks that every stateful resource (see the option) has `DeletionPolicy: Retain` (or
    `RetainExceptOnCreate`), or `Snapshot` on the types that support it: EBS volumes,
    ElastiCache clusters and replication groups, RDS instances and clusters, Redshift, Neptune
    and DocumentDB clusters. `Snapshot` on any other type is reported. RDS clusters and
    stand-alone RDS instances without the attribute pass (CloudFormation snapshots them by
    default); RDS instances inside a cluster are skipped (the cluster holds the data). Stores
    that keep their data only briefly are skipped: log groups whose `RetentionInDays` is at
    most `log_group_days`, Kinesis streams whose `RetentionPeriodHours` (default 24) is at most
    `stream_hours`, staging buckets used only as an OpenSearch Ingestion pipeline's
    table-export or dead-letter location (their files derive from the table), KMS keys that
    encrypt only stores this rule does not ask for (SNS topics, SQS queues, short-lived log
    groups or streams: found through the graph, with aliases; a key also used elsewhere,
    exported, or used by nothing in the stack is still asked), KMS keys whose every store
    holding data carries `DeletionPolicy: Delete` written out (the author chose to drop that
    data with the stack), and buckets that only store CodePipeline or CodeBuild artifacts
    (found through the graph), which a pipeline run rebuilds. Stores that hold nothing are
    skipped: placeholder buckets of macro demos (no data path, in a template a macro of its own
    shapes), EBS volumes created empty (no `SnapshotId`) that nothing in the stack attaches or
    outputs, and Timestream tables whose memory and magnetic retention are both at most
    `log_group_days`. A log group with `DeletionPolicy: Delete` written out is accepted (a
    choice, not an omission); on any other store an explicit `Delete` is reported, saying it is
    set. A KMS key holds no data: the message says it is scheduled for deletion (7-30 days) and
    names the stack's stores whose data then becomes unreadable (adding what importing stacks
    encrypt when an output exports the key).

    ECR repositories are not in the default types: their images are build output a pipeline
    rebuilds (as artifact buckets are skipped), and without `EmptyOnDelete: true`
    CloudFormation cannot delete a repository that holds images. Added to `resource_types`,
    they are reported with that wording.

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
      user pools, Timestream tables and QLDB ledgers.
    - `log_group_days` (default 90): log groups that keep events this many days or fewer
      lose nothing worth retaining; groups without `RetentionInDays` keep events forever.
    - `stream_hours` (default 168): Kinesis streams that keep records this many hours or
      fewer are skipped. Up to 7 days is a stream's standard retention, a transit buffer
      like a log group kept a week; longer is extended retention, chosen to replay records.

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
    cluster are skipped, and so are log groups and streams with short retention, KMS keys
    that encrypt only such stores, stores that hold nothing and log groups with
    `UpdateReplacePolicy: Delete` written out (as in OPS001). A replaced KMS key is scheduled
    for deletion: what was encrypted under it (named) becomes unreadable, even in stores
    that stay; so a key is skipped only when every store holding data under it carries both
    `DeletionPolicy: Delete` and `UpdateReplacePolicy: Delete` written out.

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
    - `log_group_days` (default 90), `stream_hours` (default 168): as in OPS001.

    ## References
    - [UpdateReplacePolicy attribute](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatereplacepolicy.html)
    """
    yield from _check_policy(ctx, "UpdateReplacePolicy")
