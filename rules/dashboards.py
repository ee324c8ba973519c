"""CloudWatch dashboards: does a dashboard exist, and does it chart every pipeline component?

A `DashboardBody` is JSON inside a string, usually built with `Fn::Sub` or `Fn::Join`. It is
read by substituting every reference with a placeholder token that remembers what it referred
to (a resource of the stack, or the literal value of a parameter default), parsing the JSON,
and reading `widgets[].properties.metrics` rows, including the `"."` (same value as the row
above) and `"..."` (the rest of the row above) shorthand. Alarm widgets and alarm annotations
chart the metrics of the alarms they name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cfnaudit.rule import (
    Context,
    Parameter,
    Purpose,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Violation,
    dead_letter_sources,
    exists_in,
    fold,
    in_scenario,
    is_dead_letter_queue,
    is_deployment_helper,
    list_or_empty,
    mapping_or_empty,
    parse_json_text,
    rule,
)

DASHBOARD = "AWS::CloudWatch::Dashboard"
ALARM = "AWS::CloudWatch::Alarm"
FUNCTION = "AWS::Lambda::Function"
STREAM = "AWS::Kinesis::Stream"
JOB = "AWS::Glue::Job"
QUEUE = "AWS::SQS::Queue"

NAME_PROPERTY = {FUNCTION: "FunctionName", STREAM: "Name", QUEUE: "QueueName", JOB: "Name"}

_TOKEN = re.compile(r"@@cfnaudit(\d+)@@")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")



# ------------------------------------------------------------------ rendering with tokens


@dataclass
class Rendering:
    """Text with `@@cfnauditN@@` tokens; `targets[N]` is the logical id the token refers to
    (None for a value known only at deployment that refers to no resource)."""

    targets: list[str | None] = field(default_factory=list)

    def token(self, target: str | None) -> str:
        self.targets.append(target)
        return f"@@cfnaudit{len(self.targets) - 1}@@"

    def refers_to(self, text: str) -> set[str]:
        return {t for n in _TOKEN.findall(text) if (t := self.targets[int(n)]) is not None}


def _literal_text(text: str) -> str:
    """Literal text that can never read as a token: a template may contain `@@cfnaudit0@@`."""
    return text.replace("@@cfnaudit", "@@cfnaudit-literal")


def render(ctx: Context, value: Any, out: Rendering) -> str | Unresolved:
    """A CloudFormation string value as text with tokens for what is not literal."""
    if isinstance(value, str):
        return _literal_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    target = ctx.ref_target(value)
    if target is not None:
        return out.token(target)
    if isinstance(value, dict) and len(value) == 1:
        (name, arg), = value.items()
        if name == "Fn::Sub":
            return _render_sub(ctx, arg, out)
        if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 \
                and isinstance(arg[0], str) and isinstance(arg[1], list):
            parts = []
            for item in arg[1]:
                part = render(ctx, item, out)
                if isinstance(part, Unresolved):
                    return part
                parts.append(part)
            return arg[0].join(parts)
    literal = ctx.literal(value)
    if literal is not None:
        return _literal_text(literal)
    resolved = ctx.resolve(value)
    if isinstance(resolved, Unresolved) and _is_intrinsic(value):
        return out.token(None)  # a pseudo parameter, an import: opaque but harmless
    return resolved if isinstance(resolved, Unresolved) else Unresolved(
        "a part of the body is not a string")


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in (
        "Ref", "Fn::GetAtt", "Fn::ImportValue", "Fn::Select", "Fn::FindInMap", "Fn::If",
        "Fn::Base64", "Fn::GetAZs")


def _render_sub(ctx: Context, arg: Any, out: Rendering) -> str | Unresolved:
    local: dict[str, Any] = {}
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) \
            and isinstance(arg[1], dict):
        text, local = arg[0], arg[1]
    elif isinstance(arg, str):
        text = arg
    else:
        return Unresolved("the `Fn::Sub` is malformed")

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in local:
            rendered = render(ctx, local[name], out)
            return rendered if isinstance(rendered, str) else out.token(None)
        head = name.split(".", 1)[0]
        if head in ctx.template.resources:
            return out.token(head)
        literal = ctx.literal({"Ref": name}) if "." not in name else None
        return _literal_text(literal) if literal is not None else out.token(None)

    return _SUB_VARIABLE.sub(substitute, _literal_text(text))


# ------------------------------------------------------------------------- metric rows


@dataclass(frozen=True, slots=True)
class ChartedMetric:
    namespace: str
    metric: str
    dimension_values: tuple[str, ...]


def _expand(row: list[str], previous: list[str]) -> list[str]:
    """Apply the dashboard shorthand: `"..."` stands for the previous row's values not
    written out around it; `"."` for the previous row's value at the same position."""
    if "..." in row:
        i = row.index("...")
        head, tail = row[:i], row[i + 1:]
        row = head + previous[len(head):max(len(head), len(previous) - len(tail))] + tail
    return [previous[j] if v == "." and j < len(previous) else v for j, v in enumerate(row)]


