"""Pathological template shapes, each at 1x, 2x and 4x its size: cost must grow linearly.

Each shape once made cfnaudit hang or slow down far faster than the template grew:
wildcard-heavy policies (a regex per `*` backtracked exponentially), many condition scenarios
over many watched resources (alarm coverage redid every variant in every scenario) and large
`Fn::Cidr` counts (the list was built whatever the count). `run.py --shapes` times them; with
`--cfnaudit COMMAND` it times another build (an older checkout) the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import generate


@dataclass(frozen=True)
class Series:
    name: str
    unit: str  # what the size counts
    template: Callable[[int], str]
    sizes: tuple[int, int, int]  # 1x, 2x, 4x
    flags: tuple[str, ...] = ()  # extra scan flags (accepted by every build measured)


SERIES = (
    Series("wildcard-heavy policies", "statements with 28 wildcards",
           generate.wildcards, (1, 2, 4)),
    Series("condition scenarios", "scenarios over 10 watched resources",
           lambda n: generate.scenarios(10, n.bit_length() - 1), (64, 128, 256),
           ("--scenario-budget", "256")),
    Series("watched resources", "streams and functions under 64 scenarios",
           lambda n: generate.scenarios(n, 6), (10, 20, 40)),
    Series("Fn::Cidr of 256 blocks", "subnets", generate.cidr, (50, 100, 200)),
    Series("Fn::Cidr of 2,000,000 blocks", "subnets",
           lambda n: generate.cidr(n, 2_000_000), (1, 2, 4)),
)

FLOOR_TEMPLATE = generate.resources(1)  # one role: what start-up and decoding cost


def growth(cpus: list[float], floor: float) -> str:
    """How the CPU time above the start-up floor grows from the 1x to the 4x size. CPU time
    (user + system) rather than wall time: on a shared machine the wall time of a
    one-process run moves with the load, its CPU time much less."""
    first, last = cpus[0] - floor, cpus[-1] - floor
    times = f"CPU {cpus[0]:.2f} / {cpus[1]:.2f} / {cpus[2]:.2f} s; floor {floor:.2f} s"
    if first < 0.05:  # within the noise of the floor: no meaningful ratio
        return f"every size within 0.05 s of the start-up floor at 1x ({times})"
    return f"4x the size takes {last / first:.1f}x the CPU time above the start-up floor ({times})"
