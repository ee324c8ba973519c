"""Lambda functions: failure handling of asynchronous invocations, and reserved concurrency.

Who invokes a function, and how, comes from the core's roles (`ctx.role(function).invokers`),
read from the resource graph: synchronously (API Gateway, load-balancer target groups, Cognito,
AppSync, function URLs, Step Functions, custom resources), asynchronously (S3 notifications,
SNS, EventBridge rules and schedules, IoT rules, CloudWatch Logs subscriptions, Config rules,
SES) or by polling (event source mappings), including `AWS::Lambda::Permission`s for those
services. Invoke configurations that name the function by a literal name or ARN are matched
against the function's resolved `FunctionName`.

Values of other resources (an `EventInvokeConfig`, a mapping, a stream) are read in the same
condition scenario as the function: the scenarios enumerate the conditions of all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cfnaudit.rule import (
    Context,
    Invocation,
    Invoker,
    Purpose,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Violation,
    evaluates_config_rule,
    fold,
    is_no_value,
    list_or_empty,
    mapping_or_empty,
    rule,
    schedule_minutes,
    whole_number,
)

FUNCTION = "AWS::Lambda::Function"
INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"
MAPPING = "AWS::Lambda::EventSourceMapping"
ALIASES = ("AWS::Lambda::Alias", "AWS::Lambda::Version")
ASYNC_OPTIONS = {"without_invoker": False, "frequent_schedule_minutes": 15,
                 "config_rule_evaluations": False}


# ----------------------------------------------------------------------- shared helpers


def _scenarios(ctx: Context, resource: Resource, value: Any) -> list[tuple[Scenario, Any]]:
    return ctx.variants_of(resource, value)


def _get(ctx: Context, scenario: Scenario, value: Any, *keys: str) -> Any:
    """Walk `keys` into `value`, resolving intrinsics at every level; None when absent."""
    current = ctx.resolve(value, scenario)
    for key in keys:
        if isinstance(current, Unresolved):
            return current
        if not isinstance(current, dict) or key not in current:
            return None
        current = ctx.resolve(current[key], scenario)
    return current


def _present(ctx: Context, scenario: Scenario, value: Any, *keys: str) -> Any:
    """The value at `keys` as written (a Ref or GetAtt stays as it is), or None when absent.
    Containers are resolved on the way (Fn::If is already branched by the scenario)."""
    current = value
    for key in keys:
        current = ctx.resolve(current, scenario)
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    return None if is_no_value(current) or current in ("", None) else current


def _function_name(name: Any) -> str | None:
    """The bare function name in a literal name, partial or full ARN (qualifier dropped)."""
    if not isinstance(name, str) or not name:
        return None
    if ":function:" in name:
        return name.split(":function:", 1)[1].split(":", 1)[0]
    return name.split(":", 1)[0]


@dataclass(frozen=True)
class NameIndex:
    """Resources of one type that name a function by a literal `FunctionName`."""

    by_name: Mapping[str, tuple[Resource, ...]]

    @classmethod
    def build(cls, ctx: Context, resource_type: str) -> NameIndex:
        found: dict[str, list[Resource]] = {}
        for resource in ctx.template.of_type(resource_type):
            raw = resource.properties.get("FunctionName")
            if ctx.ref_target(raw) is not None:
                continue
            name = _function_name(ctx.resolve(raw))
            if name:
                found.setdefault(name, []).append(resource)
        return cls({k: tuple(v) for k, v in found.items()})

    def named(self, ctx: Context, function: Resource) -> tuple[Resource, ...]:
        raw = function.properties.get("FunctionName")
        name = _function_name(ctx.resolve(raw)) if raw is not None else None
        return self.by_name.get(name, ()) if name else ()


def _handles(ctx: Context, function: Resource) -> list[Resource]:
    """The function and its aliases and versions: anything an invoker may point at."""
    return [function, *ctx.referring_resources(function, types=ALIASES,
                                               under=("Properties", "FunctionName"))]


def _linked(ctx: Context, function: Resource, resource_type: str,
            index: NameIndex) -> list[Resource]:
    """Resources of `resource_type` whose `FunctionName` points at the function (graph or
    literal name)."""
    found: dict[str, Resource] = {}
    for handle in _handles(ctx, function):
        for r in ctx.referring_resources(handle, types=(resource_type,),
                                         under=("Properties", "FunctionName")):
            found[r.logical_id] = r
    for r in index.named(ctx, function):
        found[r.logical_id] = r
    return list(found.values())


def _async_invoker(ctx: Context, function: Resource) -> str | None:
    """What invokes the function asynchronously, e.g. "S3 notifications of `Raw`"; with
    `without_invoker`, also "nothing in the template" for a function no one invokes."""
    role = ctx.role(function)
    invoked = [i for i in role.invoked(Invocation.ASYNC)
               if not _frequent_schedule(ctx, i) and not _rerun_evaluation(ctx, i)]
    if invoked:
        return invoked[0].label
    if role.invoked(Invocation.ASYNC):
        return None  # only schedules or Config rules whose next run redoes a lost one
    if not role.invokers and ctx.option("without_invoker"):
        return "an invoker outside the template (nothing in it invokes the function)"
    return None


def _frequent_schedule(ctx: Context, invoker: Invoker) -> bool:
    """A schedule that fires at least every `frequent_schedule_minutes`: a lost event is
    superseded by the next run within minutes, as with a periodic sweeper."""
    limit = whole_number(ctx.option("frequent_schedule_minutes"))
    minutes = schedule_minutes(ctx, invoker)
    return minutes is not None and isinstance(limit, int) and minutes <= limit


def _rerun_evaluation(ctx: Context, invoker: Invoker) -> bool:
    """A Config rule's evaluation: a lost one is shown as missing and re-run by Config, so it
    counts only under `config_rule_evaluations`."""
    return not ctx.option("config_rule_evaluations") and evaluates_config_rule(ctx, invoker)


def _check_async(ctx: Context, function: Resource,
                 check: Callable[[Scenario, Mapping[str, Any], list[Mapping[str, Any]], str],
                                 Iterator[Violation]],
                 configs: NameIndex) -> Iterator[Violation]:
    invoker = _async_invoker(ctx, function)
    if invoker is None:
        return
    linked = _linked(ctx, function, INVOKE_CONFIG, configs)
    for config in linked:
        ctx.examine(config)
    value = {"function": function.properties, "configs": [c.properties for c in linked]}
    found = []
    for scenario, branched in _scenarios(ctx, function, value):
        # A whole-`Properties` Fn::If may remove a function's or a config's properties.
        deployed = [c for c in list_or_empty(branched.get("configs")) if isinstance(c, Mapping)]
        found.append((scenario, list(check(scenario, mapping_or_empty(branched.get("function")),
                                           deployed, invoker))))
    yield from fold(found)


# ------------------------------------------------------------------------------- lambda-dlq


@rule(code="LMB001", name="lambda-async-failure-destination", severity=Severity.ERROR,
      category="lambda-dlq", resource_types=(FUNCTION,), options=ASYNC_OPTIONS)
def async_failure_destination(ctx: Context) -> Iterator[Violation]:
    """Asynchronously invoked function drops events that fail every retry.

    ## What it does
    Finds every `AWS::Lambda::Function` that is invoked asynchronously, through the graph:
    named in a bucket's `NotificationConfiguration.LambdaConfigurations`, an SNS
    subscription, an EventBridge rule target or schedule, an IoT rule, a CloudWatch Logs
    subscription, a Config rule or an SES receipt rule, or by an `AWS::Lambda::Permission` for
    one of those services. Such a function needs `DeadLetterConfig.TargetArn` or an
    `AWS::Lambda::EventInvokeConfig` (found through its `FunctionName`) with
    `DestinationConfig.OnFailure.Destination`. Functions invoked only synchronously (API
    Gateway, load balancers, Cognito, AppSync, function URLs, Step Functions, custom
    resources) return their errors to the caller, and functions invoked by polling (event
    source mappings) are covered by ESM001: neither is asked. A function that nothing in
    the template invokes is asked only with `without_invoker`.

    ## Why is this bad?
    Lambda retries an asynchronous event twice and then discards it. Without a dead-letter
    queue or an on-failure destination, a file whose validation crashed is lost without a
    trace: nobody is alerted and nothing can be replayed.

    ## Example
    ```yaml
    Resources:
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
      S3Invoke:
        Type: AWS::Lambda::Permission
        Properties:
          Action: lambda:InvokeFunction
          FunctionName: !Ref Validator
          Principal: s3.amazonaws.com
    ```

    ## Use instead
    ```yaml
    Resources:
      ValidatorDlq:
        Type: AWS::SQS::Queue
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
          DeadLetterConfig:
            TargetArn: !GetAtt ValidatorDlq.Arn
      S3Invoke:
        Type: AWS::Lambda::Permission
        Properties:
          Action: lambda:InvokeFunction
          FunctionName: !Ref Validator
          Principal: s3.amazonaws.com
    ```

    ## Options
    - `without_invoker` (default false): also ask functions that nothing in the template
      invokes (their invoker lives in another stack and may be asynchronous).
    - `frequent_schedule_minutes` (default 15): a schedule (`rate(...)`, or a cron that runs
      every N minutes of every hour) firing at least this often does not count as an
      asynchronous invoker: a lost run is superseded by the next one within minutes, as
      with a periodic sweeper. A nightly or hourly batch still counts: its lost run is lost
      work. Set 0 to count every schedule.
    - `config_rule_evaluations` (default false): also count an AWS Config custom rule as an
      asynchronous invoker. By default it does not: a lost invocation is one compliance
      evaluation, which Config shows as missing and runs again on the next configuration
      change, period or `StartConfigRulesEvaluation`; no work is lost.

    ## Known problems
    SNS subscriptions and EventBridge targets that name the function by a literal ARN are not
    recognised; a `Lambda::Permission` for the service is.

    ## References
    - [Asynchronous invocation: retaining records](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html)
    - [AWS::Lambda::EventInvokeConfig](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventinvokeconfig.html)
    """
    configs = NameIndex.build(ctx, INVOKE_CONFIG)
    for function in ctx.resources():
        def check(scenario: Scenario, props: Mapping[str, Any],
                  linked: list[Mapping[str, Any]], invoker: str,
                  function: Resource = function) -> Iterator[Violation]:
            return _check_destination(ctx, function, scenario, props, linked, invoker)
        yield from _check_async(ctx, function, check, configs)


def _check_destination(ctx: Context, function: Resource, scenario: Scenario,
                       props: Mapping[str, Any], linked: list[Mapping[str, Any]],
                       invoker: str) -> Iterator[Violation]:
    targets = [_present(ctx, scenario, props, "DeadLetterConfig", "TargetArn")]
    targets += [_present(ctx, scenario, c, "DestinationConfig", "OnFailure", "Destination")
                for c in linked]
    if any(t is not None for t in targets):
        return  # any ARN, Ref or GetAtt names a destination; what it is does not matter here
    yield Violation(f"Function `{function.logical_id}` is invoked asynchronously by {invoker} "
                    "but has no dead-letter queue or on-failure destination", function.path)


@rule(code="LMB002", name="lambda-async-retry-bounds", severity=Severity.ERROR,
      category="lambda-dlq", resource_types=(FUNCTION,),
      options={"max_retry_attempts": 2, "max_event_age_seconds": 21600, **ASYNC_OPTIONS})
def async_retry_bounds(ctx: Context) -> Iterator[Violation]:
    """Asynchronously invoked function leaves retries and event age to the defaults.

    ## What it does
    For every asynchronously invoked `AWS::Lambda::Function` (as in LMB001: synchronous and
    polling invocations are not asked), looks for an
    `AWS::Lambda::EventInvokeConfig` through its `FunctionName` and checks that it sets
    `MaximumRetryAttempts` and `MaximumEventAgeInSeconds` explicitly, within the options.

    ## Why is this bad?
    The defaults (two retries, events kept up to six hours) are rarely what a pipeline wants:
    a malformed file is retried for hours before it reaches the dead-letter queue, and alerts
    arrive late. Setting the bounds states how long a failure may stay invisible.

    ## Example
    ```yaml
    Resources:
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
      S3Invoke:
        Type: AWS::Lambda::Permission
        Properties:
          Action: lambda:InvokeFunction
          FunctionName: !Ref Validator
          Principal: s3.amazonaws.com
    ```

    ## Use instead
    ```yaml
    Resources:
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
      S3Invoke:
        Type: AWS::Lambda::Permission
        Properties:
          Action: lambda:InvokeFunction
          FunctionName: !Ref Validator
          Principal: s3.amazonaws.com
      ValidatorInvokeConfig:
        Type: AWS::Lambda::EventInvokeConfig
        Properties:
          FunctionName: !Ref Validator
          Qualifier: $LATEST
          MaximumRetryAttempts: 1
          MaximumEventAgeInSeconds: 3600
    ```

    ## Options
    - `max_retry_attempts` (default 2): the most retries allowed.
    - `max_event_age_seconds` (default 21600): the longest an event may wait. The defaults
      are the service maxima, so by default any explicit value passes; tighten them to your
      alerting targets.
    - `without_invoker` (default false): also ask functions that nothing in the template
      invokes.
    - `frequent_schedule_minutes` (default 15): schedules firing at least this often do not
      count as asynchronous invokers (see LMB001).
    - `config_rule_evaluations` (default false): also count AWS Config custom rules as
      asynchronous invokers (see LMB001).

    ## References
    - [Configuring error handling for asynchronous invocation](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)
    - [AWS::Lambda::EventInvokeConfig](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventinvokeconfig.html)
    """
    configs = NameIndex.build(ctx, INVOKE_CONFIG)
    for function in ctx.resources():
        def check(scenario: Scenario, props: Mapping[str, Any],
                  linked: list[Mapping[str, Any]], invoker: str,
                  function: Resource = function) -> Iterator[Violation]:
            return _check_retries(ctx, function, scenario, linked, invoker)
        yield from _check_async(ctx, function, check, configs)


def _check_retries(ctx: Context, function: Resource, scenario: Scenario,
                   linked: list[Mapping[str, Any]], invoker: str) -> Iterator[Violation]:
    bounds = (("MaximumRetryAttempts", int(ctx.option("max_retry_attempts")), "retries"),
              ("MaximumEventAgeInSeconds", int(ctx.option("max_event_age_seconds")),
               "seconds of event age"))
    name = function.logical_id
    if not linked:
        yield Violation(f"Function `{name}` is invoked asynchronously by {invoker} but no "
                        "EventInvokeConfig bounds its retries and event age", function.path)
        return
    problems: list[str] = []
    for config in linked:
        problems = []
        for key, limit, what in bounds:
            value = whole_number(_get(ctx, scenario, config, key), key)
            if value is None:
                problems.append(f"leaves `{key}` at its default")
            elif isinstance(value, Unresolved):
                problems.append(f"has a `{key}` that cannot be checked because {value.reason}")
            elif value > limit:
                problems.append(f"allows {value} {what}, more than {limit}")
        if not problems:
            return
    yield Violation(f"The EventInvokeConfig of function `{name}` {' and '.join(problems)}",
                    function.path)


# ----------------------------------------------------------------------- lambda-concurrency


@rule(code="LMB003", name="lambda-reserved-concurrency", severity=Severity.WARNING,
      category="lambda-concurrency", resource_types=(FUNCTION,),
      options={"without_invoker": False})
def reserved_concurrency(ctx: Context) -> Iterator[Violation]:
    """Function has no reserved concurrency, or reserves zero.

    ## What it does
    Checks that every `AWS::Lambda::Function` sets `ReservedConcurrentExecutions` to a
    positive number, in every condition scenario and through parameter defaults. Zero is
    reported on every function: it stops every invocation of the function.

    A missing reservation matters for functions whose load follows traffic. The invokers
    come from the core's roles: a function is asked when something in the template invokes
    it at run time with the traffic (API Gateway, load balancers, S3, SNS, event patterns,
    queues and streams...). Left out: functions that only serve CloudFormation (custom
    resources, macros), functions invoked only at a pace the stack sets (schedules, AWS
    Config rule evaluations), functions that run at CloudFront edges or on Greengrass cores
    (outside the region's concurrency pool), and, unless `without_invoker` is set,
    functions nothing in the template invokes.

    ## Why is this bad?
    Without a reservation, functions share the account's unreserved pool: a burst in one
    (a replay, a backfill) throttles the others, including the ones that must keep up with
    a stream during peak trading hours. A reservation guarantees capacity and caps runaway
    cost at the same time.

    ## Example
    ```yaml
    Resources:
      Transformer:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/transformer
          Code: {ZipFile: "def handler(e, c): pass"}
      UploadsInvoke:
        Type: AWS::Lambda::Permission
        Properties:
          FunctionName: !Ref Transformer
          Action: lambda:InvokeFunction
          Principal: s3.amazonaws.com
    ```

    ## Use instead
    ```yaml
    Resources:
      Transformer:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/transformer
          Code: {ZipFile: "def handler(e, c): pass"}
          ReservedConcurrentExecutions: 10
      UploadsInvoke:
        Type: AWS::Lambda::Permission
        Properties:
          FunctionName: !Ref Transformer
          Action: lambda:InvokeFunction
          Principal: s3.amazonaws.com
    ```

    ## Options
    - `without_invoker` (default false): also ask functions that nothing in the template
      invokes (invoked by code or by other stacks).

    ## References
    - [Configuring reserved concurrency](https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)
    """
    for function in ctx.resources():
        asked = _bursty(ctx, function)
        yield from ctx.each_variant(function, lambda v, f=function, a=asked: _check_reserved(
            ctx, f, v.scenario, v.properties, a))


def _bursty(ctx: Context, function: Resource) -> bool:
    """Whether the function's load follows traffic: a run-time invoker that is not a steady
    schedule, or (with `without_invoker`) no invoker in the template at all."""
    role = ctx.role(function)
    if role.has(Purpose.DEPLOYMENT_HELPER, Purpose.EDGE):
        return False
    if not role.invokers:
        return bool(ctx.option("without_invoker"))
    return any(not i.deploy_time and not ctx.roles.steady_invoker(i) for i in role.invokers)


def _check_reserved(ctx: Context, function: Resource, scenario: Scenario,
                    props: Mapping[str, Any], asked: bool) -> Iterator[Violation]:
    name = function.logical_id
    if "ReservedConcurrentExecutions" not in props:
        if asked:
            yield Violation(f"Function `{name}` does not reserve concurrency", function.path)
        return
    path = function.at("Properties", "ReservedConcurrentExecutions")
    value = ctx.read_int(props["ReservedConcurrentExecutions"], scenario,
                         what="ReservedConcurrentExecutions")
    if isinstance(value, Unresolved):
        yield Violation(f"Reserved concurrency of function `{name}` cannot be checked because "
                        f"{value.reason}", path)
    elif value is not None and value <= 0:
        yield Violation(f"Function `{name}` reserves {value} concurrent executions, which "
                        "stops every invocation", path)


@dataclass(frozen=True)
class StreamDemand:
    """What one mapping needs: shards x parallelization factor, or why it is unknown."""

    mapping: str
    stream: str
    need: int | None
    unknown: str | None = None


def _mapping_stream(ctx: Context, mapping: Resource) -> Resource | None:
    """The Kinesis stream a mapping reads, directly or through an enhanced fan-out consumer."""
    for target in ctx.targets_at(mapping, "Properties", "EventSourceArn"):
        if target.type == "AWS::Kinesis::Stream":
            return target
        if target.type == "AWS::Kinesis::StreamConsumer":
            streams = ctx.targets_at(target, "Properties", "StreamARN",
                                     types=("AWS::Kinesis::Stream",))
            return streams[0] if streams else None
    return None


def _demand(ctx: Context, scenario: Scenario, mapping: Resource, props: Mapping[str, Any],
            stream: Resource, stream_props: Mapping[str, Any]) -> StreamDemand | None:
    enabled = _get(ctx, scenario, props, "Enabled")
    if enabled is False or str(enabled).lower() == "false":
        return None
    mode = _get(ctx, scenario, stream_props, "StreamModeDetails", "StreamMode")
    if mode == "ON_DEMAND":
        return None  # on-demand streams have no fixed shard count to size against
    ids = (mapping.logical_id, stream.logical_id)
    shards = whole_number(_get(ctx, scenario, stream_props, "ShardCount"), "ShardCount")
    factor = whole_number(_get(ctx, scenario, props, "ParallelizationFactor"),
                          "ParallelizationFactor")
    for value, what in ((shards, f"the shard count of `{stream.logical_id}`"),
                        (factor, f"the parallelization factor of `{mapping.logical_id}`")):
        if isinstance(value, Unresolved):
            return StreamDemand(*ids, None, f"{what} is unknown ({value.reason})")
    if not isinstance(shards, int):
        return StreamDemand(*ids, None, f"stream `{stream.logical_id}` declares no ShardCount")
    return StreamDemand(*ids, shards * (factor if isinstance(factor, int) else 1))


@rule(code="LMB004", name="lambda-stream-consumer-concurrency", severity=Severity.WARNING,
      category="lambda-concurrency", resource_types=(FUNCTION,))
def stream_consumer_concurrency(ctx: Context) -> Iterator[Violation]:
    """Stream consumer reserves less concurrency than its shards need.

    ## What it does
    For every `AWS::Lambda::Function` with `ReservedConcurrentExecutions` that consumes
    Kinesis streams of the stack through event source mappings (directly or through an
    `AWS::Kinesis::StreamConsumer`), adds up `ShardCount` x `ParallelizationFactor` (default
    1) over its enabled mappings, parameter defaults resolved, and reports a reservation
    below that sum.

    ## Why is this bad?
    Lambda runs one concurrent batch per shard and parallelization slot. A smaller reservation
    throttles the poller: records queue up, the iterator age grows and, past the retention
    period, data is lost. A reservation derived from the shard count is justified; an
    arbitrary one is not.

    ## Example
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 4
      Processor:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/processor
          Code: {ZipFile: "def handler(e, c): pass"}
          ReservedConcurrentExecutions: 2
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: !Ref Processor
          EventSourceArn: !GetAtt Trades.Arn
          StartingPosition: LATEST
          ParallelizationFactor: 2
    ```

    ## Use instead
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 4
      Processor:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/processor
          Code: {ZipFile: "def handler(e, c): pass"}
          ReservedConcurrentExecutions: 8
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: !Ref Processor
          EventSourceArn: !GetAtt Trades.Arn
          StartingPosition: LATEST
          ParallelizationFactor: 2
    ```

    ## Known problems
    On-demand streams (`StreamMode: ON_DEMAND`) have no fixed shard count and are not
    counted; neither are DynamoDB streams (their shard count is not in the template) nor
    streams outside the stack. Functions without a reservation are LMB003's concern.

    ## References
    - [Using Lambda with Kinesis: polling and batching](https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html)
    - [Lambda scaling behavior for event source mappings](https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html)
    """
    names = NameIndex.build(ctx, MAPPING)
    for function in ctx.resources():
        pairs = []
        for mapping in _linked(ctx, function, MAPPING, names):
            ctx.examine(mapping)
            stream = _mapping_stream(ctx, mapping)
            if stream is not None:
                ctx.examine(stream)
                pairs.append((mapping, stream))
        if pairs:
            yield from _check_consumer(ctx, function, pairs)


def _check_consumer(ctx: Context, function: Resource,
                    pairs: list[tuple[Resource, Resource]]) -> Iterator[Violation]:
    value = {"function": function.properties,
             "pairs": [[m.properties, s.properties] for m, s in pairs]}
    found = []
    for scenario, branched in _scenarios(ctx, function, value):
        demands = [_demand(ctx, scenario, m, mp, s, sp)
                   for (m, s), (mp, sp) in zip(pairs, branched["pairs"], strict=True)]
        found.append((scenario, list(_compare(ctx, function, scenario, branched["function"],
                                              [d for d in demands if d is not None]))))
    yield from fold(found)


def _compare(ctx: Context, function: Resource, scenario: Scenario, props: Mapping[str, Any],
             demands: list[StreamDemand]) -> Iterator[Violation]:
    if "ReservedConcurrentExecutions" not in props or not demands:
        return
    path = function.at("Properties", "ReservedConcurrentExecutions")
    reserved = ctx.read_int(props["ReservedConcurrentExecutions"], scenario,
                            what="ReservedConcurrentExecutions")
    name = function.logical_id
    unknown = [d.unknown for d in demands if d.unknown]
    if isinstance(reserved, Unresolved):
        unknown.insert(0, reserved.reason)
    if unknown:
        yield Violation(f"Stream concurrency of function `{name}` cannot be checked because "
                        f"{unknown[0]}", path)
        return
    need = sum(d.need or 0 for d in demands)
    if isinstance(reserved, int) and reserved < need:
        streams = ", ".join(dict.fromkeys(f"`{d.stream}`" for d in demands))
        yield Violation(f"Function `{name}` reserves {reserved} concurrent executions but its "
                        f"mappings on {streams} need {need} (shards x parallelization factor)",
                        path)


@rule(code="LMB005", name="lambda-concurrency-budget", severity=Severity.WARNING,
      category="lambda-concurrency", resource_types=(FUNCTION,),
      options={"account_budget": 900})
def concurrency_budget(ctx: Context) -> Iterator[Violation]:
    """Reserved concurrency of the stack's functions exceeds the account budget.

    ## What it does
    Adds up `ReservedConcurrentExecutions` over all `AWS::Lambda::Function`s of the template
    (each function at its largest value over the condition scenarios, parameter defaults
    resolved) and reports when the sum is above `account_budget`. The finding sits on the
    function with the largest reservation.

    ## Why is this bad?
    An account has 1,000 concurrent executions per Region by default and Lambda keeps 100 of
    them unreserved; a deployment that reserves more fails. Reservations that crowd out the
    unreserved pool throttle every other function in the account.

    ## Example
    ```yaml
    Resources:
      Ingest:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/ingest
          Code: {ZipFile: "def handler(e, c): pass"}
          ReservedConcurrentExecutions: 600
      Transform:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/transform
          Code: {ZipFile: "def handler(e, c): pass"}
          ReservedConcurrentExecutions: 400
    ```

    ## Use instead
    ```yaml
    Resources:
      Ingest:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/ingest
          Code: {ZipFile: "def handler(e, c): pass"}
          ReservedConcurrentExecutions: 200
      Transform:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/transform
          Code: {ZipFile: "def handler(e, c): pass"}
          ReservedConcurrentExecutions: 100
    ```

    ## Options
    - `account_budget` (default 900): the most concurrency the stack may reserve.

    ## Known problems
    Only this template is summed; reservations of other stacks in the account are unknown.

    ## References
    - [Lambda quotas](https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
    - [Configuring reserved concurrency](https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)
    """
    total = 0
    largest: tuple[int, Resource] | None = None
    for function in ctx.resources():
        values = []
        for variant in ctx.variants(function):
            raw = variant.properties.get("ReservedConcurrentExecutions")
            if raw is None:
                continue
            value = ctx.read_int(raw, variant.scenario, what="ReservedConcurrentExecutions")
            if isinstance(value, Unresolved):
                yield Violation(f"The stack's concurrency budget cannot be checked because the "
                                f"reservation of `{function.logical_id}` is unknown "
                                f"({value.reason})",
                                function.at("Properties", "ReservedConcurrentExecutions"))
                return
            if value is not None:
                values.append(value)
        most = max(values, default=0)
        total += most
        if most > 0 and (largest is None or most > largest[0]):
            largest = (most, function)
    budget = int(ctx.option("account_budget"))
    if largest is not None and total > budget:
        yield Violation(f"Functions of this stack reserve {total} concurrent executions in "
                        f"all, more than the account budget of {budget}",
                        largest[1].at("Properties", "ReservedConcurrentExecutions"))
