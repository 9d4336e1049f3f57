"""Parse and check a segment's filter tree; every error names its JSON path and rule.

Grammar::

    node  := {"all": [node, ...]} | {"any": [node, ...]} | {"not": node}
           | {"filter": "<registered type>", ...params}

The top-level ``{"all": []}`` is the one empty group allowed: "everyone",
the non-personalised audience (C4). Leaf parameters are validated by the
filter's own Pydantic model, so a typo (``"with_days"``), a wrong type or an
out-of-range value is reported as e.g. ``definition.all[1].within_days``
with the Pydantic rule (``extra_forbidden``, ``greater_than_equal``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from pulsecrm.marketing.errors import SegmentInvalid
from pulsecrm.marketing.filters import FilterType, Params, filter_type, load_all

MAX_DEPTH = 8
MAX_LEAVES = 50
GROUPS = ("all", "any")


@dataclass(frozen=True)
class Leaf:
    kind: FilterType
    params: Params
    path: str


@dataclass(frozen=True)
class Group:
    op: Literal["all", "any"]
    children: tuple[Node, ...]
    path: str


@dataclass(frozen=True)
class Negation:
    child: Node
    path: str


Node = Leaf | Group | Negation


def _bad(path: str, en: str, zh: str, rule: str) -> SegmentInvalid:
    return SegmentInvalid(path, en, zh, rule=rule)


def parse(definition: object, path: str = "definition") -> Node:
    """The checked tree, or :class:`SegmentInvalid` naming the first bad node."""
    counter = [0]
    return _parse(definition, path, 1, counter)


def _parse(obj: object, path: str, depth: int, leaves: list[int]) -> Node:
    if depth > MAX_DEPTH:
        raise _bad(path, f"nested deeper than {MAX_DEPTH}", f"嵌套超过 {MAX_DEPTH} 层", "too_deep")
    if not isinstance(obj, dict):
        raise _bad(
            path,
            'a node is an object: {"all": [...]}, {"any": [...]}, {"not": ...} or {"filter": ...}',
            '节点应为对象：{"all": [...]}、{"any": [...]}、{"not": ...} 或 {"filter": ...}',
            "node_shape",
        )
    if "filter" in obj:
        return _leaf(obj, path, leaves)
    keys = set(obj)
    if len(keys) != 1 or not keys <= {"all", "any", "not"}:
        raise _bad(
            path,
            f"a group node has exactly one key of all, any, not (got {sorted(keys)})",
            f"组合节点只能有 all、any、not 之一（收到 {sorted(keys)}）",
            "node_shape",
        )
    (op,) = keys
    if op == "not":
        return Negation(_parse(obj["not"], f"{path}.not", depth + 1, leaves), path)
    items = obj[op]
    if not isinstance(items, list):
        raise _bad(f"{path}.{op}", "must be a list of nodes", "应为节点列表", "node_shape")
    if not items and not (depth == 1 and op == "all"):
        raise _bad(
            f"{path}.{op}",
            "an empty group matches nothing or everything; remove it",
            "空组合没有意义，请删除",
            "empty_group",
        )
    children = tuple(
        _parse(item, f"{path}.{op}[{i}]", depth + 1, leaves) for i, item in enumerate(items)
    )
    return Group("all" if op == "all" else "any", children, path)


def _leaf(obj: dict[str, object], path: str, leaves: list[int]) -> Leaf:
    leaves[0] += 1
    if leaves[0] > MAX_LEAVES:
        raise _bad(path, f"more than {MAX_LEAVES} filters", f"条件超过 {MAX_LEAVES} 个", "too_many")
    name = obj["filter"]
    kind = filter_type(name) if isinstance(name, str) else None
    if kind is None:
        known = ", ".join(sorted(load_all()))
        raise _bad(
            f"{path}.filter",
            f"unknown filter {name!r}; known: {known}",
            f"未知的筛选条件 {name!r}；可用：{known}",
            "unknown_filter",
        )
    params = {k: v for k, v in obj.items() if k != "filter"}
    try:
        parsed = kind.params.model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        field = f"{path}.{where}" if where else path
        message = str(first["msg"])
        raise _bad(field, message, f"参数无效：{message}", str(first["type"])) from None
    return Leaf(kind, parsed, path)


def leaves(node: Node) -> Iterator[Leaf]:
    if isinstance(node, Leaf):
        yield node
    elif isinstance(node, Group):
        for child in node.children:
            yield from leaves(child)
    else:
        yield from leaves(node.child)


def uses_health(node: Node) -> bool:
    return any(leaf.kind.health for leaf in leaves(node))


def is_profiling(node: Node) -> bool:
    return any(leaf.kind.profiling for leaf in leaves(node))
