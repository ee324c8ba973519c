"""S3 bucket access, encryption, versioning and logging (codes BKT001-BKT008).

BKT001/BKT002 read the bucket's own bucket policy, found through the graph (`Bucket: !Ref B`) or by
a literal name equal to the bucket's `BucketName`; a policy attached to another bucket, or a Deny
in an IAM role, never counts. BKT003-BKT008 read the bucket's properties.

What a bucket is for comes from the core's roles (`ctx.role(bucket)`), read from the graph:
a bucket that another bucket, a trail, a Config channel, a load balancer, a CloudFront
distribution, a flow log, WAF or a log-fed Firehose stream delivers logs to is a log-delivery
bucket, whatever its name. Log-delivery buckets are exempt from the rules that make no sense for
them (BKT001: the delivering service decides how objects are encrypted; BKT006); the target of
S3 server access logs is not asked to log its own access (BKT008: logging it never ends), while
a CloudTrail or Config bucket is (its readers are worth an audit trail); targets of S3 server
access logs and load-balancer logs, which AWS writes with SSE-S3 only, are exempt from BKT003.
Website buckets and CloudFront origins may allow CORS from any origin (BKT006).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    SERVED,
    SSE_S3_ONLY,
    Context,
    Purpose,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Variant,
    Violation,
    allows_action,
    as_int,
    bucket_arns,
    bucket_policies,
    condition_values,
    conditions_of,
    effect_of,
    exists_in,
    expires_everything_within,
    in_scenario,
    is_true,
    located_statements,
    pattern_matches,
    principals_of,
    receives_command_output,
    receives_firehose_backup,
    render,
    resources_of,
    rule,
    stores_nothing,
)

Path = tuple[str | int, ...]
BUCKET = ("AWS::S3::Bucket",)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
SSE_HEADER = "s3:x-amz-server-side-encryption"
SSE_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
NEGATED_STRING_OPERATORS = ("StringNotEquals", "StringNotLike")

# ------------------------------------------------------------------------------ helpers


def _everyone(statement: Mapping[str, Any]) -> bool:
    found = principals_of(statement)
    return bool(found) and any(p.is_everyone for p in found)


def _covers(patterns: Iterable[str], targets: Iterable[str]) -> bool:
    patterns = tuple(patterns)
    return any(pattern_matches(p, t) for p in patterns for t in targets)


def _documents(ctx: Context, policies: list[Resource], scenario: Scenario
               ) -> list[tuple[Resource, Any]]:
    return [(p, in_scenario(p.properties.get("PolicyDocument"), scenario))
            for p in policies if exists_in(p, scenario)]


def _unresolved(what: str, reason: str, path: Path) -> Violation:
    return Violation(f"{what} cannot be checked because {reason}", path,
                     severity=Severity.WARNING)


# ---------------------------------------------------------------------- BKT001 unencrypted


def _encryption_condition(statement: Mapping[str, Any], ctx: Context) -> str:
    """"kms" when the Deny fires for every upload not encrypted with aws:kms, "null" when it
    fires only for uploads without an encryption header, else ""."""
    strength = ""
    for condition in conditions_of(statement, ctx.template):
        if condition.base in NEGATED_STRING_OPERATORS:
            if condition.key_is(SSE_KEY_HEADER) and condition.values:
                return "kms"
            if condition.key_is(SSE_HEADER) and condition.values and all(
                    v in KMS_ALGORITHMS for v in condition.values):
                return "kms"
        if condition.base == "Null" and condition.key_is(SSE_HEADER) and all(
                is_true(v) for v in condition.values):
            strength = "null"
    return strength


def _deny_unencrypted(ctx: Context, bucket: Resource, policies: list[Resource],
                      scenario: Scenario) -> Iterator[Violation]:
    documents = _documents(ctx, policies, scenario)
    if not documents:
        yield Violation(f"Bucket `{bucket.logical_id}` has no bucket policy, so nothing denies "
                        "uploads that are not encrypted with `aws:kms`", bucket.path)
        return
    _, objects = bucket_arns(bucket, ctx.template, scenario)
    weak: Path | None = None
    for policy, document in documents:
        base = policy.at("Properties", "PolicyDocument")
        for path, statement in located_statements(document, base):
            if not (effect_of(statement) == "Deny" and _everyone(statement)
                    and allows_action(statement, "s3:PutObject")
                    and _covers(resources_of(statement, ctx.template, scenario), objects)):
                continue
            strength = _encryption_condition(statement, ctx)
            if strength == "kms":
                return
            if strength == "null":
                weak = path
    names = ", ".join(f"`{p.logical_id}`" for p, _ in documents)
    if weak is not None:
        yield Violation(f"Bucket policy of bucket `{bucket.logical_id}` denies only uploads "
                        "without an encryption header; uploads with SSE-S3 (`AES256`) are "
                        "still allowed", weak)
        return
    yield Violation(f"Bucket policy {names} of bucket `{bucket.logical_id}` has no Deny for "
                    f"principal `*` on `s3:PutObject` when `{SSE_HEADER}` is not `aws:kms`",
                    documents[0][0].at("Properties", "PolicyDocument"))


@rule(code="BKT001", name="s3-deny-unencrypted-uploads", severity=Severity.ERROR,
      category="s3-deny-unencrypted", resource_types=BUCKET, security=True)
def deny_unencrypted_uploads(ctx: Context) -> Iterator[Violation]:
    """Bucket policy does not deny uploads that are not encrypted with KMS.

    ## What it does
    Looks up the bucket policy of every bucket through the graph (`Bucket: !Ref B`, or a
    literal name equal to the bucket's `BucketName`) and checks that one statement denies
    `s3:PutObject` on the bucket's objects (`arn:aws:s3:::name/*`) to principal `*` when
    `s3:x-amz-server-side-encryption` is not `aws:kms` (`StringNotEquals`, also with
    `IfExists`), or when `s3:x-amz-server-side-encryption-aws-kms-key-id` is not the expected
    key. A Deny that uses only `Null` (header missing) is reported too: it still lets uploads
    encrypted with SSE-S3 through. Every condition scenario is checked.

    A `Deny` in an IAM role or managed policy does **not** satisfy this rule: it binds only
    the principals that carry that policy, while the bucket policy binds every caller,
    including other accounts and roles created later. A policy attached to another bucket
    does not protect this one either.

    ## Why is this bad?
    Default bucket encryption only applies when the uploader sends no encryption header; a
    client can still choose SSE-S3 and the object is then not protected by the customer
    key, its key policy and its audit trail. Financial-data controls require the bucket
    itself to refuse such uploads.

    ## Example
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
      RawPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Raw
          PolicyDocument:
            Statement:
              - Effect: Deny
                Principal: "*"
                Action: s3:*
                Resource: [!GetAtt Raw.Arn, !Sub "${Raw.Arn}/*"]
                Condition: {Bool: {aws:SecureTransport: false}}
    ```

    ## Use instead
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
      RawPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Raw
          PolicyDocument:
            Statement:
              - Effect: Deny
                Principal: "*"
                Action: s3:PutObject
                Resource: !Sub "${Raw.Arn}/*"
                Condition:
                  StringNotEquals: {s3:x-amz-server-side-encryption: aws:kms}
    ```

    Log-delivery buckets (the targets of server access logs, CloudTrail, Config,
    load-balancer, CloudFront, flow, WAF or log-fed Firehose delivery, found through the
    graph, also when both sides name the bucket with the same parameter) are exempt: the
    delivering service, not the uploader, decides how their objects are encrypted (a trail
    writes SSE-S3 unless it sets `KmsKeyId`, so a KMS-only Deny would stop its delivery).
    Website buckets and CloudFront origins are exempt too: they serve content to everyone,
    and an origin read through an origin access identity cannot read SSE-KMS objects.

    ## Known problems
    Buckets whose policy lives in another stack are reported: the rule cannot see it. A
    bucket that receives logs from outside the stack is taken for a data bucket.

    ## References
    - [Protecting data with server-side encryption](https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html)
    - [Requiring SSE-KMS for all objects](https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html)
    - [Policy evaluation logic](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
    """
    for bucket in ctx.resources():
        role = ctx.role(bucket)
        if role.is_log_bucket or role.has(SERVED):
            continue
        policies = bucket_policies(ctx, bucket)
        yield from ctx.each_scenario(bucket, policies,
                                   lambda s, b=bucket, p=policies: _deny_unencrypted(ctx, b, p, s))


# ------------------------------------------------------------------- BKT002 secure transport


def _denies_insecure(statement: Mapping[str, Any], ctx: Context) -> bool:
    values = condition_values(statement, "aws:SecureTransport", ("Bool", "BoolIfExists"),
                              ctx.template)
    return bool(values) and all(v.lower() == "false" for v in values or ())


def _secure_transport(ctx: Context, bucket: Resource, policies: list[Resource],
                      scenario: Scenario) -> Iterator[Violation]:
    documents = _documents(ctx, policies, scenario)
    if not documents:
        yield Violation(f"Bucket `{bucket.logical_id}` has no bucket policy, so nothing denies "
                        "requests without TLS (`aws:SecureTransport: false`)", bucket.path)
        return
    arns, objects = bucket_arns(bucket, ctx.template, scenario)
    bucket_covered = objects_covered = False
    narrow: list[str] = []  # resources of TLS denies that cover neither ARN form in full
    for _, document in documents:
        for _, statement in located_statements(document, ()):
            if (effect_of(statement) == "Deny" and _everyone(statement)
                    and allows_action(statement, "s3:*") and _denies_insecure(statement, ctx)):
                patterns = resources_of(statement, ctx.template, scenario)
                bucket_covered |= _covers(patterns, arns)
                objects_covered |= _covers(patterns, objects)
                narrow += [p for p in patterns if not _covers((p,), (*arns, *objects))]
    if bucket_covered and objects_covered:
        return
    path = documents[0][0].at("Properties", "PolicyDocument")
    if narrow and not objects_covered:
        only = ", ".join(f"`{p}`" for p in dict.fromkeys(narrow))
        left = "the other objects" if bucket_covered else "the bucket ARN and the other objects"
        yield Violation(f"Bucket policy of bucket `{bucket.logical_id}` denies requests without "
                        f"TLS (`aws:SecureTransport: false`) only over {only}; {left} are "
                        "left uncovered", path)
        return
    missing = ("the bucket and its objects" if not (bucket_covered or objects_covered)
               else "the bucket ARN" if not bucket_covered else "the object ARNs (`/*`)")
    yield Violation(f"Bucket policy of bucket `{bucket.logical_id}` does not deny `s3:*` to "
                    f"principal `*` over {missing} when `aws:SecureTransport` is false", path)


@rule(code="BKT002", name="s3-deny-insecure-transport", severity=Severity.ERROR,
      category="s3-secure-transport", resource_types=BUCKET, security=True)
def deny_insecure_transport(ctx: Context) -> Iterator[Violation]:
    """Bucket policy does not deny requests made without TLS.

    ## What it does
    Checks that the bucket's own policy (found through the graph or by literal bucket name)
    has a `Deny` for principal `*` on `s3:*` (or `*`) with `Bool: {aws:SecureTransport:
    false}`, and that these statements cover both the bucket ARN (`!GetAtt B.Arn`) and the
    object ARNs (`${B.Arn}/*`). A Deny covering only one of them leaves the other open.
    Every bucket is checked, access-log buckets included.

    ## Why is this bad?
    Without the Deny, S3 accepts plain-HTTP requests; credentials-signed requests and the data
    itself then travel unencrypted. Bucket-level operations (listing, policy reads) use the
    bucket ARN, object reads and writes the object ARNs, so both must be denied.

    ## Example
    ```yaml
    Resources:
      Curated:
        Type: AWS::S3::Bucket
      CuratedPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Curated
          PolicyDocument:
            Statement:
              - Effect: Deny
                Principal: "*"
                Action: s3:*
                Resource: !Sub "${Curated.Arn}/*"
                Condition: {Bool: {aws:SecureTransport: false}}
    ```

    ## Use instead
    ```yaml
    Resources:
      Curated:
        Type: AWS::S3::Bucket
      CuratedPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Curated
          PolicyDocument:
            Statement:
              - Effect: Deny
                Principal: "*"
                Action: s3:*
                Resource: [!GetAtt Curated.Arn, !Sub "${Curated.Arn}/*"]
                Condition: {Bool: {aws:SecureTransport: false}}
    ```

    ## Known problems
    A Deny on a narrower action list (for example only `s3:GetObject`) is not accepted.

    ## References
    - [Enforce encryption in transit (S3 security best practices)](https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html)
    - [AWS global condition keys: aws:SecureTransport](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-securetransport)
    """
    for bucket in ctx.resources():
        policies = bucket_policies(ctx, bucket)
        yield from ctx.each_scenario(bucket, policies,
                                   lambda s, b=bucket, p=policies: _secure_transport(ctx, b, p, s))


# ------------------------------------------------------------------------- BKT003 / BKT004


def _default_encryption(v: Variant) -> list[tuple[Path, Any]]:
    """(path, ServerSideEncryptionByDefault) of every encryption rule of the variant."""
    config = v.properties.get("BucketEncryption")
    if not isinstance(config, dict):
        return []
    rules = config.get("ServerSideEncryptionConfiguration")
    found = []
    for i, item in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(item, dict):
            found.append((("BucketEncryption", "ServerSideEncryptionConfiguration", i), item))
    return found


def _encryption_violations(ctx: Context, bucket: Resource, v: Variant) -> Iterator[Violation]:
    name = bucket.logical_id
    rules = _default_encryption(v)
    if not rules:
        path = (bucket.at("Properties", "BucketEncryption") if "BucketEncryption"
                in v.properties else bucket.path)
        yield Violation(f"Bucket `{name}` has no default encryption with a customer-managed "
                        "KMS key (S3 falls back to SSE-S3)", path)
        return
    for where, item in rules:
        default = item.get("ServerSideEncryptionByDefault")
        path = bucket.at("Properties", *where, "ServerSideEncryptionByDefault")
        if not isinstance(default, dict):
            yield Violation(f"Bucket `{name}` has an encryption rule without "
                            "`ServerSideEncryptionByDefault`", bucket.at("Properties", *where))
            continue
        algorithm = ctx.resolve(default.get("SSEAlgorithm"), v.scenario)
        if isinstance(algorithm, Unresolved):
            yield _unresolved(f"Bucket `{name}`'s `SSEAlgorithm`", algorithm.reason,
                              (*path, "SSEAlgorithm"))
            continue
        if algorithm not in KMS_ALGORITHMS:
            yield Violation(f"Bucket `{name}` encrypts with `{algorithm}` instead of `aws:kms` "
                            "and a customer-managed key", (*path, "SSEAlgorithm"))
            continue
        key = default.get("KMSMasterKeyID")
        if key is None:
            yield Violation(f"Bucket `{name}` uses `aws:kms` without `KMSMasterKeyID`, i.e. "
                            "the AWS-managed key `aws/s3`", path)
        elif "alias/aws/" in render(key, ctx.template, v.scenario):
            yield Violation(f"Bucket `{name}` uses an AWS-managed key instead of a "
                            "customer-managed key", (*path, "KMSMasterKeyID"))


@rule(code="BKT003", name="s3-default-encryption-cmk", severity=Severity.ERROR,
      category="s3-encryption", resource_types=BUCKET, security=True)
def default_encryption_cmk(ctx: Context) -> Iterator[Violation]:
    """Bucket is not encrypted by default with a customer-managed KMS key.

    ## What it does
    Checks `BucketEncryption.ServerSideEncryptionConfiguration[*].ServerSideEncryptionByDefault`:
    `SSEAlgorithm` must be `aws:kms` or `aws:kms:dsse` and `KMSMasterKeyID` must name a
    customer-managed key (not absent, not `alias/aws/s3`). Values are read through parameter
    defaults and in every condition scenario; an unresolvable algorithm is reported as such.
    Targets of S3 server access logs and load-balancer access logs (found through the
    graph: another bucket's `LoggingConfiguration`, a load balancer's log attributes, a policy
    granting the delivery service) are exempt: AWS delivers those logs with SSE-S3 only.
    So are website buckets and CloudFront origins: their content is served to everyone, a
    customer key guards nothing there, and an origin access identity cannot read SSE-KMS
    objects at all.

    ## Why is this bad?
    Without a customer-managed key, the key policy cannot restrict who decrypts the data,
    the key cannot be disabled in an incident, and cross-account consumers cannot be
    granted decryption selectively. SSE-S3 and the AWS-managed `aws/s3` key give none of
    these controls.

    ## Example
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          BucketEncryption:
            ServerSideEncryptionConfiguration:
              - ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}
    ```

    ## Use instead
    ```yaml
    Resources:
      DataKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          BucketEncryption:
            ServerSideEncryptionConfiguration:
              - ServerSideEncryptionByDefault:
                  SSEAlgorithm: aws:kms
                  KMSMasterKeyID: !GetAtt DataKey.Arn
                BucketKeyEnabled: true
    ```

    ## References
    - [Setting default server-side encryption for a bucket](https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html)
    - [Server access logging: target bucket encryption](https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)
    """
    for bucket in ctx.resources():
        if not ctx.role(bucket).has(SSE_S3_ONLY, SERVED):
            yield from ctx.each_variant(bucket, lambda v, b=bucket: _encryption_violations(
                ctx, b, v))


def _bucket_key(ctx: Context, bucket: Resource, v: Variant) -> Iterator[Violation]:
    for where, item in _default_encryption(v):
        default = item.get("ServerSideEncryptionByDefault")
        if not isinstance(default, dict):
            continue
        if ctx.resolve(default.get("SSEAlgorithm"), v.scenario) != "aws:kms":
            continue
        enabled = ctx.resolve(item.get("BucketKeyEnabled", False), v.scenario)
        if isinstance(enabled, Unresolved):
            yield _unresolved(f"Bucket `{bucket.logical_id}`'s `BucketKeyEnabled`",
                              enabled.reason, bucket.at("Properties", *where,
                                                        "BucketKeyEnabled"))
        elif not is_true(enabled):
            path = (bucket.at("Properties", *where, "BucketKeyEnabled")
                    if "BucketKeyEnabled" in item else bucket.at("Properties", *where))
            yield Violation(f"Bucket `{bucket.logical_id}` encrypts with KMS without an S3 "
                            "Bucket Key (`BucketKeyEnabled: true`)", path)


@rule(code="BKT004", name="s3-bucket-key-enabled", severity=Severity.WARNING,
      category="s3-encryption", resource_types=BUCKET)
def bucket_key_enabled(ctx: Context) -> Iterator[Violation]:
    """Bucket encrypts with SSE-KMS without an S3 Bucket Key.

    ## What it does
    For each default-encryption rule with `SSEAlgorithm: aws:kms`, checks that
    `BucketKeyEnabled` is true. DSSE-KMS (`aws:kms:dsse`) does not support bucket keys and
    is not checked.

    ## Why is this bad?
    Without a bucket key every object operation calls KMS: at tens of terabytes a day that
    is a large KMS bill and a risk of KMS request throttling. A bucket key cuts KMS calls by
    up to 99% without weakening the key policy.

    ## Example
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          BucketEncryption:
            ServerSideEncryptionConfiguration:
              - ServerSideEncryptionByDefault:
                  SSEAlgorithm: aws:kms
                  KMSMasterKeyID: arn:aws:kms:eu-west-1:111122223333:key/abcd
    ```

    ## Use instead
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          BucketEncryption:
            ServerSideEncryptionConfiguration:
              - ServerSideEncryptionByDefault:
                  SSEAlgorithm: aws:kms
                  KMSMasterKeyID: arn:aws:kms:eu-west-1:111122223333:key/abcd
                BucketKeyEnabled: true
    ```

    ## References
    - [Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys](https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html)
    """
    for bucket in ctx.resources():
        yield from ctx.each_variant(bucket, lambda v, b=bucket: _bucket_key(ctx, b, v))


# ------------------------------------------------------------------------- BKT005 / BKT006

PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                       "RestrictPublicBuckets")


def _public_access(ctx: Context, bucket: Resource, v: Variant) -> Iterator[Violation]:
    config = v.properties.get("PublicAccessBlockConfiguration")
    name = bucket.logical_id
    if not isinstance(config, dict):
        return  # S3 blocks all four for a bucket created without the property (April 2023)
    base = bucket.at("Properties", "PublicAccessBlockConfiguration")
    for flag in PUBLIC_ACCESS_FLAGS:
        if flag not in config:
            yield Violation(f"Bucket `{name}` does not set `{flag}: true`", base, key=flag)
            continue
        value = ctx.resolve(config[flag], v.scenario)
        if isinstance(value, Unresolved):
            yield _unresolved(f"Bucket `{name}`'s `{flag}`", value.reason, (*base, flag))
        elif not is_true(value):
            yield Violation(f"Bucket `{name}` sets `{flag}` to {value}", (*base, flag))


@rule(code="BKT005", name="s3-public-access-block", severity=Severity.ERROR,
      category="s3-public-access", resource_types=BUCKET, security=True)
def public_access_block(ctx: Context) -> Iterator[Violation]:
    """Bucket does not block every form of public access.

    ## What it does
    Checks that a `PublicAccessBlockConfiguration` sets all four flags, `BlockPublicAcls`,
    `BlockPublicPolicy`, `IgnorePublicAcls` and `RestrictPublicBuckets`, to true (flags left
    out of a configuration that is present default to false). Each missing or false flag is
    one finding; values are read through parameter defaults and in every condition scenario.

    A bucket without the property is not reported: since April 2023 S3 turns on all four
    flags for every new bucket created without it, so nothing is exposed. Only a
    configuration that switches a flag off (or leaves one out) weakens that default.

    ## Why is this bad?
    A single public ACL or a policy statement with `Principal: "*"` is enough to expose the
    data. The block settings make S3 refuse such grants regardless of later mistakes.

    ## Example
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          PublicAccessBlockConfiguration:
            BlockPublicAcls: true
            BlockPublicPolicy: true
    ```

    ## Use instead
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          PublicAccessBlockConfiguration:
            BlockPublicAcls: true
            BlockPublicPolicy: true
            IgnorePublicAcls: true
            RestrictPublicBuckets: true
    ```

    ## References
    - [Blocking public access to your Amazon S3 storage](https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html)
    """
    for bucket in ctx.resources():
        yield from ctx.each_variant(bucket, lambda v, b=bucket: _public_access(ctx, b, v))


def _cors(ctx: Context, bucket: Resource, v: Variant) -> Iterator[Violation]:
    config = v.properties.get("CorsConfiguration")
    rules = config.get("CorsRules") if isinstance(config, dict) else None
    for i, item in enumerate(rules if isinstance(rules, list) else []):
        origins = item.get("AllowedOrigins") if isinstance(item, dict) else None
        for j, origin in enumerate(origins if isinstance(origins, list) else []):
            if ctx.resolve(origin, v.scenario) == "*":
                yield Violation(f"Bucket `{bucket.logical_id}` allows cross-origin requests "
                                "from any origin (`AllowedOrigins: '*'`)",
                                bucket.at("Properties", "CorsConfiguration", "CorsRules", i,
                                          "AllowedOrigins", j))


@rule(code="BKT006", name="s3-cors-any-origin", severity=Severity.ERROR,
      category="s3-public-access", resource_types=BUCKET, security=True)
def cors_any_origin(ctx: Context) -> Iterator[Violation]:
    """Data bucket accepts cross-origin requests from any web origin.

    ## What it does
    Reports `CorsConfiguration.CorsRules[*].AllowedOrigins` entries equal to `*` (also through
    parameter defaults) on data buckets. Buckets that serve browsers are exempt: website
    buckets (`WebsiteConfiguration`) and CloudFront origins (named in a distribution's
    `Origins`, or whose policy grants CloudFront). So are log-delivery buckets.

    ## Why is this bad?
    A wildcard origin lets scripts on any web site call the bucket with a visitor's
    credentials or pre-signed URLs. Data buckets of a processing pipeline have no browser
    clients; list the application origins that really need access.

    ## Example
    ```yaml
    Resources:
      Curated:
        Type: AWS::S3::Bucket
        Properties:
          CorsConfiguration:
            CorsRules:
              - AllowedMethods: [GET]
                AllowedOrigins: ["*"]
    ```

    ## Use instead
    ```yaml
    Resources:
      Curated:
        Type: AWS::S3::Bucket
        Properties:
          CorsConfiguration:
            CorsRules:
              - AllowedMethods: [GET]
                AllowedOrigins: [https://reports.example.com]
    ```

    ## References
    - [Using cross-origin resource sharing (CORS)](https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html)
    """
    for bucket in ctx.resources():
        role = ctx.role(bucket)
        if not (role.is_log_bucket or role.has(SERVED)):
            yield from ctx.each_variant(bucket, lambda v, b=bucket: _cors(ctx, b, v))


# ------------------------------------------------------------------------- BKT007 / BKT008


def _versioning(ctx: Context, bucket: Resource, v: Variant) -> Iterator[Violation]:
    config = v.properties.get("VersioningConfiguration")
    name = bucket.logical_id
    if not isinstance(config, dict) or "Status" not in config:
        yield Violation(f"Bucket `{name}` does not enable versioning", bucket.path
                        if not isinstance(config, dict)
                        else bucket.at("Properties", "VersioningConfiguration"))
        return
    path = bucket.at("Properties", "VersioningConfiguration", "Status")
    status = ctx.resolve(config["Status"], v.scenario)
    if isinstance(status, Unresolved):
        yield _unresolved(f"Bucket `{name}`'s versioning status", status.reason, path)
    elif status != "Enabled":
        yield Violation(f"Bucket `{name}` has versioning `{status}` instead of `Enabled`", path)


def _written_once(ctx: Context, bucket: Resource) -> bool:
    """Objects of the bucket are written once and never overwritten, or do not last: a
    log-delivery target, an SSM/EMR output location, a Firehose backup, or a bucket whose
    every object expires within `transient_days`."""
    if ctx.role(bucket).is_log_bucket or receives_command_output(ctx, bucket) \
            or receives_firehose_backup(ctx, bucket):
        return True
    days = expires_everything_within(ctx, bucket)
    limit = as_int(ctx.option("transient_days"))
    return days is not None and isinstance(limit, int) and days <= limit


@rule(code="BKT007", name="s3-versioning-enabled", severity=Severity.WARNING,
      category="s3-versioning", resource_types=BUCKET, options={"transient_days": 30})
def versioning_enabled(ctx: Context) -> Iterator[Violation]:
    """Bucket does not keep object versions.

    ## What it does
    Checks that `VersioningConfiguration.Status` is `Enabled`, through parameter defaults and
    in every condition scenario. Log-delivery buckets (found through the graph, as for
    BKT001) are exempt: log objects are written once under unique keys and need expiration,
    not versions. So are buckets with no data path: nothing in the stack reads or writes
    them (only their policy or deployment-time objects refer to them), no output hands them
    on and they have no physical name another system could use. So are buckets whose
    objects are written once under keys of their own, as for log delivery: the output
    location of an SSM association or maintenance-window Run Command task, an EMR cluster's
    log URI, a Firehose stream's backup (`S3BackupConfiguration`, or the `S3Configuration`
    of a destination that is not S3), and buckets that hold transient data: an enabled
    lifecycle rule with no scope expires every object within `transient_days`.

    ## Why is this bad?
    Without versioning an overwrite or a delete destroys the previous object for good: audit
    trails lose their history, ransomware-style overwrites cannot be undone, and replication
    and Object Lock are unavailable.

    ## Example
    ```yaml
    Resources:
      Audit:
        Type: AWS::S3::Bucket
        Properties:
          BucketName: audit-trail-example
          VersioningConfiguration: {Status: Suspended}
    ```

    ## Use instead
    ```yaml
    Resources:
      Audit:
        Type: AWS::S3::Bucket
        Properties:
          BucketName: audit-trail-example
          VersioningConfiguration: {Status: Enabled}
    ```

    ## References
    ## Options
    - `transient_days` (default 30): a bucket whose every object expires within this many
      days holds transient data and is not asked.

    ## References
    - [Using versioning in S3 buckets](https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html)
    """
    for bucket in ctx.resources():
        if not (_written_once(ctx, bucket) or stores_nothing(ctx, bucket)):
            yield from ctx.each_variant(bucket, lambda v, b=bucket: _versioning(ctx, b, v))


def _access_logging(ctx: Context, bucket: Resource, v: Variant) -> Iterator[Violation]:
    config = v.properties.get("LoggingConfiguration")
    name = bucket.logical_id
    if not isinstance(config, dict):
        yield Violation(f"Bucket `{name}` does not log access (`LoggingConfiguration`)",
                        bucket.path)
        return
    destination = config.get("DestinationBucketName")
    if destination is None or ctx.ref_target(destination) == name:
        yield Violation(f"Bucket `{name}` writes its access logs into itself; send them to a "
                        "separate log bucket", bucket.at("Properties", "LoggingConfiguration"))


@rule(code="BKT008", name="s3-access-logging", severity=Severity.ERROR,
      category="s3-access-logging", resource_types=BUCKET)
def access_logging(ctx: Context) -> Iterator[Violation]:
    """Data bucket does not log access to a log bucket.

    ## What it does
    Checks that every bucket except the targets of S3 server access logs has a
    `LoggingConfiguration` whose `DestinationBucketName` is another bucket. An access-log
    target is found through the graph: named by another bucket's `LoggingConfiguration`,
    or with `AccessControl: LogDeliveryWrite`, or whose policy grants
    `logging.s3.amazonaws.com`. Its name plays no part: a bucket called `Logs` that holds
    data is checked, an access-log target called anything is not. Buckets that receive
    other logs (CloudTrail, Config, load balancers, flow logs) are checked: who read the
    audit trail is itself worth recording. Buckets with no data path (see BKT007) are
    exempt.

    ## Why is this bad?
    Server access logs are the record of who read or changed which object: without them an
    incident on financial data cannot be investigated and audits fail. Logging into the
    bucket itself creates a log record for every log delivery, without end.

    ## Example
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          BucketName: raw-data-example
    ```

    ## Use instead
    ```yaml
    Resources:
      AccessLogs:
        Type: AWS::S3::Bucket
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          LoggingConfiguration:
            DestinationBucketName: !Ref AccessLogs
            LogFilePrefix: raw/
    ```

    ## Known problems
    A bucket that receives logs only from outside the stack is taken for a data bucket;
    suppress the finding on it with a reason.

    ## References
    - [Logging requests with server access logging](https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html)
    """
    for bucket in ctx.resources():
        if not (ctx.role(bucket).has(Purpose.ACCESS_LOGS) or stores_nothing(ctx, bucket)):
            yield from ctx.each_variant(bucket, lambda v, b=bucket: _access_logging(ctx, b, v))
