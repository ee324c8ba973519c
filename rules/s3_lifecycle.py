"""Bucket lifecycle: archive tiers, intelligent tiering, multipart cleanup, old versions.

Every rule here reads a bucket's `LifecycleConfiguration.Rules` in each condition scenario and
counts only rules whose `Status` resolves to `Enabled`. A lifecycle rule on one bucket never
covers another bucket. Rules scoped by `Prefix`, `TagFilters` or object size count as well: the
template does not say which keys hold the data, so a scoped rule is taken at its word.

What a bucket is for comes from the core's roles (`ctx.role(bucket)`, read from the graph).
Log-delivery buckets and build-artifact stores hold objects worth keeping for a while, not for
years: they need an expiration (LCY001), not an archive tier, Intelligent-Tiering or Deep
Archive (LCY001-LCY003 do not ask). Website buckets and CloudFront origins serve their objects,
which an archive tier would make unreadable (LCY001, LCY003 do not ask). A bucket whose data
expires by a whole-bucket rule at or before `archive_after_days` needs no archive tier either.
AWS log delivery writes small objects once, with single uploads and never over an existing key:
log-delivery buckets are not asked for multipart cleanup (LCY004), nor for noncurrent-version
expiry (LCY005) unless an expiration rule turns their expired logs into noncurrent versions.
A bucket that only shows a macro's work (no data path, in a template a macro of its own
shapes: `roles.is_macro_placeholder`) is not judged by LCY001-LCY004, and a lifecycle that a
declared macro writes (`!Explode Retention`, `Fn::Transform`) is not in the text: it is not
judged either, rather than reported as "cannot be checked". A bucket an S3 Files file system
is built on is read through the mount: LCY001 and LCY003 do not ask it for Glacier or Deep
Archive (objects there need a restore before the mount can read them). Intelligent-Tiering's
automatic tiers read without a restore, so LCY002 still asks. Buckets only
build roles reach (CodeBuild, CodePipeline; the pipeline imports the bucket from another stack)
are artifact stores, asked for expiration. So are staging buckets: a bucket whose only use is
an OpenSearch Ingestion pipeline's table-export or dead-letter location holds files derived
from the table.
Anything else that should not be tiered is suppressed with a reason in the bucket's `Metadata`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cfnaudit.rule import (
    LOG_DELIVERY,
    SERVED,
    SHORT_LIVED,
    Context,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Variant,
    Violation,
    backs_file_system,
    holds_macro_output,
    is_macro_placeholder,
    rule,
    used_only_at_deploy,
)

BUCKET = "AWS::S3::Bucket"
ARCHIVE_CLASSES = frozenset({"GLACIER", "GLACIER_IR", "DEEP_ARCHIVE"})
SCOPE_KEYS = ("Prefix", "TagFilters", "ObjectSizeGreaterThan", "ObjectSizeLessThan")
RULES_PATH = ("Properties", "LifecycleConfiguration", "Rules")


# --------------------------------------------------------------------------- shared reading


@dataclass
class Lifecycle:
    """The enabled lifecycle rules of one bucket in one scenario, and what could not be read."""

    rules: list[tuple[int, Mapping[str, Any]]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    set_by_macro: bool = False  # a declared macro writes part of it at deployment


@dataclass(frozen=True)
class Transition:
    storage_class: Any  # str or Unresolved
    days: Any  # int, None (date-based) or Unresolved
    path: tuple[Any, ...]


def _days(ctx: Context, value: Any, scenario: Scenario, what: str) -> int | Unresolved:
    days = ctx.read_int(value, scenario, what=what)
    return Unresolved("no number of days is given") if days is None else days


def _lifecycle(ctx: Context, variant: Variant) -> Lifecycle:
    found = Lifecycle()
    config = variant.properties.get("LifecycleConfiguration")
    if not isinstance(config, dict):
        return found
    if holds_macro_output(config, ctx.template):
        found.set_by_macro = True
        return found
    rules = ctx.resolve(config.get("Rules", []), variant.scenario)
    if isinstance(rules, Unresolved):
        found.unknown.append(rules.reason)
        return found
    for index, item in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(item, dict):
            continue
        status = ctx.read_text(item.get("Status"), variant.scenario, what="Status")
        if isinstance(status, Unresolved):
            found.unknown.append(f"the `Status` of lifecycle rule {index + 1} is unknown "
                                 f"({status.reason})")
        elif status == "Enabled":
            found.rules.append((index, item))
    return found


def _judged(ctx: Context, bucket: Resource) -> bool:
    """Buckets the lifecycle rules judge: not a placeholder that only shows a macro's work."""
    return not is_macro_placeholder(ctx, bucket)