def metric_rows(metrics: Any) -> Iterator[ChartedMetric]:
    previous: list[str] = []
    for raw in metrics if isinstance(metrics, list) else ():
        if not isinstance(raw, list):
            continue
        strings = [v for v in raw if isinstance(v, str)]
        if not strings:
            continue  # an expression row: `[{"expression": "..."}]`
        row = _expand(strings, previous)
        previous = row
        if len(row) >= 2:
            yield ChartedMetric(row[0], row[1], tuple(row[3::2]))


def _alarm_charted(ctx: Context, alarm: Resource, out: Rendering) -> Iterator[ChartedMetric]:
    """The metrics an alarm widget or annotation shows: those of the alarm."""
    props = alarm.properties
    specs = [props] if "MetricName" in props else []
    metrics = props.get("Metrics")
    for query in metrics if isinstance(metrics, list) else ():
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        if isinstance(stat, dict) and isinstance(stat.get("Metric"), dict):
            specs.append(stat["Metric"])
    for spec in specs:
        namespace = ctx.literal(spec.get("Namespace"))
        name = ctx.literal(spec.get("MetricName"))
        dimensions = spec.get("Dimensions")
        values = []
        for item in dimensions if isinstance(dimensions, list) else ():
            text = render(ctx, item.get("Value"), out) if isinstance(item, dict) else None
            if isinstance(text, str):
                values.append(text)
        if namespace and name:
            yield ChartedMetric(namespace, name, tuple(values))


@dataclass
class Charts:
    """Everything the stack's dashboards chart."""

    rendering: Rendering
    metrics: list[ChartedMetric]
    problems: list[Violation]


def read_dashboards(ctx: Context, scenario: Scenario = ()) -> Charts:
    """What the dashboards that exist in `scenario` chart, their bodies as deployed there."""
    out = Rendering()
    charted: list[ChartedMetric] = []
    problems: list[Violation] = []
    for dashboard in ctx.resources(DASHBOARD):
        if not exists_in(dashboard, scenario):
            continue
        path = dashboard.at("Properties", "DashboardBody")
        body_value = in_scenario(dashboard.properties.get("DashboardBody", ""), scenario)
        text = render(ctx, body_value, out)
        if isinstance(text, Unresolved):
            problems.append(Violation(f"Dashboard `{dashboard.logical_id}` body cannot be "
                                      f"checked because {text.reason}", path))
            continue
        try:
            body = parse_json_text(text)
        except ValueError as exc:
            problems.append(Violation(f"Dashboard `{dashboard.logical_id}` body is not valid "
                                      f"JSON: {exc}", path))
            continue
        widgets = body.get("widgets") if isinstance(body, dict) else None
        for widget in widgets if isinstance(widgets, list) else ():
            properties = widget.get("properties") if isinstance(widget, dict) else None
            if not isinstance(properties, dict):
                continue
            charted.extend(metric_rows(properties.get("metrics")))
            annotations = properties.get("annotations")
            alarms = list_or_empty(properties.get("alarms")) + list_or_empty(
                mapping_or_empty(annotations).get("alarms"))
            for arn in alarms:
                for target in out.refers_to(arn) if isinstance(arn, str) else ():
                    alarm = ctx.template.resources[target]
                    if alarm.type == ALARM:
                        charted.extend(_alarm_charted(ctx, alarm, out))
    return Charts(out, charted, problems)


