"""Data at rest encrypted with a customer-managed KMS key (category `encryption-at-rest`).

ENC001 is table-driven: one small reader per resource type says where the key lives and what the
service does when no key is given. ENC002 covers Glue, whose encryption lives in a separate
`AWS::Glue::SecurityConfiguration` resource and so has a different fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    Context,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Variant,
    Violation,
    rule,
    sub_variables,
)

Path = tuple[str | int, ...]

# ------------------------------------------------------------------------------ key reading

_AWS_MANAGED = re.compile(r"(^|[:/])alias/aws/")
_KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::Alias", "AWS::KMS::ReplicaKey")


class KeyVerdict:
    """What a key reference turned out to be: customer-managed, AWS-managed, or unknown."""

    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: str = "") -> None:
        self.kind = kind  # "customer" | "aws" | "unknown"
        self.text = text  # the AWS-managed alias, or the reason the key is unknown


def key_verdict(ctx: Context, value: Any, scenario: Scenario) -> KeyVerdict:
    """Classify a KMS key reference (id, ARN, alias, Ref/GetAtt, Sub/Join, parameter)."""
    if ctx.ref_target(value) is not None:
        return KeyVerdict("customer")  # a key, alias or custom resource created in the stack
    resolved = ctx.resolve(value, scenario)
    if isinstance(resolved, str):
        if _AWS_MANAGED.search(resolved):
            return KeyVerdict("aws", resolved)
        return KeyVerdict("customer") if resolved.strip() else KeyVerdict(
            "unknown", "the key is an empty string")
    skeleton = ctx.skeleton(value, scenario)
    if skeleton is not None:
        if _AWS_MANAGED.search(skeleton):
            return KeyVerdict("aws", skeleton)
        if re.search(r"(:key/|alias/)[^*]", skeleton) or _sub_names_stack_resource(ctx, value):
            # The key id or alias name is literal or comes from a resource in the stack.
            return KeyVerdict("customer")
    if isinstance(resolved, Unresolved):
        if _caller_supplies_a_key(ctx, value):
            return KeyVerdict("customer")
        return KeyVerdict("unknown", resolved.reason)
    return KeyVerdict("unknown", "the key is not a string")


_AWS_ALIASES = ("alias/aws/sns", "arn:aws:kms:us-east-1:111122223333:alias/aws/sns")
_NAMES_A_KEY = re.compile(r"key[\s_-]*(arn|id)\b", re.IGNORECASE)


def _caller_supplies_a_key(ctx: Context, value: Any) -> bool:
    """`!Ref P` where `P` has no default, so the caller must pass a key, and `P` asks for a
    key rather than an alias: its `AllowedPattern` admits no AWS-managed alias, or (without
    a pattern) its description asks for a key ARN or id."""
    name = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
    parameter = ctx.template.parameters.get(name) if isinstance(name, str) else None
    if parameter is None or "Default" in parameter.raw:
        return False
    pattern = parameter.raw.get("AllowedPattern")
    if isinstance(pattern, str):
        try:
            return not any(re.fullmatch(pattern, alias) for alias in _AWS_ALIASES)
        except re.error:
            return False
    description = parameter.raw.get("Description")
    return isinstance(description, str) and _NAMES_A_KEY.search(description) is not None


def _sub_names_stack_resource(ctx: Context, value: Any) -> bool:
    """`!Sub "${DataKey.Arn}"` and the like: the key is a resource of this stack."""
    arg = value.get("Fn::Sub") if isinstance(value, dict) else None
    text = arg[0] if isinstance(arg, list) and arg and isinstance(arg[0], str) else arg
    if not isinstance(text, str):
        return False
    return any(name.split(".", 1)[0] in ctx.template.resources for name in sub_variables(text))


def _key_violations(ctx: Context, noun: str, value: Any, path: Path,
                    scenario: Scenario) -> Iterator[Violation]:
    verdict = key_verdict(ctx, value, scenario)
    if verdict.kind == "aws":
        yield Violation(f"{noun} is encrypted with the AWS-managed key `{verdict.text}`, not a "
                        "customer-managed key", path)
    elif verdict.kind == "unknown":
        yield Violation(f"{noun}'s KMS key cannot be checked because {verdict.text}", path,
                        severity=Severity.WARNING)


def _text(ctx: Context, value: Any, scenario: Scenario) -> str | Unresolved | None:
    resolved = ctx.resolve(value, scenario)
    if resolved is None or isinstance(resolved, Unresolved):
        return resolved
    return str(resolved)


def _unresolved(noun: str, what: str, reason: str, path: Path) -> Violation:
    return Violation(f"{noun}'s {what} cannot be checked because {reason}", path,
                     severity=Severity.WARNING)


# ------------------------------------------------------------------------- per-type readers

Reader = Callable[[Context, Resource, Variant], Iterator[Violation]]


def _sqs(ctx: Context, queue: Resource, v: Variant) -> Iterator[Violation]:
    noun = f"Queue `{queue.logical_id}`"
    props = v.properties
    if "KmsMasterKeyId" in props:
        yield from _key_violations(ctx, noun, props["KmsMasterKeyId"],
                                   queue.at("Properties", "KmsMasterKeyId"), v.scenario)
        return
    managed = ctx.truth(props.get("SqsManagedSseEnabled", True), v.scenario)
    path = queue.at("Properties", "SqsManagedSseEnabled") if "SqsManagedSseEnabled" in props \
        else queue.path
    if isinstance(managed, Unresolved):
        yield _unresolved(noun, "`SqsManagedSseEnabled`", managed.reason, path)
    elif not managed:
        yield Violation(f"{noun} is not encrypted at rest (SQS-managed encryption is off and "
                        "there is no `KmsMasterKeyId`)", path)
    elif not ctx.option("allow_sqs_managed_sse"):
        yield Violation(f"{noun} uses SQS-managed encryption, not a customer-managed KMS key "
                        "(no `KmsMasterKeyId`)", path)


def _sns(ctx: Context, topic: Resource, v: Variant) -> Iterator[Violation]:
    noun = f"Topic `{topic.logical_id}`"
    if "KmsMasterKeyId" not in v.properties:
        yield Violation(f"{noun} is not encrypted at rest (no `KmsMasterKeyId`)", topic.path)
        return
    yield from _key_violations(ctx, noun, v.properties["KmsMasterKeyId"],
                               topic.at("Properties", "KmsMasterKeyId"), v.scenario)


def _dynamodb_sse(ctx: Context, noun: str, sse: Any, path: Path, fallback: Path,
                  scenario: Scenario) -> Iterator[Violation]:
    """SSESpecification: enabled with KMS; returns nothing more to say about the key."""
    if not isinstance(sse, Mapping) or "SSEEnabled" not in sse:
        yield Violation(f"{noun} uses the AWS-owned key, not a customer-managed KMS key (no "
                        "`SSESpecification.SSEEnabled`)", path if isinstance(sse, Mapping)
                        else fallback)
        return
    enabled = ctx.truth(sse["SSEEnabled"], scenario)
    if isinstance(enabled, Unresolved):
        yield _unresolved(noun, "`SSEEnabled`", enabled.reason, (*path, "SSEEnabled"))
    elif not enabled:
        yield Violation(f"{noun} uses the AWS-owned key, not a customer-managed KMS key "
                        "(`SSEEnabled` is false)", (*path, "SSEEnabled"))
    elif "SSEType" in sse:
        kind = _text(ctx, sse["SSEType"], scenario)
        if isinstance(kind, Unresolved):
            yield _unresolved(noun, "`SSEType`", kind.reason, (*path, "SSEType"))
        elif kind != "KMS":
            yield Violation(f"{noun} has `SSEType` {kind}, not KMS", (*path, "SSEType"))


def _dynamodb_table(ctx: Context, table: Resource, v: Variant) -> Iterator[Violation]:
    noun = f"Table `{table.logical_id}`"
    sse = v.properties.get("SSESpecification")
    path = table.at("Properties", "SSESpecification")
    problems = list(_dynamodb_sse(ctx, noun, sse, path, table.path, v.scenario))
    yield from problems
    if problems or not isinstance(sse, Mapping):
        return
    if "KMSMasterKeyId" not in sse:
        yield Violation(f"{noun} is encrypted with the AWS-managed key `alias/aws/dynamodb`, not "
                        "a customer-managed key (no `KMSMasterKeyId`)", path)
        return
    yield from _key_violations(ctx, noun, sse["KMSMasterKeyId"], (*path, "KMSMasterKeyId"),
                               v.scenario)


def _dynamodb_global_table(ctx: Context, table: Resource, v: Variant) -> Iterator[Violation]:
    noun = f"Global table `{table.logical_id}`"
    sse = v.properties.get("SSESpecification")
    problems = list(_dynamodb_sse(ctx, noun, sse, table.at("Properties", "SSESpecification"),
                                  table.path, v.scenario))
    yield from problems
    replicas = v.properties.get("Replicas")
    if problems or not isinstance(replicas, list):
        return
    for i, replica in enumerate(replicas):
        if not isinstance(replica, Mapping):
            continue
        path = table.at("Properties", "Replicas", i)
        region = replica.get("Region")
        where = f"{noun} replica in {region}" if isinstance(region, str) else f"{noun} replica"
        key = replica.get("SSESpecification", {}).get("KMSMasterKeyId") \
            if isinstance(replica.get("SSESpecification"), Mapping) else None
        if key is None:
            yield Violation(f"{where} is encrypted with the AWS-managed key "
                            "`alias/aws/dynamodb` (no `SSESpecification.KMSMasterKeyId`)", path)
        else:
            yield from _key_violations(ctx, where, key,
                                       (*path, "SSESpecification", "KMSMasterKeyId"), v.scenario)


def _kinesis(ctx: Context, stream: Resource, v: Variant) -> Iterator[Violation]:
    noun = f"Stream `{stream.logical_id}`"
    spec = v.properties.get("StreamEncryption")
    path = stream.at("Properties", "StreamEncryption")
    if not isinstance(spec, Mapping):
        yield Violation(f"{noun} is not encrypted at rest (no `StreamEncryption`)", stream.path)
        return
    kind = _text(ctx, spec.get("EncryptionType"), v.scenario)
    if isinstance(kind, Unresolved):
        yield _unresolved(noun, "`EncryptionType`", kind.reason, (*path, "EncryptionType"))
        return
    if kind != "KMS":
        yield Violation(f"{noun} is not encrypted at rest (`EncryptionType` is {kind})",
                        (*path, "EncryptionType"))
        return
    yield from _key_violations(ctx, noun, spec.get("KeyId"), (*path, "KeyId"), v.scenario)


_FIREHOSE_S3_DESTINATIONS = ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration")


def _firehose(ctx: Context, stream: Resource, v: Variant) -> Iterator[Violation]:
    noun = f"Delivery stream `{stream.logical_id}`"
    props = v.properties
    kind = _text(ctx, props.get("DeliveryStreamType", "DirectPut"), v.scenario)
    if isinstance(kind, Unresolved):
        yield _unresolved(noun, "`DeliveryStreamType`", kind.reason,
                          stream.at("Properties", "DeliveryStreamType"))
    elif kind != "KinesisStreamAsSource":  # then the source stream holds the data (ENC001 too)
        yield from _firehose_own(ctx, noun, stream, props.get(
            "DeliveryStreamEncryptionConfigurationInput"), v.scenario)
    for name in _FIREHOSE_S3_DESTINATIONS:
        destination = props.get(name)
        if isinstance(destination, Mapping):
            yield from _firehose_s3(ctx, f"{noun}'s S3 destination", destination,
                                    stream.at("Properties", name), v.scenario)


def _firehose_own(ctx: Context, noun: str, stream: Resource, spec: Any,
                  scenario: Scenario) -> Iterator[Violation]:
    path = stream.at("Properties", "DeliveryStreamEncryptionConfigurationInput")
    if not isinstance(spec, Mapping):
        yield Violation(f"{noun} does not encrypt buffered records with a customer-managed key "
                        "(no `DeliveryStreamEncryptionConfigurationInput`)", stream.path)
        return
    key_type = _text(ctx, spec.get("KeyType"), scenario)
    if isinstance(key_type, Unresolved):
        yield _unresolved(noun, "`KeyType`", key_type.reason, (*path, "KeyType"))
    elif key_type != "CUSTOMER_MANAGED_CMK":
        yield Violation(f"{noun} encrypts buffered records with an AWS-owned key (`KeyType` is "
                        f"{key_type})", (*path, "KeyType"))
    elif "KeyARN" not in spec:
        yield Violation(f"{noun} has `KeyType` CUSTOMER_MANAGED_CMK but no `KeyARN`", path)
    else:
        yield from _key_violations(ctx, noun, spec["KeyARN"], (*path, "KeyARN"), scenario)


def _firehose_s3(ctx: Context, noun: str, destination: Mapping[str, Any], path: Path,
                 scenario: Scenario) -> Iterator[Violation]:
    config = destination.get("EncryptionConfiguration")
    if not isinstance(config, Mapping):
        if _bucket_has_cmk_default(ctx, destination.get("BucketARN"), scenario):
            return
        yield Violation(f"{noun} has no `EncryptionConfiguration` with a customer-managed key, "
                        "and its bucket has no default KMS encryption in this stack", path)
        return
    kms = config.get("KMSEncryptionConfig")
    if not isinstance(kms, Mapping) or "AWSKMSKeyARN" not in kms:
        yield Violation(f"{noun} does not encrypt objects with a customer-managed key (no "
                        "`KMSEncryptionConfig.AWSKMSKeyARN`)", (*path, "EncryptionConfiguration"))
        return
    yield from _key_violations(ctx, noun, kms["AWSKMSKeyARN"],
                               (*path, "EncryptionConfiguration", "KMSEncryptionConfig",
                                "AWSKMSKeyARN"), scenario)


def _bucket_has_cmk_default(ctx: Context, bucket_arn: Any, scenario: Scenario) -> bool:
    """The destination bucket is in the stack and encrypts by default with a KMS key."""
    target = ctx.ref_target(bucket_arn)
    bucket = ctx.template.resources.get(target) if target else None
    if bucket is None or bucket.type != "AWS::S3::Bucket":
        return False
    ctx.examine(bucket)
    encryption = bucket.properties.get("BucketEncryption")
    rules = encryption.get("ServerSideEncryptionConfiguration") \
        if isinstance(encryption, Mapping) else None
    for item in rules if isinstance(rules, list) else ():
        default = item.get("ServerSideEncryptionByDefault") if isinstance(item, Mapping) else None
        if isinstance(default, Mapping) and "KMSMasterKeyID" in default:
            return key_verdict(ctx, default["KMSMasterKeyID"], scenario).kind == "customer"
    return False


def _log_group(ctx: Context, group: Resource, v: Variant) -> Iterator[Violation]:
    noun = f"Log group `{group.logical_id}`"
    if "KmsKeyId" not in v.properties:
        yield Violation(f"{noun} uses CloudWatch Logs' service-managed encryption, not a "
                        "customer-managed KMS key (no `KmsKeyId`)", group.path)
        return
    # CloudWatch Logs has no AWS-managed key: any key it accepts is customer-managed, so an
    # unknown key (a parameter without default) leaves nothing to check.
    verdict = key_verdict(ctx, v.properties["KmsKeyId"], v.scenario)
    if verdict.kind == "aws":
        yield from _key_violations(ctx, noun, v.properties["KmsKeyId"],
                                   group.at("Properties", "KmsKeyId"), v.scenario)


READERS: dict[str, Reader] = {
    "AWS::DynamoDB::Table": _dynamodb_table,
    "AWS::DynamoDB::GlobalTable": _dynamodb_global_table,
    "AWS::SQS::Queue": _sqs,
    "AWS::SNS::Topic": _sns,
    "AWS::Kinesis::Stream": _kinesis,
    "AWS::KinesisFirehose::DeliveryStream": _firehose,
    "AWS::Logs::LogGroup": _log_group,
}


@rule(code="ENC001", name="data-store-customer-managed-key", severity=Severity.ERROR,
      category="encryption-at-rest", resource_types=tuple(READERS),
      options={"allow_sqs_managed_sse": False}, security=True)
def data_store_customer_managed_key(ctx: Context) -> Iterator[Violation]:
    """Data store is not encrypted at rest with a customer-managed KMS key.

    ## What it does
    Checks, for each kind of data store, that data at rest is encrypted with a KMS key you
    manage (a key created in the stack, or a key id, ARN or alias that is not `alias/aws/...`):

    - `AWS::DynamoDB::Table`: `SSESpecification` with `SSEEnabled: true`, `SSEType: KMS` and
      `KMSMasterKeyId`;
    - `AWS::DynamoDB::GlobalTable`: `SSESpecification.SSEEnabled: true` and a `KMSMasterKeyId`
      on every replica;
    - `AWS::SQS::Queue`: `KmsMasterKeyId` (SQS-managed SSE only with the option below);
    - `AWS::SNS::Topic`: `KmsMasterKeyId`;
    - `AWS::Kinesis::Stream`: `StreamEncryption` with `EncryptionType: KMS` and `KeyId`;
    - `AWS::KinesisFirehose::DeliveryStream`: `DeliveryStreamEncryptionConfigurationInput` with
      `KeyType: CUSTOMER_MANAGED_CMK` (except for `KinesisStreamAsSource`, whose data sits in
      the source stream), and `KMSEncryptionConfig` on S3 destinations unless the destination
      bucket is in the stack and encrypts with a KMS key by default;
    - `AWS::Logs::LogGroup`: `KmsKeyId`.

    AWS-managed keys (`alias/aws/sqs`, `arn:...:alias/aws/kinesis`, ...) are reported even when
    they come from a parameter default. A key the linter cannot see (a parameter without a
    default, `Fn::ImportValue`) is reported as a warning saying why it cannot be checked,
    except where it cannot be AWS-managed: a log group's `KmsKeyId` (CloudWatch Logs has no
    AWS-managed key), and a parameter without default that asks for a key, not an alias (its
    `AllowedPattern` admits no `alias/aws/...`, or without a pattern its description asks
    for a key ARN or id): the caller chooses that key.

    ## Why is this bad?
    AWS-owned and AWS-managed keys encrypt the bytes, but you cannot restrict who may use them
    with a key policy, cannot revoke access by disabling the key, cannot share the data with
    another account, and their use is not separately auditable. Regulated workloads (PCI DSS,
    SOX, most financial-services controls) require customer-managed keys for data at rest.
    SNS topics and Kinesis streams are not encrypted at all unless you ask.

    ## Example
    ```yaml
    Resources:
      Events:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
      Alerts:
        Type: AWS::SNS::Topic
        Properties:
          KmsMasterKeyId: alias/aws/sns
    ```

    ## Use instead
    ```yaml
    Resources:
      DataKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
                Action: kms:*
                Resource: "*"
      Events:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
          StreamEncryption:
            EncryptionType: KMS
            KeyId: !Ref DataKey
      Alerts:
        Type: AWS::SNS::Topic
        Properties:
          KmsMasterKeyId: !GetAtt DataKey.Arn
    ```

    ## Options
    - `allow_sqs_managed_sse` (default `false`): accept queues encrypted with SQS-managed keys
      (`SqsManagedSseEnabled`, on by default for new queues) instead of a KMS key.

    ## Known problems
    A literal key id or ARN is assumed to be customer-managed: only `alias/aws/...` names reveal
    an AWS-managed key. DynamoDB tables and CloudWatch log groups are always encrypted; for them
    the finding is about who controls the key, not about plaintext storage.

    ## References
    - [DynamoDB encryption at rest](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html)
    - [SQS server-side encryption](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html)
    - [SNS encryption at rest](https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html)
    - [Kinesis Data Streams server-side encryption](https://docs.aws.amazon.com/streams/latest/dev/server-side-encryption.html)
    - [Data protection in Amazon Data Firehose](https://docs.aws.amazon.com/firehose/latest/dev/encryption.html)
    - [Encrypt log data in CloudWatch Logs using KMS](https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)
    - [AWS KMS keys: customer managed and AWS managed](https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-mgmt)
    """
    for resource in ctx.resources():
        reader = READERS[resource.type]
        yield from ctx.each_variant(resource, lambda v, r=resource, f=reader: f(ctx, r, v))


# ------------------------------------------------------------------------------------ Glue

_GLUE_USERS = {"AWS::Glue::Job": "SecurityConfiguration",
               "AWS::Glue::Crawler": "CrawlerSecurityConfiguration"}
_GLUE_PARTS = (
    # (property, mode key, required mode, what it protects)
    ("CloudWatchEncryption", "CloudWatchEncryptionMode", "SSE-KMS", "CloudWatch logs"),
    ("JobBookmarksEncryption", "JobBookmarksEncryptionMode", "CSE-KMS", "job bookmarks"),
)


@rule(code="ENC002", name="glue-security-configuration", severity=Severity.ERROR,
      category="encryption-at-rest",
      resource_types=(*_GLUE_USERS, "AWS::Glue::SecurityConfiguration"), security=True)
def glue_security_configuration(ctx: Context) -> Iterator[Violation]:
    """Glue job or crawler does not encrypt its output, logs and bookmarks with KMS.

    ## What it does
    Checks that every `AWS::Glue::Job` names a `SecurityConfiguration` and every
    `AWS::Glue::Crawler` a `CrawlerSecurityConfiguration`, and that every
    `AWS::Glue::SecurityConfiguration` in the stack encrypts all three things Glue writes:
    S3 output (`S3Encryptions` with `SSE-KMS`), CloudWatch logs (`SSE-KMS`) and job bookmarks
    (`CSE-KMS`), each with a customer-managed `KmsKeyArn`. A configuration named by a literal
    or a parameter is looked up by its `Name` among the stack's configurations; one defined
    elsewhere is reported as a warning because its settings cannot be checked.

    ## Why is this bad?
    Without a security configuration Glue writes job output with the bucket's default settings,
    and its logs and bookmarks (which contain paths, partition values and sometimes record
    samples) with AWS-owned keys. A security configuration that sets only S3 encryption still
    leaves the logs and bookmarks outside your key policy.

    ## Example
    ```yaml
    Resources:
      Transform:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: s3://scripts/etl.py}
    ```

    ## Use instead
    ```yaml
    Resources:
      GlueKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
                Action: kms:*
                Resource: "*"
      GlueSecurity:
        Type: AWS::Glue::SecurityConfiguration
        Properties:
          Name: etl-security
          EncryptionConfiguration:
            S3Encryptions:
              - S3EncryptionMode: SSE-KMS
                KmsKeyArn: !GetAtt GlueKey.Arn
            CloudWatchEncryption:
              CloudWatchEncryptionMode: SSE-KMS
              KmsKeyArn: !GetAtt GlueKey.Arn
            JobBookmarksEncryption:
              JobBookmarksEncryptionMode: CSE-KMS
              KmsKeyArn: !GetAtt GlueKey.Arn
      Transform:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: s3://scripts/etl.py}
          SecurityConfiguration: !Ref GlueSecurity
    ```

    ## Known problems
    The CloudWatch Logs key policy must also let `logs.<region>.amazonaws.com` use the key;
    the KMS key-policy rules check that, not this one.

    ## References
    - [Encrypting data written by AWS Glue](https://docs.aws.amazon.com/glue/latest/dg/encryption-security-configuration.html)
    - [AWS::Glue::SecurityConfiguration](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-glue-securityconfiguration.html)
    """
    configs = list(ctx.resources("AWS::Glue::SecurityConfiguration"))
    names = _configuration_names(ctx, configs)
    for user in ctx.resources(*_GLUE_USERS):
        yield from ctx.each_variant(user, lambda v, u=user: _glue_user(ctx, u, v, names))
    for config in configs:
        yield from ctx.each_variant(config, lambda v, c=config: _glue_config(ctx, c, v))


def _configuration_names(ctx: Context, configs: list[Resource]) -> set[str]:
    names = set()
    for config in configs:
        name = ctx.resolve(config.properties.get("Name"))
        if isinstance(name, str):
            names.add(name)
    return names


def _glue_user(ctx: Context, user: Resource, v: Variant, names: set[str]) -> Iterator[Violation]:
    noun = f"{'Job' if user.type == 'AWS::Glue::Job' else 'Crawler'} `{user.logical_id}`"
    prop = _GLUE_USERS[user.type]
    value = v.properties.get(prop)
    if value is None:
        # A crawler writes no S3 output and keeps no bookmarks: only its logs are at stake.
        what = "output, logs and bookmarks are" if user.type == "AWS::Glue::Job" else "logs are"
        yield Violation(f"{noun} has no `{prop}`, so its {what} not encrypted with a "
                        "customer-managed key", user.path)
        return
    target = ctx.ref_target(value)
    if target is not None and ctx.template.resources[target].type == \
            "AWS::Glue::SecurityConfiguration":
        return  # the configuration itself is checked below
    name = ctx.resolve(value, v.scenario)
    path = user.at("Properties", prop)
    if isinstance(name, Unresolved):
        yield _unresolved(noun, f"`{prop}`", name.reason, path)
    elif str(name) not in names:
        yield Violation(f"{noun}'s security configuration `{name}` cannot be checked because "
                        "it is not defined in this stack", path, severity=Severity.WARNING)


def _glue_config(ctx: Context, config: Resource, v: Variant) -> Iterator[Violation]:
    noun = f"Security configuration `{config.logical_id}`"
    base = ("Properties", "EncryptionConfiguration")
    encryption = v.properties.get("EncryptionConfiguration")
    if not isinstance(encryption, Mapping):
        yield Violation(f"{noun} has no `EncryptionConfiguration`", config.path)
        return
    yield from _glue_s3(ctx, noun, config, encryption.get("S3Encryptions"), v.scenario)
    for prop, mode_key, wanted, what in _GLUE_PARTS:
        part = encryption.get(prop)
        path = config.at(*base, prop)
        if not isinstance(part, Mapping):
            yield Violation(f"{noun} does not encrypt {what} (no `{prop}`)", config.at(*base),
                            key=prop)
            continue
        yield from _glue_mode(ctx, f"{noun} ({what})", part, mode_key, wanted, path, v.scenario)


def _glue_s3(ctx: Context, noun: str, config: Resource, value: Any,
             scenario: Scenario) -> Iterator[Violation]:
    base = config.at("Properties", "EncryptionConfiguration")
    items = value if isinstance(value, list) else [value] if isinstance(value, Mapping) else []
    if not items:
        yield Violation(f"{noun} does not encrypt S3 output (no `S3Encryptions`)", base)
        return
    for i, item in enumerate(items):
        path = (*base, "S3Encryptions", i) if isinstance(value, list) else (*base, "S3Encryptions")
        if isinstance(item, Mapping):
            yield from _glue_mode(ctx, f"{noun} (S3 output)", item, "S3EncryptionMode", "SSE-KMS",
                                  path, scenario)


def _glue_mode(ctx: Context, noun: str, part: Mapping[str, Any], mode_key: str, wanted: str,
               path: Path, scenario: Scenario) -> Iterator[Violation]:
    mode = _text(ctx, part.get(mode_key, "DISABLED"), scenario)
    if isinstance(mode, Unresolved):
        yield _unresolved(noun, f"`{mode_key}`", mode.reason, (*path, mode_key))
    elif mode != wanted:
        where = (*path, mode_key) if mode_key in part else path
        yield Violation(f"{noun} has `{mode_key}` {mode}, not {wanted}", where)
    elif "KmsKeyArn" not in part:
        yield Violation(f"{noun} has no `KmsKeyArn`", path)
    else:
        yield from _key_violations(ctx, noun, part["KmsKeyArn"], (*path, "KmsKeyArn"), scenario)