def _transitions(ctx: Context, bucket: Resource, variant: Variant,
                 lifecycle: Lifecycle) -> Iterator[Transition]:
    """Current-version transitions of the enabled rules (`Transitions` and the old
    single `Transition`)."""
    for index, item in lifecycle.rules:
        entries: list[tuple[tuple[Any, ...], Any]] = []
        many = item.get("Transitions")
        if isinstance(many, list):
            entries += [(("Transitions", j), t) for j, t in enumerate(many)]
        if isinstance(item.get("Transition"), dict):
            entries.append((("Transition",), item["Transition"]))
        for where, entry in entries:
            if not isinstance(entry, dict):
                continue
            path = bucket.at(*RULES_PATH, index, *where)
            storage_class = ctx.read_text(entry.get("StorageClass"), variant.scenario,
                                          what="StorageClass")
            if "TransitionInDays" in entry:
                days = _days(ctx, entry["TransitionInDays"], variant.scenario,
                             "TransitionInDays")
                yield Transition(storage_class, days, (*path, "TransitionInDays"))
            else:
                yield Transition(storage_class, None, path)


def _whole_bucket_expires_within(ctx: Context, variant: Variant, lifecycle: Lifecycle,
                                 days: int) -> bool:
    """True when an enabled rule without a scope expires current objects within `days`.
    An expiry that cannot be resolved goes to `lifecycle.unknown`."""
    for _, item in lifecycle.rules:
        if any(item.get(key) for key in SCOPE_KEYS) or "ExpirationInDays" not in item:
            continue
        expires = _days(ctx, item["ExpirationInDays"], variant.scenario, "ExpirationInDays")
        if isinstance(expires, Unresolved):
            lifecycle.unknown.append(f"its expiry is unknown ({expires.reason})")
        elif expires <= days:
            return True
    return False


def _report_path(bucket: Resource, variant: Variant) -> tuple[Any, ...]:
    if "LifecycleConfiguration" in variant.properties:
        return bucket.at("Properties", "LifecycleConfiguration")
    return bucket.path


def _tiering_configurations(ctx: Context, variant: Variant) -> Iterator[Mapping[str, Any]]:
    """`IntelligentTieringConfigurations` entries whose `Status` is `Enabled`."""
    entries = variant.properties.get("IntelligentTieringConfigurations")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and ctx.resolve(entry.get("Status"),
                                                   variant.scenario) == "Enabled":
            yield entry


def _short_lived(ctx: Context, variant: Variant, lifecycle: Lifecycle) -> bool:
    return _whole_bucket_expires_within(ctx, variant, lifecycle,
                                        int(ctx.option("archive_after_days")))


# ------------------------------------------------------------------------------------ rules


@rule(code="LCY001", name="s3-archive-transition", severity=Severity.WARNING,
      category="s3-lifecycle", resource_types=(BUCKET,), options={"archive_after_days": 90})
