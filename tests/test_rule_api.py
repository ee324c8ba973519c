"""The rule API's scenario folding."""

from __future__ import annotations

from cfnaudit.rule import Severity, Violation, fold


def test_everywhere_once_and_elsewhere_with_the_scenario() -> None:
    everywhere = Violation("a", ("R",))
    only_dev = Violation("b", ("R",))
    found = [((("IsProd", True),), [everywhere]),
             ((("IsProd", False),), [everywhere, only_dev])]
    assert [v.message for v in fold(found)] == ["a", "b when IsProd is false"]
    assert list(fold([])) == []


def test_only_the_conditions_that_matter_are_named() -> None:
    problem = Violation("no rotation", ("R",))
    found = [
        ((("HasConsumer", False), ("IsProd", True)), [problem]),
        ((("HasConsumer", True), ("IsProd", True)), [problem]),
        ((("HasConsumer", False), ("IsProd", False)), []),
        ((("HasConsumer", True), ("IsProd", False)), []),
    ]
    assert [v.message for v in fold(found)] == ["no rotation when IsProd is true"]


def test_a_combination_is_named_when_no_single_condition_explains_it() -> None:
    problem = Violation("p", ("R",))
    found = [
        ((("A", True), ("B", True)), [problem]),
        ((("A", True), ("B", False)), []),
        ((("A", False), ("B", True)), []),
        ((("A", False), ("B", False)), [problem]),
    ]
    assert [v.message for v in fold(found)] == [
        "p when A is true and B is true, or when A is false and B is false"]


def test_one_scenario_with_conditions_says_so() -> None:
    found = [((("IsProd", True),), [Violation("x", ("R",))])]
    assert [v.message for v in fold(found)] == ["x"]


def test_one_problem_worded_per_scenario_is_one_violation_listing_them() -> None:
    def zone(text: str) -> Violation:
        return Violation(f"VPC `Vpc` has subnets in only one availability zone ({text})",
                         ("Resources", "Vpc"))
    found = [
        ((("A", True), ("B", True)), [zone("zone #0")]),
        ((("A", True), ("B", False)), [zone("zone #0")]),
        ((("A", False), ("B", True)), [zone("zone #1")]),
        ((("A", False), ("B", False)), []),
    ]
    assert [v.message for v in fold(found)] == [
        "VPC `Vpc` has subnets in only one availability zone (zone #0) when A is true; "
        "(zone #1) when A is false and B is true"]


def test_different_problems_on_one_path_stay_apart() -> None:
    found = [((("A", True),), [Violation("no x", ("R",)), Violation("no y", ("R",))]),
             ((("A", False),), [Violation("no x", ("R",))])]
    assert [v.message for v in fold(found)] == ["no x", "no y when A is true"]


def test_the_few_scenarios_left_out_are_named_instead_of_the_many_in() -> None:
    problem = Violation("p", ("R",))
    found = [((("A", a), ("B", b)), [] if not (a or b) else [problem])
             for a in (True, False) for b in (True, False)]
    assert [v.message for v in fold(found)] == ["p unless A is false and B is false"]


def test_wordings_of_different_severity_stay_apart() -> None:
    found = [((("A", True),), [Violation("open to all", ("R",), Severity.ERROR)]),
             ((("A", False),), [Violation("open to the web", ("R",), Severity.WARNING)])]
    assert [v.message for v in fold(found)] == ["open to all when A is true",
                                                "open to the web when A is false"]
