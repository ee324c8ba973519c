"""The flawed pipeline shows every defect the seed document lists, and only those.

`fixtures/model_response/pipeline.yaml` is the "model response" that
`../shared/seed/model-failures.md` reviews. `DEFECTS` maps each defect to the rule that
reports it: one row per (seed section, defect, category, rule code, resources). Scanning the
fixture with default options must report every row, and every finding must be a row.

The table in `reference_stack/README.md` ("Defects of the flawed pipeline") is this table;
`python tests/test_model_response.py` prints it in Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLAWED = ROOT / "fixtures" / "model_response" / "pipeline.yaml"
README = ROOT / "reference_stack" / "README.md"
TABLE_HEADER = "| Seed section | Defect | Category | Rule code | Resource(s) |"

# The seed's eight "Specific Failures", its five "Critical Missing Components" (§C1-§C5), and
# the circular dependency a careless bucket notification creates (§C6, added by issue 5).
SECTIONS = (
    "§1 Security", "§2 Lifecycle", "§3 Monitoring", "§4 Processing", "§5 Network",
    "§6 Naming/tagging", "§7 Performance", "§8 Cross-account", "§C1 Glue script",
    "§C2 Script upload", "§C3 IAM", "§C4 Partitioning", "§C5 Outputs",
    "§C6 Circular dependency",
)

BUCKETS = ("AccessLogsBucket", "RawDataBucket", "ProcessedDataBucket", "ArchiveDataBucket",
           "ArtifactsBucket")
# The access-log bucket needs an expiration (LCY001), not archive tiers; AWS log delivery makes
# no multipart uploads and, while nothing expires, no noncurrent versions.
DATA_BUCKETS = BUCKETS[1:]
FUNCTIONS = ("ValidatorFunction", "StreamConsumerFunction", "MarketMetricsFunction",
             "LineageFunction")
KINESIS_MAPPINGS = ("StreamConsumerEventSourceMapping", "MarketMetricsEventSourceMapping")


@dataclass(frozen=True)
class Defect:
    section: str
    defect: str
    category: str
    code: str
    resources: tuple[str, ...]  # logical ids; `Outputs.Name` for a finding on an output
    evidence: str = ""  # text the finding's message must contain, to tell rows apart


DEFECTS: tuple[Defect, ...] = (
    # ------------------------------------------------------------------ §1 Security
    Defect("§1 Security", "KMS key without `EnableKeyRotation`", "kms-rotation", "KMS001",
           ("DataKey",)),
    Defect("§1 Security", "Key policy lacks `cloudwatch.amazonaws.com`, but alarms publish to "
           "topics encrypted with the key", "kms-key-policy", "KMS002", ("DataKey",),
           "cloudwatch.amazonaws.com"),
    Defect("§1 Security", "Key policy lacks `sns.amazonaws.com`, but a topic delivers to a queue "
           "encrypted with the key", "kms-key-policy", "KMS002", ("DataKey",),
           "sns.amazonaws.com"),
    Defect("§1 Security", "Cross-account key statement `AuditAccountAccess` without "
           "`kms:ViaService` or `kms:CallerAccount`", "kms-key-policy", "KMS003", ("DataKey",),
           "AuditAccountId"),
    Defect("§1 Security", "No bucket-policy deny of uploads not encrypted with KMS (the deny in "
           "`GlueJobRole` binds only that role)", "s3-deny-unencrypted", "BKT001",
           ("RawDataBucket", "ProcessedDataBucketPolicy", "ArchiveDataBucket",
            "ArtifactsBucket")),
    Defect("§1 Security", "No `aws:SecureTransport` deny", "s3-secure-transport", "BKT002",
           ("AccessLogsBucketPolicy", "RawDataBucket", "ProcessedDataBucketPolicy",
            "ArchiveDataBucket", "ArtifactsBucket")),
    # ----------------------------------------------------------------- §2 Lifecycle
    Defect("§2 Lifecycle", "Glacier at 90 days only: no Intelligent-Tiering", "s3-lifecycle",
           "LCY002", DATA_BUCKETS),
    Defect("§2 Lifecycle", "No Deep Archive transition", "s3-lifecycle", "LCY003", DATA_BUCKETS),
    Defect("§2 Lifecycle", "Access-log bucket archives its logs to Glacier but never expires "
           "them", "s3-lifecycle", "LCY001", ("AccessLogsBucket",)),
    Defect("§2 Lifecycle", "No `AbortIncompleteMultipartUpload`", "s3-lifecycle", "LCY004",
           DATA_BUCKETS),
    Defect("§2 Lifecycle", "Versioned buckets never expire noncurrent versions", "s3-lifecycle",
           "LCY005", DATA_BUCKETS),
    # ---------------------------------------------------------------- §3 Monitoring
    Defect("§3 Monitoring", "Dashboard misses iterator age, Lambda throttles and errors, Glue job "
           "metrics", "dashboard-coverage", "MON031",
           ("MarketDataStream", *FUNCTIONS, "GlueEtlJob")),
    Defect("§3 Monitoring", "No Glue job failure alerting (no EventBridge rule, no alarm)",
           "alarm-coverage", "MON005", ("GlueEtlJob",)),
    Defect("§3 Monitoring", "No high-ingestion alarm (`IncomingRecords`)", "alarm-coverage",
           "MON002", ("MarketDataStream",), "IncomingRecords"),
    Defect("§3 Monitoring", "No stream iterator-age alarm", "alarm-coverage", "MON002",
           ("MarketDataStream",), "IteratorAgeMilliseconds"),
    Defect("§3 Monitoring", "No `Throttles` alarms", "alarm-coverage", "MON001", FUNCTIONS,
           "`Throttles`"),
    Defect("§3 Monitoring", "No `Errors` alarm on the market-metrics function", "alarm-coverage",
           "MON001", ("MarketMetricsFunction",), "`Errors`"),
    Defect("§3 Monitoring", "No DynamoDB throttling or system-error alarms", "alarm-coverage",
           "MON004", ("LineageTable", "JobRunsTable")),
    Defect("§3 Monitoring", "Custom-metric alarm without the `Environment` dimension",
           "metric-dimensions", "MON020", ("InvalidRecordsAlarm",)),
    # ---------------------------------------------------------------- §4 Processing
    Defect("§4 Processing", "Validator invoked asynchronously by S3 with no DLQ or on-failure "
           "destination", "lambda-dlq", "LMB001", ("ValidatorFunction",)),
    Defect("§4 Processing", "Validator's async retries and event age left to the defaults",
           "lambda-dlq", "LMB002", ("ValidatorFunction",)),
    Defect("§4 Processing", "Kinesis mappings without an on-failure destination",
           "stream-failure-handling", "ESM001", KINESIS_MAPPINGS),
    Defect("§4 Processing", "Kinesis mappings do not bisect failing batches",
           "stream-failure-handling", "ESM002", KINESIS_MAPPINGS),
    Defect("§4 Processing", "Kinesis mappings retry without bounds on attempts or record age",
           "stream-failure-handling", "ESM003", KINESIS_MAPPINGS),
    Defect("§4 Processing", "Kinesis mappings without a batching window",
           "stream-failure-handling", "ESM004", KINESIS_MAPPINGS,
           "MaximumBatchingWindowInSeconds"),
    Defect("§4 Processing", "SQS mapping leaves `BatchSize` to the default",
           "stream-failure-handling", "ESM004", ("LineageEventSourceMapping",), "BatchSize"),
    Defect("§4 Processing", "SQS mapping without `ReportBatchItemFailures`",
           "stream-failure-handling", "ESM005", ("LineageEventSourceMapping",)),
    Defect("§4 Processing", "Consumed queue without a redrive policy", "sqs-redrive", "SQS001",
           ("LineageEventsQueue",)),
    Defect("§4 Processing", "No TTL on DynamoDB tables", "dynamodb-ttl", "DDB001",
           ("LineageTable", "JobRunsTable")),
    # ------------------------------------------------------------------- §5 Network
    Defect("§5 Network", "Pre-existing VPC and subnets as parameters", "vpc-self-contained",
           "NET001", ("LambdaSecurityGroup", "EndpointSecurityGroup", "EndpointSubnetA",
                      "EndpointSubnetB", "EndpointRouteTable", "S3GatewayEndpoint",
                      "KmsInterfaceEndpoint", "SqsInterfaceEndpoint", *FUNCTIONS)),
    Defect("§5 Network", "Subnets without route table associations", "network-routing",
           "NET005", ("EndpointSubnetA", "EndpointSubnetB")),
    Defect("§5 Network", "Interface endpoints without private DNS", "vpc-endpoints", "NET003",
           ("KmsInterfaceEndpoint", "SqsInterfaceEndpoint")),
    Defect("§5 Network", "No DynamoDB, SNS or CloudWatch endpoints although functions in the VPC "
           "call them", "vpc-endpoints", "NET004",
           ("ValidatorFunction", "MarketMetricsFunction", "LineageFunction")),
    Defect("§5 Network", "Security group admits HTTPS from `0.0.0.0/0`", "security-group-open",
           "SG001", ("EndpointSecurityGroup",)),
    Defect("§5 Network", "Security groups let all traffic out to `0.0.0.0/0`",
           "security-group-open", "SG002", ("LambdaSecurityGroup", "EndpointSecurityGroup")),
    # ----------------------------------------------------------- §6 Naming/tagging
    Defect("§6 Naming/tagging", "Global physical names (buckets, IAM roles, the dashboard) "
           "without the region", "naming", "NAM001",
           (*BUCKETS, "ValidatorRole", "StreamConsumerRole", "MarketMetricsRole", "LineageRole",
            "GlueJobRole", "ConsumerAccessRole", "PipelineDashboard")),
    Defect("§6 Naming/tagging", "`CostCenter` tag missing", "tags-required", "TAG001",
           ("DataKey", "LambdaSecurityGroup", "EndpointSecurityGroup", "EndpointSubnetA",
            "EndpointSubnetB", "EndpointRouteTable", "S3GatewayEndpoint", "KmsInterfaceEndpoint",
            "SqsInterfaceEndpoint", *BUCKETS, "PipelineAlertsTopic", "DataQualityTopic",
            "CuratedObjectsTopic", "LineageEventsQueue", "MarketDataStream", "LineageTable",
            "JobRunsTable", "ValidatorLogGroup", "ValidatorRole", "ValidatorFunction",
            "StreamConsumerLogGroup", "StreamConsumerRole", "StreamConsumerFunction",
            "StreamConsumerEventSourceMapping", "MarketMetricsLogGroup", "MarketMetricsRole",
            "MarketMetricsFunction", "MarketMetricsEventSourceMapping", "LineageLogGroup",
            "LineageRole", "LineageFunction", "LineageEventSourceMapping", "GlueJobRole",
            "GlueEtlJob", "ConsumerAccessRole", "ValidatorErrorsAlarm",
            "StreamConsumerErrorsAlarm", "LineageErrorsAlarm", "InvalidRecordsAlarm")),
    # ------------------------------------------------------------- §7 Performance
    Defect("§7 Performance", "Arbitrary reserved concurrency (5 and 10), below shards x "
           "parallelization factor (10 x 2)", "lambda-concurrency", "LMB004",
           ("StreamConsumerFunction", "MarketMetricsFunction")),
    Defect("§7 Performance", "Glue job on Glue 2.0", "glue-tuning", "GLU001", ("GlueEtlJob",)),
    Defect("§7 Performance", "Glue job sized with `MaxCapacity`, no worker type and count",
           "glue-tuning", "GLU002", ("GlueEtlJob",)),
    Defect("§7 Performance", "Glue job without auto scaling, metrics, continuous logs or "
           "bookmarks", "glue-tuning", "GLU003", ("GlueEtlJob",)),
    Defect("§7 Performance", "Glue job without timeout or retries", "glue-tuning", "GLU004",
           ("GlueEtlJob",)),
    Defect("§7 Performance", "Two Lambda readers share the stream's throughput: no enhanced "
           "fan-out", "kinesis-scaling", "KIN001", KINESIS_MAPPINGS),
    # ----------------------------------------------------------- §8 Cross-account
    Defect("§8 Cross-account", "Trust policy lets another account assume the role without "
           "`sts:ExternalId`", "xacct-external-id", "XAC001", ("ConsumerAccessRole",)),
    Defect("§8 Cross-account", "Bucket policy shares objects encrypted with `DataKey`, whose "
           "policy grants the consumer account nothing", "xacct-resource-policy", "XAC002",
           ("ProcessedDataBucketPolicy",)),
    Defect("§8 Cross-account", "Bucket policy grants the consumer account `s3:PutObject`",
           "xacct-resource-policy", "XAC003", ("ProcessedDataBucketPolicy",)),
    # ---------------------------------------------------- critical missing components
    Defect("§C1 Glue script", "`ScriptLocation` names a script the stack does not provide",
           "glue-script", "GLU010", ("GlueEtlJob",)),
    Defect("§C2 Script upload", "No custom resource uploads the script to the artifacts bucket",
           "glue-script", "GLU010", ("GlueEtlJob",), "nothing in the stack uploads"),
    Defect("§C3 IAM", "`s3:*` and `dynamodb:*` instead of service-specific permissions",
           "iam-wildcard", "IAM001", ("ValidatorRole",)),
    Defect("§C3 IAM", "Data-plane actions on `Resource: \"*\"`", "iam-wildcard", "IAM002",
           ("ValidatorRole",)),
    Defect("§C3 IAM", "Write access to every bucket and table without an explicit `Deny`",
           "iam-explicit-deny", "IAM003", ("ValidatorRole",)),
    Defect("§C4 Partitioning", "Glue table without partition keys", "partitioning", "PRT001",
           ("CuratedMarketEventsTable",)),
    Defect("§C4 Partitioning", "Glue job declares no output partition keys", "partitioning",
           "PRT003", ("GlueEtlJob",)),
    Defect("§C5 Outputs", "Key resources missing from Outputs", "outputs", "OUT001",
           ("DataKey", "AccessLogsBucket", "ProcessedDataBucket", "ArchiveDataBucket",
            "ArtifactsBucket", "PipelineAlertsTopic", "DataQualityTopic", "CuratedObjectsTopic",
            "LineageTable", "JobRunsTable", "ConsumerAccessRole", "PipelineDashboard")),
    Defect("§C5 Outputs", "Outputs without exports", "outputs", "OUT002",
           ("Outputs.RawDataBucketName", "Outputs.MarketDataStreamName")),
    Defect("§C6 Circular dependency", "Bucket notification → validator, whose environment names "
           "the bucket; the bucket also `DependsOn` the permission whose `SourceArn` is "
           "`!GetAtt RawDataBucket.Arn`", "dependency-cycle", "GRF001", ("RawDataBucket",),
           "`ValidatorFunction`"),
)


def _cell(resources: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in resources)


def render_table() -> str:
    """The Markdown table of `DEFECTS`, as reference_stack/README.md shows it."""
    lines = [TABLE_HEADER, "| --- | --- | --- | --- | --- |"]
    lines += [f"| {d.section} | {d.defect} | `{d.category}` | `{d.code}` | {_cell(d.resources)} |"
              for d in DEFECTS]
    return "\n".join(lines)


def _subject(finding) -> str:
    """The logical id a finding is on, or `Outputs.Name` for one on an output."""
    return finding.resource or ".".join(str(part) for part in finding.path[:2])


@pytest.fixture(scope="module")
def findings() -> list:
    from cfnaudit.api import Config, audit

    report = audit([FLAWED], Config())
    assert [o.status for o in report.files] == ["scanned"]
    return list(report.findings)


@pytest.mark.parametrize("defect", DEFECTS,
                         ids=[f"{d.section.split()[0][1:]}-{d.code}" for d in DEFECTS])
def test_defect_is_reported(findings: list, defect: Defect) -> None:
    reported = {_subject(f) for f in findings
                if f.code == defect.code and f.category == defect.category
                and defect.evidence in f.message}
    missing = [name for name in defect.resources if name not in reported]
    assert missing == [], f"{defect.code} does not report: {defect.defect}"


def test_every_finding_is_a_documented_defect(findings: list) -> None:
    documented = {(d.code, d.category, name) for d in DEFECTS for name in d.resources}
    undocumented = sorted(f"line {f.location.line} {f.code} {f.category} {_subject(f)}: "
                          f"{f.message}" for f in findings
                          if (f.code, f.category, _subject(f)) not in documented)
    assert undocumented == [], "new findings: fix the fixture, or add rows for real defects"


def test_every_seed_section_has_a_defect() -> None:
    assert sorted({d.section for d in DEFECTS}) == sorted(SECTIONS)


def test_the_dependency_cycle_is_a_defect() -> None:
    cycle = [d for d in DEFECTS if d.section == "§C6 Circular dependency"]
    assert [(d.code, d.category) for d in cycle] == [("GRF001", "dependency-cycle")]


def test_codes_and_categories_are_the_rules_own() -> None:
    from cfnaudit.registry import builtin_rules_dir, load_rules

    categories = {r.code: r.category for r in load_rules([builtin_rules_dir()])}
    wrong = [(d.code, d.category) for d in DEFECTS if categories.get(d.code) != d.category]
    assert wrong == []


def test_readme_table_is_this_table() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(TABLE_HEADER)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    assert "\n".join(lines[start:end]) == render_table(), (
        "update reference_stack/README.md with: python tests/test_model_response.py")


if __name__ == "__main__":
    print(render_table())