def archive_transition(ctx: Context) -> Iterator[Violation]:
    """Bucket keeps objects without the lifecycle its role needs: archive data, expire logs.

    ## What it does
    Checks that every data bucket has an enabled lifecycle rule that transitions objects to
    `GLACIER`, `GLACIER_IR` or `DEEP_ARCHIVE` at or before `archive_after_days` days (the
    days may come from a parameter default). A date-based transition counts. A transition on
    another bucket does not. Buckets whose objects expire (whole-bucket rule) within the same
    number of days are exempt: there is nothing left to archive. So are website buckets and
    CloudFront origins (archived objects cannot be served) and buckets an S3 Files file
    system is built on (archived objects cannot be read through the mount).

    Log-delivery buckets (targets of server access logs, CloudTrail, Config, load-balancer,
    CloudFront, flow, WAF or log-fed Firehose delivery, and the replication destinations of
    such buckets), CodePipeline/CodeBuild artifact stores (and their replicas) and staging
    buckets (used only as an OpenSearch Ingestion pipeline's table-export or dead-letter
    location), found through the graph, are asked for an enabled expiration instead
    (`ExpirationInDays` or `ExpirationDate`): their objects lose their use after a while,
    and archiving them only makes a growing bill cheaper. A bucket that only build roles
    (trusted by CodeBuild or CodePipeline) reach is an artifact store too: its pipeline is
    in another stack.

    Placeholder buckets of macro demos (nothing reads, writes or names them, and the
    template is a macro's input) are not judged, nor is a lifecycle a declared macro writes.

    ## Why is this bad?
    Data lakes keep raw and processed data for years. Left in `STANDARD`, every terabyte costs
    several times what it costs in an archive tier, and the requirement "transition to Glacier
    after 90 days" goes unmet.

    ## Example
    ```yaml
    Resources:
      RawData:
        Type: AWS::S3::Bucket
        Properties:
          LifecycleConfiguration:
            Rules:
              - Id: archive
                Status: Enabled
                Transitions:
                  - {StorageClass: GLACIER, TransitionInDays: 365}
    ```

    ## Use instead
    ```yaml
    Resources:
      RawData:
        Type: AWS::S3::Bucket
        Properties:
          LifecycleConfiguration:
            Rules:
              - Id: archive
                Status: Enabled
                Transitions:
                  - {StorageClass: GLACIER, TransitionInDays: 90}
    ```

    ## Options
    - `archive_after_days` (default 90): the latest day an archive transition may happen.

    ## Known problems
    Rules scoped by prefix, tags or object size count as covering the bucket. A bucket that
    receives logs only from outside the stack is taken for a data bucket.

    ## References
    - [Transitioning objects using Amazon S3 Lifecycle](https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html)
    - [AWS::S3::Bucket Rule](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-s3-bucket-rule.html)
    """
    for bucket in filter(lambda b: _judged(ctx, b), ctx.resources()):
        role = ctx.role(bucket)
        if role.has(SHORT_LIVED):
            purpose = ", ".join(sorted(p.value for p in role.purposes & SHORT_LIVED))
            yield from ctx.each_variant(bucket, lambda v, b=bucket, p=purpose: _check_expiry(
                ctx, b, v, p))
        elif not (role.has(SERVED) or backs_file_system(ctx, bucket)):
            yield from ctx.each_variant(bucket, lambda v, b=bucket: _check_archive(ctx, b, v))


def _check_expiry(ctx: Context, bucket: Resource, variant: Variant,
                  purpose: str) -> Iterator[Violation]:
    lifecycle = _lifecycle(ctx, variant)
    if lifecycle.set_by_macro:
        return  # the macro's output is not in the text
    if any("ExpirationInDays" in item or "ExpirationDate" in item for _, item in lifecycle.rules):
        return
    name = bucket.logical_id
    if lifecycle.unknown:
        yield Violation(f"Expiration of bucket `{name}` cannot be checked because "
                        f"{lifecycle.unknown[0]}", _report_path(bucket, variant))
    else:
        yield Violation(f"Bucket `{name}` ({purpose}) has no enabled lifecycle rule that "
                        "expires its objects", _report_path(bucket, variant))


