"""Reading values through intrinsics: If fan-out, NoValue, parameters, the scenario budget."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
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


LIST_PARAMETERS = """
Parameters:
  Cidrs: {Type: CommaDelimitedList, Default: "10.0.0.0/24, 10.0.1.0/24"}
  Subnets: {Type: "List<AWS::EC2::Subnet::Id>", Default: "subnet-1,subnet-2"}
  FromSsm: {Type: "AWS::SSM::Parameter::Value<List<String>>", Default: "/net/cidrs"}
  Plain: {Type: String, Default: "a,b"}
Resources:
  Queue:
    Type: AWS::SQS::Queue
"""


def test_list_parameters_resolve_to_lists() -> None:
    t = build_template(decode_text(LIST_PARAMETERS), "t.yaml")
    assert resolve({"Ref": "Cidrs"}, t) == ["10.0.0.0/24", "10.0.1.0/24"]
    assert resolve({"Fn::Select": [1, {"Ref": "Cidrs"}]}, t) == "10.0.1.0/24"
    assert resolve({"Fn::Join": ["|", {"Ref": "Subnets"}]}, t) == "subnet-1|subnet-2"
    assert resolve({"Ref": "FromSsm"}, t) == ["/net/cidrs"]
    assert resolve({"Ref": "Plain"}, t) == "a,b"  # a String stays text
    # a list is not text: Sub cannot insert it, and literal() does not read it as one
    assert isinstance(resolve({"Fn::Sub": "${Cidrs}"}, t), Unresolved)
    overridden = build_template(decode_text(LIST_PARAMETERS), "t.yaml",
                                {"Cidrs": "0.0.0.0/0 ,10.9.0.0/16"})
    assert resolve({"Fn::Select": [0, {"Ref": "Cidrs"}]}, overridden) == "0.0.0.0/0"
    assert resolve({"Ref": "Cidrs"}, overridden) == ["0.0.0.0/0", "10.9.0.0/16"]


def test_a_parameter_follows_the_conditions_of_the_scenario() -> None:
    t = template_from("""
        Parameters:
          Consumer: {Type: String, Default: ""}
          Env: {Type: String, Default: dev}
        Conditions:
          HasConsumer: !Not [!Equals [!Ref Consumer, ""]]
          IsProd: !Equals [!Ref Env, prod]
        Resources:
          Queue: {Type: AWS::SQS::Queue}
    """)
    consumer = {"Fn::Sub": "arn:aws:iam::${Consumer}:root"}
    assert resolve(consumer, t, (("HasConsumer", False),)) == "arn:aws:iam:::root"
    unknown = resolve(consumer, t, (("HasConsumer", True),))
    assert isinstance(unknown, Unresolved)
    assert "`Consumer` is set to something other than its default" in unknown.reason
    assert resolve({"Ref": "Env"}, t, (("IsProd", True),)) == "prod"  # pinned by the Equals
    assert resolve({"Ref": "Env"}, t, (("IsProd", False),)) == "dev"
    assert resolve({"Ref": "Env"}, t, (("HasConsumer", True),)) == "dev"  # unrelated
    overridden = build_template(decode_text(t.text), "t.yaml", {"Consumer": "1"})
    assert resolve(consumer, overridden, (("HasConsumer", True),)) == "arn:aws:iam::1:root"


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


@pytest.mark.parametrize(("count", "bits"), [
    (float("inf"), 8), (3, float("inf")), (None, 8), (3, None), ([3], 8), (3, [8]),
    (True, 8), (3, True), (2_000_000, 8), (0, 8), (257, 8), (-1, 8), (3, -1), (3, 17),
    (3.5, 8), ("1" * 5000, 8), ({"a": 1}, 8), (float("nan"), 8),
])
def test_cidr_outside_what_cloudformation_allows_is_unresolved(count: Any, bits: Any) -> None:
    result = resolve({"Fn::Cidr": ["10.0.0.0/16", count, bits]}, _template())
    assert isinstance(result, Unresolved)
    assert "`Fn::Cidr` arguments are invalid" in result.reason


def test_cidr_limits_are_those_of_cloudformation() -> None:
    t = _template()
    assert len(resolve({"Fn::Cidr": ["10.0.0.0/8", 256, 8]}, t)) == 256
    assert resolve({"Fn::Cidr": ["10.0.0.0/16", "2", "8"]}, t) == ["10.0.0.0/24", "10.0.1.0/24"]
    assert resolve({"Fn::Cidr": ["10.0.0.0/16", 2.0, 8]}, t) == ["10.0.0.0/24", "10.0.1.0/24"]
    assert resolve({"Fn::Cidr": ["10.0.0.0/30", 8, 0]}, t) == ["10.0.0.0/32", "10.0.0.1/32",
                                                               "10.0.0.2/32", "10.0.0.3/32"]
    assert isinstance(resolve({"Fn::Cidr": [["10.0.0.0/16"], 2, 8]}, t), Unresolved)


@pytest.mark.parametrize(("index", "items"), [
    (float("inf"), ["a"]), (2**80, ["a"]), (-1, ["a", "b"]), (True, ["a", "b"]),
    ("1" * 5000, ["a"]),
    (0, "ab"), (0, {"a": 1}), (None, ["a"]), ([0], ["a"]), (0.5, ["a"]),
])
def test_select_index_of_any_shape_is_unresolved(index: Any, items: Any) -> None:
    result = resolve({"Fn::Select": [index, items]}, _template())
    assert isinstance(result, Unresolved), result


ODD_ARGUMENTS: list[Any] = [
    None, True, 0, -1, 2**200, float("inf"), float("nan"), "", "x", "10.0.0.0/16", [], {},
    {"Ref": "Env"}, {"Ref": "AWS::NoValue"}, {"Fn::Cidr": ["10.0.0.0/16", 300, 8]}, [1, 2],
]


@pytest.mark.parametrize("function", ["Ref", "Fn::If", "Fn::Join", "Fn::Select", "Fn::Split",
                                      "Fn::FindInMap", "Fn::Sub", "Fn::Cidr", "Fn::GetAZs",
                                      "Fn::GetAtt", "Fn::Base64", "Fn::Length"])
def test_every_function_returns_a_value_or_unresolved_on_any_argument_shape(
        function: str) -> None:
    t = _template()
    shapes: list[Any] = [*ODD_ARGUMENTS, [True] * 4]
    shapes += [list(c) for n in (1, 2, 3) for c in itertools.product(ODD_ARGUMENTS[:9], repeat=n)]
    shapes += [[a, b, c] for a, b, c in zip(ODD_ARGUMENTS, ODD_ARGUMENTS[3:], ODD_ARGUMENTS[6:],
                                          strict=False)]
    for argument in shapes:
        for scenario in ((), (("IsProd", True),)):
            resolve({function: argument}, t, scenario)  # must not raise


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


def test_macro_output_is_fn_transform_or_a_script_under_a_declared_macro() -> None:
    from cfnaudit.intrinsics import is_macro_output
    script = "#!PyPlate\noutput = []"
    with_macro = template_from("""
        Transform: [PyPlate]
        Resources:
          Bucket: {Type: AWS::S3::Bucket}
    """)
    only_sam = template_from("""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Bucket: {Type: AWS::S3::Bucket}
    """)
    assert is_macro_output({"Fn::Transform": {"Name": "Tags"}}, only_sam)
    assert is_macro_output(script, with_macro)
    assert not is_macro_output(script, only_sam)  # AWS's own transforms run no scripts
    assert not is_macro_output("plain text", with_macro)
    assert not is_macro_output([{"Key": "a", "Value": "b"}], with_macro)


def test_a_placeholder_naming_a_declared_macro_is_its_output() -> None:
    from cfnaudit.intrinsics import is_macro_output
    explode = template_from("""
        Transform: Explode
        Resources:
          Bucket: {Type: AWS::S3::Bucket}
    """)
    other = template_from("""
        Transform: PyPlate
        Resources:
          Bucket: {Type: AWS::S3::Bucket}
    """)
    assert is_macro_output("!Explode Retention", explode)
    assert not is_macro_output("!Explode Retention", other)  # names no declared macro
    assert not is_macro_output("!Exploded Retention", explode)  # another word
    assert not is_macro_output("Explode Retention", explode)


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
