"""The failure classes findings are grouped and counted by (keys used verbatim in output)."""

from __future__ import annotations

CATEGORIES: dict[str, str] = {
    # engine
    "decode-error": "the file cannot be read as a template",
    "template-error": "structure CloudFormation would reject",
    "internal-error": "a rule crashed",
    "suppression": "suppressions without a reason",
    "condition-budget": "too many condition combinations to check all",
    "dependency-cycle": "circular dependencies between resources",
    # rule pack 1: encryption, access, cross-account, network
    "kms-rotation": "KMS key rotation",
    "kms-key-policy": "KMS key policies",
    "s3-deny-unencrypted": "bucket policies deny unencrypted uploads",
    "s3-secure-transport": "bucket policies deny insecure transport",
    "s3-encryption": "bucket default encryption",
    "s3-public-access": "bucket public access",
    "s3-versioning": "bucket versioning",
    "s3-access-logging": "bucket access logging",
    "encryption-at-rest": "data stores encrypted with a customer-managed key",
    "iam-wildcard": "wildcard actions and resources in IAM policies",
    "iam-explicit-deny": "explicit deny guardrails on data-writing roles",
    "xacct-external-id": "ExternalId on cross-account trust",
    "xacct-resource-policy": "consistent cross-account resource policies",
    "vpc-self-contained": "VPC built in the stack",
    "vpc-endpoints": "VPC endpoints for private connectivity",
    "network-routing": "subnets, route tables and CIDR layout",
    "security-group-open": "security groups open to the internet",
    "secrets": "secrets in templates and parameters",
    # rule pack 2: lifecycle, failure handling, monitoring, tagging, performance, delivery
    "s3-lifecycle": "bucket lifecycle tiers and cleanup",
    "lambda-dlq": "dead-letter handling for asynchronous invocations",
    "sqs-redrive": "queue redrive policies",
    "stream-failure-handling": "event source mapping failure handling and batching",
    "dynamodb-ttl": "DynamoDB time to live",
    "dynamodb-pitr": "DynamoDB point-in-time recovery",
    "alarm-coverage": "alarms watching every component",
    "alarm-actions": "alarms that notify someone",
    "metric-dimensions": "environment dimension on custom metrics",
    "dashboard-coverage": "dashboards charting every component",
    "tags-required": "required tags",
    "naming": "physical naming conventions",
    "lambda-concurrency": "reserved concurrency",
    "glue-tuning": "Glue job tuning",
    "kinesis-scaling": "Kinesis capacity and enhanced fan-out",
    "glue-script": "Glue script delivery",
    "partitioning": "time-based partitioning",
    "outputs": "stack outputs",
    "deletion-policy": "retention of stateful resources",
    "logging": "log retention",
}

# The seed's "Severity Assessment" ranks its failures; each category takes the rank of the
# failures it covers, and the rank gives a rule's default severity. Critical and High fail a
# build (`error`, the default `--fail-on`), Medium warns, Low is information.
SEED_RANKS: dict[str, tuple[str, ...]] = {
    "Critical": (  # security configuration gaps, missing encryption controls
        "kms-rotation", "kms-key-policy", "s3-deny-unencrypted", "s3-secure-transport",
        "s3-encryption", "s3-public-access", "encryption-at-rest", "iam-wildcard",
        "iam-explicit-deny", "xacct-external-id", "xacct-resource-policy", "vpc-endpoints",
        "network-routing", "security-group-open", "secrets"),
    "High": (  # incomplete monitoring, inadequate error handling
        "alarm-coverage", "alarm-actions", "metric-dimensions", "dashboard-coverage",
        "s3-access-logging", "lambda-dlq", "sqs-redrive", "stream-failure-handling",
        "glue-script", "dependency-cycle"),
    "Medium": (  # performance and cost optimisation, tagging, data lifecycle and resilience
        "s3-lifecycle", "dynamodb-ttl", "dynamodb-pitr", "s3-versioning", "deletion-policy",
        "logging", "lambda-concurrency", "glue-tuning", "kinesis-scaling", "partitioning",
        "tags-required", "vpc-self-contained"),
    "Low": ("naming", "outputs"),  # resource naming conventions, documentation gaps
}
RANK_SEVERITY: dict[str, str] = {"Critical": "error", "High": "error", "Medium": "warning",
                                 "Low": "info"}
# Rules ranked apart from their category, with the reason.
RANK_EXCEPTIONS: dict[str, tuple[str, str]] = {
    "BKT004": ("Medium", "a Bucket Key lowers KMS request cost; the encryption is BKT003's"),
    "ESM004": ("Medium", "batching tunes throughput; failure handling is ESM001-003 and ESM005"),
    "NET007": ("Medium", "a second availability zone is resilience, not a security gap"),
}


def seed_rank(code: str, category: str) -> str | None:
    """The seed rank of a rule (None for engine categories, which have their own severity)."""
    if code in RANK_EXCEPTIONS:
        return RANK_EXCEPTIONS[code][0]
    return next((rank for rank, members in SEED_RANKS.items() if category in members), None)