def _check_archive(ctx: Context, bucket: Resource, variant: Variant) -> Iterator[Violation]:
    limit = int(ctx.option("archive_after_days"))
    lifecycle = _lifecycle(ctx, variant)
    if lifecycle.set_by_macro:
        return  # the macro's output is not in the text
    if _short_lived(ctx, variant, lifecycle):
        return
    unknown = list(lifecycle.unknown)
    too_late: list[Transition] = []
    for transition in _transitions(ctx, bucket, variant, lifecycle):
        if isinstance(transition.storage_class, Unresolved):
            unknown.append(transition.storage_class.reason)
            continue
        if transition.storage_class not in ARCHIVE_CLASSES:
            continue
        if transition.days is None or (isinstance(transition.days, int)
                                       and transition.days <= limit):
            return
        if isinstance(transition.days, Unresolved):
            unknown.append(transition.days.reason)
        else:
            too_late.append(transition)
    name = bucket.logical_id
    if unknown:
        yield Violation(f"Archive transition of bucket `{name}` cannot be checked because "
                        f"{unknown[0]}", _report_path(bucket, variant))
    elif too_late:
        first = min(too_late, key=lambda t: t.days)
        yield Violation(f"Bucket `{name}` archives objects only after {first.days} days, "
                        f"later than {limit}", first.path)
    else:
        yield Violation(f"Bucket `{name}` has no enabled lifecycle rule that moves objects to "
                        f"Glacier within {limit} days", _report_path(bucket, variant))


@rule(code="LCY002", name="s3-intelligent-tiering", severity=Severity.WARNING,
      category="s3-lifecycle", resource_types=(BUCKET,), options={"archive_after_days": 90})
def intelligent_tiering(ctx: Context) -> Iterator[Violation]:
    """Bucket does not use S3 Intelligent-Tiering.

    ## What it does
    Checks that every `AWS::S3::Bucket` has an enabled lifecycle transition to
    `INTELLIGENT_TIERING` or an enabled `IntelligentTieringConfigurations` entry. Buckets whose
    objects expire (whole-bucket rule) within `archive_after_days` are exempt, and so are
    log-delivery buckets and artifact stores (found through the graph, see LCY001): they
    need an expiration, which LCY001 asks for. Website buckets and CloudFront origins are
    exempt too: their objects are served, small and read through the cache, so tiering has
    nothing to move (objects under 128 KB never leave the frequent tier). So are buckets
    only deployment touches (a custom resource writes a layer zip there, the layer or
    function code location reads it): one object read at each deploy. Placeholder buckets of
    macro demos are not judged (see LCY001).

    ## Why is this bad?
    Access patterns of pipeline data change: fresh partitions are read often, older ones
    rarely and unpredictably. Intelligent-Tiering moves each object to the cheapest tier that
    matches its access without retrieval fees; without it, cost optimisation relies on fixed
    ages that fit no bucket well.

    ## Example
    ```yaml
    Resources:
      Curated:
        Type: AWS::S3::Bucket
        Properties:
          LifecycleConfiguration:
            Rules:
              - Status: Enabled
                Transitions:
                  - {StorageClass: GLACIER, TransitionInDays: 90}
    ```

    ## Use instead
    ```yaml
    Resources:
      Curated:
        Type: AWS::S3::Bucket
        Properties:
          LifecycleConfiguration:
            Rules:
              - Status: Enabled
                Transitions:
                  - {StorageClass: INTELLIGENT_TIERING, TransitionInDays: 0}
                  - {StorageClass: GLACIER, TransitionInDays: 90}
    ```

    ## Options
    - `archive_after_days` (default 90): buckets whose data expires within this many days
      are exempt.

    ## Known problems
    An `IntelligentTieringConfigurations` entry only configures the archive tiers of objects
    already in Intelligent-Tiering (for example uploaded with that storage class); it is
    accepted because the template shows the intent. Uploads that set the storage class
    themselves are invisible to the rule; suppress it with a reason.

    ## References
    - [Amazon S3 Intelligent-Tiering](https://docs.aws.amazon.com/AmazonS3/latest/userguide/intelligent-tiering.html)
    - [AWS::S3::Bucket IntelligentTieringConfiguration](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-s3-bucket-intelligenttieringconfiguration.html)
    """
    for bucket in ctx.resources():
        if not ctx.role(bucket).has(SHORT_LIVED, SERVED) and _judged(ctx, bucket) \
                and not used_only_at_deploy(ctx, bucket):
            yield from ctx.each_variant(bucket, lambda v, b=bucket: _check_tiering(ctx, b, v))


