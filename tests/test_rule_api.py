"""The rule API's scenario folding."""

from __future__ import annotations

from cfnaudit.rule import Violation, fold


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
        "p when A is true and B is true", "p when A is false and B is false"]


def test_one_scenario_with_conditions_says_so() -> None:
    found = [((("IsProd", True),), [Violation("x", ("R",))])]
    assert [v.message for v in fold(found)] == ["x"]
