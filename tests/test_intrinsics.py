"""Reading values through intrinsics: If fan-out, NoValue, parameters, the scenario budget."""

from __future__ import annotations

import time
from collections.abc import Iterator

from helpers import template_from

from cfnaudit.decode import decode_text
from cfnaudit.engine import run_rules
from cfnaudit.intrinsics import NO_VALUE, Scenarios, Unresolved, branch, describe, resolve
from cfnaudit.rule import Context, Rule, Severity, Violation
from cfnaudit.template import Template, build_template

TEMPLATE = """
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, staging, prod]}
  Days: {Type: Number, Default: 90}
  NoDefault: {Type: String}
  Cidr: {Type: String, Default: 10.0.0.0/16}
Mappings:
  Retention: {prod: {Days: 365}, dev: {Days: 7}}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Equals [dev, !Ref Env]
  NotProd: !Not [!Condition IsProd]
  ProdOrDev: !Or [!Condition IsProd, !Condition IsDev]
  Free: !Equals [!Select [0, !Split [",", "a,b"]], !ImportValue other]
Resources:
  Queue:
    Type: AWS::SQS::Queue
"""


def _template(overrides: dict[str, str] | None = None) -> Template:
    return build_template(decode_text(TEMPLATE), "t.yaml", overrides or {})


def test_parameters_resolve_to_default_or_override() -> None:
    t = _template()
    assert resolve({"Ref": "Env"}, t) == "dev"
    assert resolve({"Ref": "Days"}, t) == 90
    assert resolve({"Ref": "Env"}, _template({"Env": "prod"})) == "prod"
    missing = resolve({"Ref": "NoDefault"}, t)
    assert isinstance(missing, Unresolved) and "has no default" in missing.reason
    assert isinstance(resolve({"Ref": "AWS::Region"}, t), Unresolved)
    assert isinstance(resolve({"Ref": "Queue"}, t), Unresolved)


