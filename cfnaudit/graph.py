"""The resource graph: who refers to whom, through which property.

Edges are indexed in plain dictionaries for the queries rules make on every scan. The networkx
MultiDiGraph is built on first use of `nx` (cycle naming, ad-hoc analysis): importing networkx
costs about 110 ms, most of a pre-commit run's budget, and acyclic templates never need it.
This is the only module that imports networkx.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cfnaudit.intrinsics import PSEUDO_PARAMETERS, Malformed, find_references

if TYPE_CHECKING:
    import networkx

    from cfnaudit.decode import Path
    from cfnaudit.roles import Roles
    from cfnaudit.template import Resource, Template

Node = tuple[str, str]  # (section, name): ("Resources", "Bucket"), ("Parameters", "Env"), ...

# SAM properties that the transform expands into separate resources (see `_ordering`).
_TRANSFORM_SPLIT: dict[str, frozenset[str]] = {
    "AWS::Serverless::Function": frozenset({"Events"}),
    "AWS::Serverless::StateMachine": frozenset({"Events"}),
    "AWS::Serverless::GraphQLApi": frozenset({"DataSources", "Functions", "Resolvers"}),
}
# SAM properties of which the transform passes on only some keys: references elsewhere in them
# reach no deployed resource (SAM copies only `Type` and `VPCEndpointIds` of an API's
# `EndpointConfiguration` to the `AWS::ApiGateway::RestApi`).
_TRANSFORM_KEEPS: dict[str, dict[str, frozenset[str]]] = {
    "AWS::Serverless::Api": {"EndpointConfiguration": frozenset({"Type", "VPCEndpointIds"})},
}

# Keys of a resource entry that are not walked for references (handled on their own).
_OWN_KEYS = frozenset({"Type", "Condition", "DependsOn"})


@dataclass(frozen=True, slots=True)
class Edge:
    source: Node
    target: Node
    kind: str  # Ref | GetAtt | Sub | DependsOn | Condition
    path: Path  # absolute path of the referring value
    attribute: str | None = None

    @property
    def source_id(self) -> str:
        return self.source[1]

    @property
    def target_id(self) -> str:
        return self.target[1]

    def under(self, *prefix: str | int) -> bool:
        """True when the reference sits below `prefix` inside its source resource, e.g.
        `edge.under("Properties", "Bucket")`."""
        return self.path[2:2 + len(prefix)] == prefix


@dataclass(frozen=True, slots=True)
class Dangling:
    """A reference to something the template does not define."""

    edge: Edge
    message: str


class ResourceGraph:
    def __init__(self, template: Template) -> None:
        self.template = template
        self._out: dict[Node, list[Edge]] = {}
        self._in: dict[Node, list[Edge]] = {}
        self.malformed: list[Malformed] = []
        self.dangling: list[Dangling] = []
        # Resources whose values depend on conditions (Fn::If) or use AWS::NoValue.
        self.conditions_used: dict[str, set[str]] = {}
        self.uses_no_value: set[str] = set()
        self._nx: networkx.MultiDiGraph[Node] | None = None
        self._build()

    # ------------------------------------------------------------------ construction

    def _build(self) -> None:
        t = self.template
        lenient = bool(t.transform)  # a transform (SAM, macros) may define more names
        for logical_id, resource in t.resources.items():
            node: Node = ("Resources", logical_id)
            for key, value in resource.raw.items():
                if key not in _OWN_KEYS:
                    self._walk(node, value, (*resource.path, key), lenient)
            if resource.condition is not None:
                self._link(node, resource.condition, "Condition", (*resource.path, "Condition"),
                           None, lenient)
            listed = isinstance(resource.raw.get("DependsOn"), list)
            for i, target in enumerate(resource.depends_on):
                path = (*resource.path, "DependsOn", *((i,) if listed else ()))
                self._link(node, target, "DependsOn", path, None, lenient)
        for name, definition in t.conditions.items():
            self._walk(("Conditions", name), definition, ("Conditions", name), lenient)
        self._report_condition_cycles()
        for name, output in t.outputs.items():
            node = ("Outputs", name)
            for key, value in output.raw.items():
                if key == "Condition":
                    if isinstance(value, str):
                        self._link(node, value, "Condition", ("Outputs", name, key), None,
                                   lenient)
                else:
                    self._walk(node, value, ("Outputs", name, key), lenient)

    def _report_condition_cycles(self) -> None:
        """CloudFormation rejects conditions that refer to themselves, directly or through
        others; each such cycle is reported once, at its first condition in template order."""
        colour: dict[str, int] = {}  # 1 while on the path, 2 when done
        reported: set[frozenset[str]] = set()
        for root in self.template.conditions:
            if root in colour:
                continue
            colour[root] = 1
            path = [(root, iter(self._condition_targets(root)))]
            while path:
                name, pending = path[-1]
                for edge in pending:
                    target = edge.target[1]
                    if colour.get(target) == 1:
                        members = [n for n, _ in path]
                        cycle = members[members.index(target):]
                        if frozenset(cycle) not in reported:
                            reported.add(frozenset(cycle))
                            through = ", ".join(f"`{n}`" for n in cycle[1:])
                            how = f" through {through}" if through else ""
                            self.malformed.append(Malformed(
                                f"condition `{target}` refers to itself{how}", edge.path))
                    elif target not in colour:
                        colour[target] = 1
                        path.append((target, iter(self._condition_targets(target))))
                        break
                else:
                    path.pop()
                    colour[name] = 2

    def _condition_targets(self, name: str) -> list[Edge]:
        return [e for e in self._out.get(("Conditions", name), ()) if e.target[0] == "Conditions"]

    def _walk(self, source: Node, value: Any, path: Path, lenient: bool) -> None:
        for found in find_references(value, path):
            if isinstance(found, Malformed):
                self.malformed.append(found)
            else:
                self._link(source, found.target, found.kind, found.path, found.attribute, lenient)

    def _link(self, source: Node, name: str, kind: str, path: Path, attribute: str | None,
              lenient: bool) -> None:
        t = self.template
        if kind == "Condition":
            if source[0] == "Resources" and path[2:3] != ("Condition",):
                self.conditions_used.setdefault(source[1], set()).add(name)
            target: Node = ("Conditions", name)
            known = name in t.conditions
        elif name in PSEUDO_PARAMETERS:
            if name == "AWS::NoValue" and source[0] == "Resources":
                self.uses_no_value.add(source[1])
            return
        elif kind == "Ref" or (kind == "Sub" and attribute is None):
            target = ("Resources", name) if name in t.resources else ("Parameters", name)
            known = name in t.resources or name in t.parameters
        else:  # GetAtt, Sub with an attribute, DependsOn
            target = ("Resources", name)
            known = name in t.resources
        edge = Edge(source, target, kind, path, attribute)
        if not known:
            if not lenient and not name.startswith("AWS::"):
                what = {"Condition": "condition", "DependsOn": "resource", "GetAtt": "resource"
                        }.get(kind, "resource or parameter")
                self.dangling.append(Dangling(edge, f"{kind} to undefined {what} `{name}`"))
            return
        self._out.setdefault(source, []).append(edge)
        self._in.setdefault(target, []).append(edge)

    # ---------------------------------------------------------------------- queries

    def referrers(self, logical_id: str, *, types: Iterable[str] | None = None,
                  kinds: Iterable[str] | None = None, under: tuple[str | int, ...] = ()
                  ) -> list[Edge]:
        """Edges from resources that refer to resource `logical_id`; optionally only from
        resources of `types`, of edge `kinds`, or from below property path `under`."""
        wanted_types = frozenset(types) if types is not None else None
        wanted_kinds = frozenset(kinds) if kinds is not None else None
        result = []
        for edge in self._in.get(("Resources", logical_id), ()):
            if edge.source[0] != "Resources":
                continue
            if wanted_kinds is not None and edge.kind not in wanted_kinds:
                continue
            if under and not edge.under(*under):
                continue
            if wanted_types is not None:
                source = self.template.resources[edge.source[1]]
                if source.type not in wanted_types:
                    continue
            result.append(edge)
        return result

    def referring_resources(self, logical_id: str, *, types: Iterable[str] | None = None,
                            kinds: Iterable[str] | None = None,
                            under: tuple[str | int, ...] = ()) -> list[Resource]:
        """Distinct resources that refer to `logical_id`, in template order."""
        ids = {e.source[1] for e in self.referrers(logical_id, types=types, kinds=kinds,
                                                   under=under)}
        resources = self.template.resources
        if len(ids) > 1:
            order = self._order
            return [resources[lid] for lid in sorted(ids, key=order.__getitem__)]
        return [resources[lid] for lid in ids]

    def targets(self, logical_id: str, *, kinds: Iterable[str] | None = None,
                under: tuple[str | int, ...] = (), section: str = "Resources") -> list[Edge]:
        """Edges out of resource `logical_id`; `section` filters the target kind
        ("Resources", "Parameters" or "Conditions")."""
        wanted_kinds = frozenset(kinds) if kinds is not None else None
        return [e for e in self._out.get(("Resources", logical_id), ())
                if e.target[0] == section
                and (wanted_kinds is None or e.kind in wanted_kinds)
                and (not under or e.under(*under))]

    def targets_at(self, resource: Resource, *prefix: str | int,
                   types: Iterable[str] | None = None) -> list[Resource]:
        """Resources that `resource` refers to from below `prefix`, optionally of `types`."""
        wanted = frozenset(types) if types is not None else None
        ids = dict.fromkeys(e.target[1] for e in self.targets(resource.logical_id, under=prefix))
        found = [self.template.resources[i] for i in ids]
        return [r for r in found if wanted is None or r.type in wanted]

    def parameters_at(self, resource: Resource, *prefix: str | int) -> list[str]:
        """Parameters that `resource` refers to from below `prefix`."""
        edges = self.targets(resource.logical_id, under=prefix, section="Parameters")
        return list(dict.fromkeys(e.target[1] for e in edges))

    def output_edges(self) -> Iterator[Edge]:
        for node, edges in self._out.items():
            if node[0] == "Outputs":
                yield from edges

    def resource_cycles(self) -> list[list[str]]:
        """One cycle (as a closed list of logical ids) per strongly connected group of
        resources, groups ordered by their smallest id."""
        return [cycle for cycle, _ in self.cycle_groups()]

    def cycle_groups(self) -> list[tuple[list[str], list[str]]]:
        """(one cycle, all members sorted) per strongly connected group of resources: breaking
        the named cycle is not enough while other members still depend on each other.
        Acyclic graphs, the common case, are settled by Kahn's algorithm without importing
        networkx; only a cyclic template pays for its components and cycle search."""
        if self._is_acyclic():
            return []
        import networkx as nx

        graph: nx.DiGraph[str] = nx.DiGraph()
        for source, targets in self._ordering().items():
            # Sorted: set order follows string hashing, which differs per process, and the
            # cycle networkx finds (the one the finding names) follows edge order.
            graph.add_edges_from((source, target) for target in sorted(targets))
        cycles = []
        components = (c for c in nx.strongly_connected_components(graph)
                      if len(c) > 1 or any(graph.has_edge(n, n) for n in c))
        for component in sorted(components, key=min):
            start = min(component)
            edges = nx.find_cycle(graph.subgraph(component), source=start)
            cycles.append(([edges[0][0], *(v for _, v in edges)], sorted(component)))
        return cycles

    def _ordering(self) -> dict[str, set[str]]:
        """Resource -> resources it must be created after. References a SAM resource makes
        from a part the transform turns into resources of their own (a function's `Events`,
        a GraphQL API's `DataSources`, `Functions`, `Resolvers`) order those new resources,
        not the SAM resource itself, so they are left out."""
        resources = self.template.resources
        successors: dict[str, set[str]] = {}
        for node, edges in self._out.items():
            if node[0] != "Resources":
                continue
            kind = resources[node[1]].type
            split = _TRANSFORM_SPLIT.get(kind, ())
            keeps = _TRANSFORM_KEEPS.get(kind, {})
            successors[node[1]] = {
                e.target[1] for e in edges if e.target[0] == "Resources"
                and not (len(e.path) > 3 and e.path[2] == "Properties" and e.path[3] in split)
                and not _dropped_by_transform(e.path, keeps)}
        return successors

    def _is_acyclic(self) -> bool:
        """Kahn's algorithm over the edges that order resource creation."""
        successors = self._ordering()
        indegree: dict[str, int] = dict.fromkeys(self.template.resources, 0)
        for targets in successors.values():
            for target in targets:
                indegree[target] += 1
        ready = [n for n, d in indegree.items() if d == 0]
        seen = 0
        while ready:
            current = ready.pop()
            seen += 1
            for target in successors.get(current, ()):
                indegree[target] -= 1
                if indegree[target] == 0:
                    ready.append(target)
        return seen == len(indegree)

    @cached_property
    def roles(self) -> Roles:
        """What each resource is for (cfnaudit.roles), derived once per graph and shared by
        every rule of the scan."""
        from cfnaudit.roles import Roles

        return Roles(self.template, self)

    @cached_property
    def _order(self) -> dict[str, int]:
        """Template position of each resource, to order results without scanning them all."""
        return {lid: i for i, lid in enumerate(self.template.resources)}

    @property
    def nx(self) -> networkx.MultiDiGraph[Node]:
        """The whole graph as a networkx MultiDiGraph: nodes are (section, name) tuples with a
        `type` attribute for resources; edges carry `kind`, `path` and `attribute`."""
        if self._nx is None:
            import networkx as nx

            graph: nx.MultiDiGraph[Node] = nx.MultiDiGraph()
            t = self.template
            graph.add_nodes_from((("Resources", lid), {"type": r.type})
                                 for lid, r in t.resources.items())
            graph.add_nodes_from(("Parameters", n) for n in t.parameters)
            graph.add_nodes_from(("Conditions", n) for n in t.conditions)
            graph.add_nodes_from(("Outputs", n) for n in t.outputs)
            for edges in self._out.values():
                graph.add_edges_from((e.source, e.target, {"kind": e.kind, "path": e.path,
                                                           "attribute": e.attribute})
                                     for e in edges)
            self._nx = graph
        return self._nx


def _dropped_by_transform(path: Path, keeps: dict[str, frozenset[str]]) -> bool:
    """The reference sits below a key of a SAM property that the transform does not copy."""
    if len(path) <= 4 or path[2] != "Properties" or not isinstance(path[3], str):
        return False
    kept = keeps.get(path[3])
    return kept is not None and path[4] not in kept