def _check_tiering(ctx: Context, bucket: Resource, variant: Variant) -> Iterator[Violation]:
    lifecycle = _lifecycle(ctx, variant)
    if lifecycle.set_by_macro:
        return  # the macro's output is not in the text
    if _short_lived(ctx, variant, lifecycle) or any(_tiering_configurations(ctx, variant)):
        return
    unknown = list(lifecycle.unknown)
    for transition in _transitions(ctx, bucket, variant, lifecycle):
        if transition.storage_class == "INTELLIGENT_TIERING":
            return
        if isinstance(transition.storage_class, Unresolved):
            unknown.append(transition.storage_class.reason)
    if unknown:
        yield Violation(f"Intelligent-Tiering of bucket `{bucket.logical_id}` cannot be "
                        f"checked because {unknown[0]}", _report_path(bucket, variant))
    else:
        yield Violation(f"Bucket `{bucket.logical_id}` has no Intelligent-Tiering transition "
                        "or configuration", _report_path(bucket, variant))


@rule(code="LCY003", name="s3-deep-archive-transition", severity=Severity.WARNING,
      category="s3-lifecycle", resource_types=(BUCKET,), options={"archive_after_days": 90})
def deep_archive(ctx: Context) -> Iterator[Violation]:
    """Bucket has no Glacier Deep Archive tier for long-term retention.

    ## What it does
    Checks that every `AWS::S3::Bucket` has an enabled lifecycle transition to
    `DEEP_ARCHIVE` (any age), or an enabled Intelligent-Tiering configuration with the
    `DEEP_ARCHIVE_ACCESS` tier. Buckets whose objects expire (whole-bucket rule) within
    `archive_after_days` are exempt, and so are website buckets and CloudFront origins (their
    objects are served), log-delivery buckets, artifact stores and staging buckets (they
    expire; see LCY001),
    buckets an S3 Files file system is built on (functions read them through the mount, and
    Deep Archive objects need a restore first), buckets only deployment touches (a layer or
    function code zip that CloudFormation reads again whenever it re-creates the layer) and
    placeholder buckets of macro demos.

    ## Why is this bad?
    Financial records are kept for five to ten years for compliance. After the first months
    they are almost never read; Deep Archive stores them for a fraction of Glacier Flexible
    Retrieval's price. Without the tier, long-term retention is the most expensive part of the
    bill.

    ## Example
    ```yaml
    Resources:
      Archive:
        Type: AWS::S3::Bucket
        Properties:
          LifecycleConfiguration:
            Rules:
              - Status: Enabled
                Transitions:
                  - {StorageClass: GLACIER, TransitionInDays: 90}
    ```

    ## Use instead
    ```yaml
    Resources:
      Archive:
        Type: AWS::S3::Bucket
        Properties:
          LifecycleConfiguration:
            Rules:
              - Status: Enabled
                Transitions:
                  - {StorageClass: GLACIER, TransitionInDays: 90}
                  - {StorageClass: DEEP_ARCHIVE, TransitionInDays: 365}
    ```

    ## Options
    - `archive_after_days` (default 90): buckets whose data expires within this many days
      are exempt.

    ## References
    - [Amazon S3 storage classes](https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-class-intro.html)
    - [Transitioning objects using Amazon S3 Lifecycle](https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html)
    """
    for bucket in ctx.resources():
        if not ctx.role(bucket).has(SHORT_LIVED, SERVED) and _judged(ctx, bucket) \
                and not backs_file_system(ctx, bucket) and not used_only_at_deploy(ctx, bucket):
            yield from ctx.each_variant(bucket, lambda v, b=bucket: _check_deep(ctx, b, v))


def _has_deep_archive_tier(ctx: Context, variant: Variant) -> bool:
    for entry in _tiering_configurations(ctx, variant):
        tierings = entry.get("Tierings")
        for tiering in tierings if isinstance(tierings, list) else []:
            if isinstance(tiering, dict) and ctx.resolve(
                    tiering.get("AccessTier"), variant.scenario) == "DEEP_ARCHIVE_ACCESS":
                return True
    return False