def test_functions_evaluate_statically_where_possible() -> None:
    t = _template()
    assert resolve({"Fn::Sub": "q-${Env}-${!Literal}"}, t) == "q-dev-${Literal}"
    assert resolve({"Fn::Sub": ["${A}-${Env}", {"A": {"Ref": "Days"}}]}, t) == "90-dev"
    assert isinstance(resolve({"Fn::Sub": "${AWS::Region}"}, t), Unresolved)
    assert resolve({"Fn::Join": ["-", ["a", {"Ref": "Env"}, 3]]}, t) == "a-dev-3"
    assert resolve({"Fn::Select": [1, ["a", "b"]]}, t) == "b"
    assert resolve({"Fn::Select": ["0", {"Fn::Split": [",", "x,y"]}]}, t) == "x"
    assert resolve({"Fn::FindInMap": ["Retention", {"Ref": "Env"}, "Days"]}, t) == 7
    assert resolve({"Fn::FindInMap": ["Retention", "qa", "Days", {"DefaultValue": 1}]}, t) == 1
    assert resolve({"Fn::Cidr": [{"Ref": "Cidr"}, 3, 8]}, t) == [
        "10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
    assert resolve({"Fn::Select": [1, {"Fn::Cidr": ["10.1.0.0/16", 2, 12]}]}, t) == \
        "10.1.16.0/20"
    assert isinstance(resolve({"Fn::Select": [0, {"Fn::GetAZs": ""}]}, t), Unresolved)
    assert resolve({"Ref": "AWS::NoValue"}, t) is NO_VALUE


def test_if_resolves_only_within_a_scenario() -> None:
    t = _template()
    value = {"Fn::If": ["IsProd", 365, 7]}
    assert isinstance(resolve(value, t), Unresolved)
    assert resolve(value, t, (("IsProd", True),)) == 365
    assert resolve(value, t, (("IsProd", False),)) == 7


def test_branch_picks_if_branches_and_drops_no_value() -> None:
    value = {"A": {"Fn::If": ["C", {"Ref": "AWS::NoValue"}, 1]},
             "B": [1, {"Fn::If": ["C", 2, {"Ref": "AWS::NoValue"}]}],
             "Same": {"x": 1}}
    true, false = branch(value, (("C", True),)), branch(value, (("C", False),))
    assert true == {"B": [1, 2], "Same": {"x": 1}}
    assert false == {"A": 1, "B": [1], "Same": {"x": 1}}
    assert true["Same"] is value["Same"]  # unchanged parts are shared, not copied
    assert branch({"Ref": "AWS::NoValue"}, ()) is NO_VALUE


def test_scenarios_are_consistent_with_parameter_values() -> None:
    scenarios, truncated = Scenarios(_template()).enumerate({"IsProd", "IsDev"})
    assert not truncated
    # Env cannot be both prod and dev: (True, True) never appears.
    assert set(scenarios) == {
        (("IsDev", False), ("IsProd", True)),
        (("IsDev", True), ("IsProd", False)),
        (("IsDev", False), ("IsProd", False)),  # staging
    }


def test_derived_conditions_follow_their_definitions() -> None:
    scenarios, _ = Scenarios(_template()).enumerate({"IsProd", "NotProd", "ProdOrDev"})
    for scenario in scenarios:
        outcome = dict(scenario)
        assert outcome["NotProd"] is not outcome["IsProd"]
        if outcome["IsProd"]:
            assert outcome["ProdOrDev"]


def test_overrides_fix_the_scenario() -> None:
    scenarios, _ = Scenarios(_template({"Env": "prod"})).enumerate({"IsProd"})
    assert scenarios == ((("IsProd", True),),)


def test_unresolvable_equality_is_a_free_choice() -> None:
    scenarios, _ = Scenarios(_template()).enumerate({"Free"})
    assert set(scenarios) == {(("Free", True),), (("Free", False),)}


def test_required_condition_keeps_only_scenarios_where_it_holds() -> None:
    scenarios, _ = Scenarios(_template()).enumerate({"NotProd"}, required="IsProd")
    assert scenarios == ((("NotProd", False),),)


def test_describe() -> None:
    assert describe((("A", True), ("B", False))) == "when A is true and B is false"
    assert describe(()) == ""


def _many_conditions(count: int) -> str:
    params = "".join(f"  P{i}: {{Type: String, Default: a}}\n" for i in range(count))
    conditions = "".join(f"  C{i}: !Equals [!Ref P{i}, b]\n" for i in range(count))
    tags = "".join(f"        - !If [C{i}, {{Key: k{i}, Value: v}}, !Ref AWS::NoValue]\n"
                   for i in range(count))
    return (f"Parameters:\n{params}Conditions:\n{conditions}Resources:\n  Q:\n"
            f"    Type: AWS::SQS::Queue\n    Properties:\n      Tags:\n{tags}")


def test_scenario_budget_is_bounded_and_reported() -> None:
    t = template_from(_many_conditions(30))
    started = time.perf_counter()
    scenarios, truncated = Scenarios(t, budget=64).enumerate({f"C{i}" for i in range(30)})
    elapsed = time.perf_counter() - started
    assert truncated
    assert len(scenarios) <= 64
    assert elapsed < 5  # generous: the point is no 2**30 blow-up, not a speed benchmark


def test_budget_hit_becomes_an_info_finding() -> None:
    def look(ctx: Context) -> Iterator[Violation]:
        for queue in ctx.resources("AWS::SQS::Queue"):
            ctx.variants(queue)
        return iter(())

    probe = Rule("TST001", "probe", Severity.INFO, "tags-required", "Probe.", look)
    result = run_rules(template_from(_many_conditions(8)), [probe], budget=16)
    assert [(f.code, f.resource) for f in result.findings] == [("CFA005", "Q")]
    assert "only the first 16" in result.findings[0].message


def test_conditions_prove_a_parameter_is_not_empty() -> None:
    from cfnaudit.intrinsics import proves_nonempty

    template = template_from("""
Parameters:
  TopicArn: {Type: String}
  Pager: {Type: String, Default: ""}
  Env: {Type: String, Default: dev}
Conditions:
  CreateTopic: !Equals [!Ref TopicArn, ""]
  HasPager: !Not [!Equals ["", !Ref Pager]]
  PagedProd: !And [!Condition HasPager, !Equals [!Ref Env, prod]]
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Queue: {Type: AWS::SQS::Queue}
""")
    assert proves_nonempty("TopicArn", template, (("CreateTopic", False),))
    assert not proves_nonempty("TopicArn", template, (("CreateTopic", True),))
    assert proves_nonempty("Pager", template, (("HasPager", True),))
    assert not proves_nonempty("Pager", template, (("HasPager", False),))
    assert proves_nonempty("Pager", template, (("PagedProd", True),))
    assert not proves_nonempty("Pager", template, (("PagedProd", False),))
    assert proves_nonempty("Env", template, (("IsProd", True),))
    assert not proves_nonempty("Env", template, (("IsProd", False),))
    assert not proves_nonempty("TopicArn", template, ())