def pipeline_components(ctx: Context) -> list[tuple[Resource, str]]:
    """(resource, kind) for the functions (except those only CloudFormation calls: custom
    resource handlers, macros), streams, Glue jobs and dead-letter queues."""
    found = [(r, "function") for r in ctx.resources(FUNCTION)
             if not is_deployment_helper(ctx, r)]
    found += [(r, "stream") for r in ctx.resources(STREAM)]
    found += [(r, "job") for r in ctx.resources(JOB)]
    found += [(r, "dlq") for r in ctx.resources(QUEUE) if is_dead_letter_queue(ctx, r)]
    return found


# ---------------------------------------------------------------------------------- rules


@rule(code="MON030", name="pipeline-dashboard-missing", severity=Severity.ERROR,
      category="dashboard-coverage", resource_types=(FUNCTION, STREAM, JOB, QUEUE, DASHBOARD))
def pipeline_dashboard_missing(ctx: Context) -> Iterator[Violation]:
    """Stack has pipeline components but no CloudWatch dashboard.

    ## What it does
    When the stack defines Lambda functions, Kinesis streams, Glue jobs or dead-letter queues
    (queues named by a redrive policy, `DeadLetterConfig` or on-failure destination), it needs
    an `AWS::CloudWatch::Dashboard`. The finding sits on the first component. Functions that
    only CloudFormation calls (custom resource handlers, macros) and functions whose code
    runs outside the stack's region (Lambda@Edge, Greengrass) are no pipeline components, and
    one function or one Glue job alone is no pipeline (its console view is its dashboard): a
    stream, a dead-letter queue of a flow, or a second function, job or state machine makes
    one. A queue that nothing in the stack feeds or reads, with its dead-letter queue, is no
    pipeline either.

    A dashboard that exists only under a condition counts in every scenario when the
    condition is an on/off switch for the deployer (it reads only parameters whose values are
    `true`/`false`, `yes`/`no`...): turning it off is an explicit choice. A dashboard that
    exists only in some environments (`IsProd`) leaves the others without one, and the
    finding says when.

    ## Why is this bad?
    During an incident, operators need one place that shows ingestion, processing and failures
    side by side. Without it they rebuild the view by hand, metric by metric, while data backs
    up.

    ## Example
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
      Quotes:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
    ```

    ## Use instead
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
      Pipeline:
        Type: AWS::CloudWatch::Dashboard
        Properties:
          DashboardBody: !Sub |
            {"widgets": [{"type": "metric", "properties": {"region": "${AWS::Region}",
              "metrics": [["AWS/Kinesis", "IncomingRecords", "StreamName", "${Ticks}"],
                          [".", "GetRecords.IteratorAgeMilliseconds", ".", "."]]}}]}
    ```

    ## References
    - [Using CloudWatch dashboards](https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Dashboards.html)
    """
    components = [(r, kind) for r, kind in pipeline_components(ctx)
                  if not (kind == "function" and ctx.role(r).has(Purpose.EDGE))]
    dashboards = list(ctx.resources(DASHBOARD))
    if not _worth_a_dashboard(ctx, components) or any(
            d.condition is None or _deployer_switch(ctx, d.condition) for d in dashboards):
        return
    names = [f"`{r.logical_id}`" for r, _ in components]
    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    violation = Violation(f"Stack has pipeline components ({listed}) but no CloudWatch "
                          "dashboard", components[0][0].path)
    # Dashboards that exist only under a condition leave the other scenarios without one.
    scenarios, _ = ctx.scenarios.enumerate({d.condition for d in dashboards if d.condition})
    yield from fold([(s, [violation] if not any(exists_in(d, s) for d in dashboards) else [])
                     for s in scenarios])


SWITCH_VALUES = frozenset({"true", "false", "yes", "no", "enabled", "disabled", "on", "off"})


# Compute that is no pipeline component of this rule but makes a pipeline with a function.
OTHER_STEPS = ("AWS::Serverless::Function", "AWS::StepFunctions::StateMachine",
               "AWS::Serverless::StateMachine")