def _check_deep(ctx: Context, bucket: Resource, variant: Variant) -> Iterator[Violation]:
    lifecycle = _lifecycle(ctx, variant)
    if lifecycle.set_by_macro:
        return  # the macro's output is not in the text
    if _short_lived(ctx, variant, lifecycle) or _has_deep_archive_tier(ctx, variant):
        return
    unknown = list(lifecycle.unknown)
    for transition in _transitions(ctx, bucket, variant, lifecycle):
        if transition.storage_class == "DEEP_ARCHIVE":
            return
        if isinstance(transition.storage_class, Unresolved):
            unknown.append(transition.storage_class.reason)
    if unknown:
        yield Violation(f"Deep Archive tier of bucket `{bucket.logical_id}` cannot be checked "
                        f"because {unknown[0]}", _report_path(bucket, variant))
    else:
        yield Violation(f"Bucket `{bucket.logical_id}` never moves objects to Glacier Deep "
                        "Archive", _report_path(bucket, variant))


@rule(code="LCY004", name="s3-abort-incomplete-multipart", severity=Severity.WARNING,
      category="s3-lifecycle", resource_types=(BUCKET,), options={"abort_multipart_days": 7})
def abort_multipart(ctx: Context) -> Iterator[Violation]:
    """Bucket keeps incomplete multipart uploads forever.

    ## What it does
    Checks that every `AWS::S3::Bucket` has an enabled lifecycle rule with
    `AbortIncompleteMultipartUpload.DaysAfterInitiation` at or below `abort_multipart_days`
    (parameter defaults are resolved). Log-delivery buckets (see LCY001) are exempt: AWS
    delivers logs as single small uploads; so are placeholder buckets of macro demos. A
    bucket that expires every object within days is still asked: expiration does not remove
    the parts of an incomplete multipart upload, only the abort rule does.

    ## Why is this bad?
    Large ingestion files are uploaded in parts. When an upload fails, its parts stay in the
    bucket, invisible in listings, and are billed until someone aborts the upload. Pipelines
    that move terabytes a day accumulate such orphaned parts quickly.

    ## Example
    ```yaml
    Resources:
      Landing:
        Type: AWS::S3::Bucket
    ```

    ## Use instead
    ```yaml
    Resources:
      Landing:
        Type: AWS::S3::Bucket
        Properties:
          LifecycleConfiguration:
            Rules:
              - Id: abort-multipart
                Status: Enabled
                AbortIncompleteMultipartUpload: {DaysAfterInitiation: 7}
    ```

    ## Options
    - `abort_multipart_days` (default 7): the most days an incomplete upload may live.

    ## References
    - [Configuring a lifecycle configuration to delete incomplete multipart uploads](https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html)
    """
    for bucket in ctx.resources():
        if not ctx.role(bucket).has(LOG_DELIVERY) and _judged(ctx, bucket):
            yield from ctx.each_variant(bucket, lambda v, b=bucket: _check_multipart(ctx, b, v))


def _check_multipart(ctx: Context, bucket: Resource, variant: Variant) -> Iterator[Violation]:
    limit = int(ctx.option("abort_multipart_days"))
    lifecycle = _lifecycle(ctx, variant)
    if lifecycle.set_by_macro:
        return  # the macro's output is not in the text
    unknown = list(lifecycle.unknown)
    too_late: list[tuple[int, tuple[Any, ...]]] = []
    for index, item in lifecycle.rules:
        abort = item.get("AbortIncompleteMultipartUpload")
        if not isinstance(abort, dict):
            continue
        days = _days(ctx, abort.get("DaysAfterInitiation"), variant.scenario,
                     "DaysAfterInitiation")
        if isinstance(days, Unresolved):
            unknown.append(days.reason)
        elif days <= limit:
            return
        else:
            too_late.append((days, bucket.at(*RULES_PATH, index, "AbortIncompleteMultipartUpload",
                                              "DaysAfterInitiation")))
    name = bucket.logical_id
    if unknown:
        yield Violation(f"Multipart cleanup of bucket `{name}` cannot be checked because "
                        f"{unknown[0]}", _report_path(bucket, variant))
    elif too_late:
        days, path = min(too_late)
        yield Violation(f"Bucket `{name}` aborts incomplete multipart uploads only after {days} "
                        f"days, more than {limit}", path)
    else:
        yield Violation(f"Bucket `{name}` has no enabled lifecycle rule that aborts incomplete "
                        "multipart uploads", _report_path(bucket, variant))