def _worth_a_dashboard(ctx: Context, components: list[tuple[Resource, str]]) -> bool:
    """A stream, or a dead-letter queue of a flow, or two processing steps (functions, Glue
    jobs, state machines): one function or one job alone has its own console view, and so
    has a queue that nothing in the stack feeds or reads, with its dead-letter queue."""
    if not components:
        return False
    if any(kind == "stream" or (kind == "dlq" and not _idle_queue_pair(ctx, resource))
           for resource, kind in components):
        return True
    steps = sum(1 for _, kind in components if kind in ("function", "job"))
    steps += sum(1 for _ in ctx.template.of_type(*OTHER_STEPS))
    return steps >= 2


def _idle_queue_pair(ctx: Context, dlq: Resource) -> bool:
    """The dead-letter queue serves only queues that nothing else in the stack refers to (a
    queue template with its optional dead-letter queue)."""
    sources = [ctx.template.resources[s] for s in dead_letter_sources(ctx, dlq)]
    return bool(sources) and all(
        source.type == QUEUE and not [e for e in ctx.referrers(source)
                                      if e.source_id not in (dlq.logical_id, source.logical_id)
                                      and ctx.template.resources[e.source_id].type
                                      != "AWS::SQS::QueuePolicy"]
        for source in sources)


def _deployer_switch(ctx: Context, condition: str) -> bool:
    """The condition reads only on/off parameters (`DeployMetricsDashboard: "true"`): a
    choice the deployer makes explicitly, not a side effect of the environment."""
    parameters: set[str] = set()
    pending, seen = [condition], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        stack = [ctx.template.conditions.get(name)]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                if len(node) == 1 and isinstance(node.get("Condition"), str):
                    pending.append(node["Condition"])
                elif len(node) == 1 and isinstance(node.get("Ref"), str):
                    parameters.add(node["Ref"])
                else:
                    stack.extend(node.values())
    found = [ctx.template.parameters.get(p) for p in parameters]
    return bool(found) and all(p is not None and _is_switch(p) for p in found)


def _is_switch(parameter: Parameter) -> bool:
    values = {str(v).strip().lower() for v in parameter.allowed_values}
    if parameter.has_value:
        values.add(str(parameter.value).strip().lower())
    return len(values) >= 1 and values <= SWITCH_VALUES


_KIND = {
    "function": ("Function", "AWS/Lambda", "function_metrics"),
    "stream": ("Stream", "AWS/Kinesis", "stream_metrics"),
    "job": ("Glue job", "Glue", "job_metrics"),
    "dlq": ("Dead-letter queue", "AWS/SQS", "dlq_metrics"),
}


def _matches(metric: str, wanted: str) -> bool:
    return metric.startswith(wanted[:-1]) if wanted.endswith("*") else metric == wanted


def _shows(ctx: Context, charts: Charts, resource: Resource, namespace: str,
           scenario: Scenario) -> list[str]:
    """Names of the metrics charted with a dimension that refers to `resource` (through a
    reference or its literal physical name)."""
    name_property = NAME_PROPERTY.get(resource.type)
    literal = ctx.literal(resource.properties.get(name_property), scenario) \
        if name_property else None
    shown = []
    for metric in charts.metrics:
        if metric.namespace != namespace and not _TOKEN.search(metric.namespace):
            continue
        for value in metric.dimension_values:
            if resource.logical_id in charts.rendering.refers_to(value) or (
                    literal is not None and value == literal):
                shown.append(metric.metric)
                break
    return shown


@rule(code="MON031", name="dashboard-component-coverage", severity=Severity.ERROR,
      category="dashboard-coverage", resource_types=(FUNCTION, STREAM, JOB, QUEUE, DASHBOARD),
      options={"function_metrics": ["Errors", "Throttles"],
               "stream_metrics": ["GetRecords.IteratorAgeMilliseconds", "IncomingRecords"],
               "job_metrics": ["glue.*"],
               "dlq_metrics": ["ApproximateNumberOfMessagesVisible"]})