@rule(code="LCY005", name="s3-noncurrent-version-expiration", severity=Severity.WARNING,
      category="s3-lifecycle", resource_types=(BUCKET,))
def noncurrent_expiration(ctx: Context) -> Iterator[Violation]:
    """Versioned bucket keeps noncurrent object versions forever.

    ## What it does
    Checks that every `AWS::S3::Bucket` whose `VersioningConfiguration.Status` is `Enabled`
    has an enabled lifecycle rule with `NoncurrentVersionExpiration` (or the older
    `NoncurrentVersionExpirationInDays`). Unversioned and suspended buckets are skipped, and
    so are log-delivery buckets (see LCY001) without an expiration rule: log delivery never
    overwrites a key, so only expiring logs leaves noncurrent versions behind.

    ## Why is this bad?
    With versioning, an overwrite or delete keeps the old object as a noncurrent version. A
    pipeline that rewrites partitions daily then stores every past copy, invisibly and at full
    price, until a lifecycle rule expires them.

    ## Example
    ```yaml
    Resources:
      Processed:
        Type: AWS::S3::Bucket
        Properties:
          VersioningConfiguration: {Status: Enabled}
    ```

    ## Use instead
    ```yaml
    Resources:
      Processed:
        Type: AWS::S3::Bucket
        Properties:
          VersioningConfiguration: {Status: Enabled}
          LifecycleConfiguration:
            Rules:
              - Id: expire-old-versions
                Status: Enabled
                NoncurrentVersionExpiration: {NoncurrentDays: 30}
    ```

    ## References
    - [Lifecycle configuration elements: NoncurrentVersionExpiration](https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html)
    - [AWS::S3::Bucket NoncurrentVersionExpiration](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-s3-bucket-noncurrentversionexpiration.html)
    """
    for bucket in ctx.resources():
        log_bucket = ctx.role(bucket).has(LOG_DELIVERY)
        yield from ctx.each_variant(bucket, lambda v, b=bucket, logs=log_bucket: _check_versions(
            ctx, b, v, logs))


def _check_versions(ctx: Context, bucket: Resource, variant: Variant,
                    log_bucket: bool) -> Iterator[Violation]:
    versioning = variant.properties.get("VersioningConfiguration")
    if not isinstance(versioning, dict):
        return
    status = ctx.resolve(versioning.get("Status"), variant.scenario)
    lifecycle = _lifecycle(ctx, variant)
    if lifecycle.set_by_macro:
        return  # the macro's output is not in the text
    if log_bucket and not any("ExpirationInDays" in item or "ExpirationDate" in item
                              for _, item in lifecycle.rules):
        return  # logs are never overwritten or deleted: no noncurrent version ever arises
    if any("NoncurrentVersionExpiration" in item or "NoncurrentVersionExpirationInDays" in item
           for _, item in lifecycle.rules):
        return
    name = bucket.logical_id
    if isinstance(status, Unresolved):
        yield Violation(f"Noncurrent version expiry of bucket `{name}` cannot be checked "
                        f"because {status.reason}", bucket.at("Properties",
                                                               "VersioningConfiguration"))
    elif status == "Enabled":
        if lifecycle.unknown:
            yield Violation(f"Noncurrent version expiry of bucket `{name}` cannot be checked "
                            f"because {lifecycle.unknown[0]}", _report_path(bucket, variant))
        else:
            yield Violation(f"Versioned bucket `{name}` never expires noncurrent versions",
                            _report_path(bucket, variant))