def dashboard_component_coverage(ctx: Context) -> Iterator[Violation]:
    """Pipeline component is not charted on the stack's dashboards.

    ## What it does
    Reads every `AWS::CloudWatch::Dashboard` body (a JSON string, `Fn::Sub` or `Fn::Join`:
    references become placeholders that remember what they refer to) and collects the metrics
    of `widgets[].properties.metrics`, expanding the `"."` and `"..."` shorthand, plus the
    metrics of alarms shown by alarm widgets or annotations. Then each component needs a
    charted metric, with a dimension value that refers to it or equals its literal physical
    name, for every entry of its option:
    - functions: `Errors` and `Throttles` (namespace `AWS/Lambda`);
    - Kinesis streams: `GetRecords.IteratorAgeMilliseconds` and `IncomingRecords`;
    - Glue jobs: any `glue.*` metric (namespace `Glue`, `JobName` dimension);
    - dead-letter queues: `ApproximateNumberOfMessagesVisible`.
    A body that cannot be parsed is reported on `DashboardBody`. Stacks without any dashboard
    are left to MON030.

    ## Why is this bad?
    A dashboard that leaves out a component hides exactly the failure nobody anticipated: a
    throttled function or a growing dead-letter queue does not show, and the dashboard looks
    green.

    ## Example
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
      Pipeline:
        Type: AWS::CloudWatch::Dashboard
        Properties:
          DashboardBody: !Sub |
            {"widgets": [{"type": "metric", "properties": {"region": "${AWS::Region}",
              "metrics": [["AWS/Kinesis", "IncomingRecords", "StreamName", "${Ticks}"]]}}]}
    ```

    ## Use instead
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
      Pipeline:
        Type: AWS::CloudWatch::Dashboard
        Properties:
          DashboardBody: !Sub |
            {"widgets": [{"type": "metric", "properties": {"region": "${AWS::Region}",
              "metrics": [["AWS/Kinesis", "IncomingRecords", "StreamName", "${Ticks}"],
                          [".", "GetRecords.IteratorAgeMilliseconds", ".", "."]]}}]}
    ```

    ## Options
    - `function_metrics`, `stream_metrics`, `job_metrics`, `dlq_metrics` (lists): the metrics
      each kind of component must have charted; alternatives joined by `|`, a trailing `*`
      matches a prefix.

    ## Known problems
    Search expressions (`SEARCH(...)`) and metric math in `expression` rows are not
    interpreted.

    ## References
    - [Dashboard body structure and syntax](https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)
    """
    dashboards = list(ctx.resources(DASHBOARD))
    if not dashboards:
        return
    components = pipeline_components(ctx)
    # Bodies chosen by Fn::If and conditional dashboards are read in every scenario.
    names: set[str] = set()
    for dashboard in dashboards:
        names |= ctx.graph.conditions_used.get(dashboard.logical_id, set())
        if dashboard.condition:
            names.add(dashboard.condition)
    scenarios, truncated = ctx.scenarios.enumerate(names)
    if truncated:
        ctx.truncated.add(dashboards[0].logical_id)
    yield from fold([(s, list(_coverage_gaps(ctx, components, s))) for s in scenarios])


def _coverage_gaps(ctx: Context, components: list[tuple[Resource, str]], scenario: Scenario
                   ) -> Iterator[Violation]:
    charts = read_dashboards(ctx, scenario)
    yield from charts.problems
    if not any(exists_in(d, scenario) for d in ctx.template.of_type(DASHBOARD)):
        return  # MON030 reports a stack without a dashboard
    for resource, kind in components:
        if not exists_in(resource, scenario):
            continue
        noun, namespace, option = _KIND[kind]
        shown = _shows(ctx, charts, resource, namespace, scenario)
        for entry in ctx.option(option):
            group = [m.strip() for m in str(entry).split("|") if m.strip()]
            if not any(_matches(metric, wanted) for metric in shown for wanted in group):
                names = " or ".join(f"`{m}`" for m in group)
                yield Violation(f"{noun} `{resource.logical_id}` has no dashboard widget "
                                f"charting {names}", resource.path, key=str(entry))
