"""YAML that remembers where each value came from, so pydantic errors can name a line.

PyYAML's `compose` keeps a start mark on every node; we construct plain Python values from the
node tree and record the line of every key path on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from storiiies.errors import Problem, SourceLocation

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class PositionedYaml:
    """Plain data plus the (line, column) of each key path, 1-based, in the author's file."""

    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: str, keys: Sequence[str | int] = ()) -> SourceLocation:
        """The location of the deepest known prefix of `keys` (falls back to the document)."""
        keys = tuple(keys)
        while keys and keys not in self.positions:
            keys = keys[:-1]
        line, column = self.positions.get(keys, (1, 1))
        return SourceLocation(path, line, column)


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def load_yaml(text: str, path: str, *, first_line: int = 1) -> PositionedYaml:
    """Parse YAML `text` that starts at `first_line` of the file `path`.

    Raises YamlSyntaxError carrying a Problem with the line of the mistake.
    """
    offset = first_line - 1
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        problem = _unreadable(path, first_line, "brackets nested too deeply", _CHECK_BRACKETS)
        raise YamlSyntaxError(problem) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 + offset if mark else first_line
        column = mark.column + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlSyntaxError(
            Problem(
                SourceLocation(path, line, column),
                f"invalid YAML: {reason}",
                "check the indentation and quote values that contain ':' or '#'",
            )
        ) from None
    positions: dict[KeyPath, tuple[int, int]] = {}
    if node is None:
        return PositionedYaml(None, positions)
    try:
        data = _construct(node, (), positions, offset, _Budget())
    except _Unreadable as exc:
        raise YamlSyntaxError(_unreadable(path, exc.line + offset, exc.reason, exc.hint)) from None
    return PositionedYaml(data, positions)


#: Far more values than any story or settings file holds; aliases of aliases can otherwise
#: expand a few lines into billions of values (the "billion laughs") and hang the build.
MAX_VALUES = 20_000


_PLAINLY = "write the values out plainly; storiiies needs no anchors (&), aliases (*) or tags (!!)"
_CHECK_BRACKETS = "check the brackets [ ] and braces { }"


class _Unreadable(Exception):
    def __init__(self, line: int, reason: str, hint: str = _PLAINLY) -> None:
        self.line, self.reason, self.hint = line, reason, hint


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_VALUES
        self.open: set[int] = set()  # nodes being built, to catch an alias to its own parent


def _unreadable(path: str, line: int, reason: str, hint: str) -> Problem:
    return Problem(SourceLocation(path, line), f"invalid YAML: {reason}", hint)


def _construct(
    node: yaml.Node,
    keys: KeyPath,
    positions: dict[KeyPath, tuple[int, int]],
    offset: int,
    budget: _Budget,
) -> Any:
    budget.left -= 1
    if budget.left < 0:
        line = node.start_mark.line + 1
        raise _Unreadable(line, f"more than {MAX_VALUES} values (aliases expanding?)")
    if id(node) in budget.open:
        raise _Unreadable(node.start_mark.line + 1, "a value contains itself")
    if len(keys) > 100:
        raise _Unreadable(node.start_mark.line + 1, "values nested too deeply", _CHECK_BRACKETS)
    positions.setdefault(keys, (node.start_mark.line + 1 + offset, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        budget.open.add(id(node))
        try:
            return _construct_collection(node, keys, positions, offset, budget)
        finally:
            budget.open.discard(id(node))
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader(b"").construct_object(node, deep=True)
    except (ValueError, OverflowError):
        # Looks like a date or number but is not one (2024-13-45, 5000 digits): keep the text,
        # and the model's validation says what is wrong with it.
        return node.value
    except yaml.YAMLError:  # a tag no safe loader knows, such as !!python/object
        raise _Unreadable(node.start_mark.line + 1, f"unknown tag {node.tag[:60]}") from None


def _construct_collection(
    node: yaml.MappingNode | yaml.SequenceNode,
    keys: KeyPath,
    positions: dict[KeyPath, tuple[int, int]],
    offset: int,
    budget: _Budget,
) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # A collection as a key (`? [a, b]`) names no setting; not building it also keeps
            # aliases inside it from expanding.
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else "(complex key)"
            key = key if isinstance(key, (str, int)) else str(key)
            positions[(*keys, key)] = (
                key_node.start_mark.line + 1 + offset,
                key_node.start_mark.column + 1,
            )
            result[key] = _construct(value_node, (*keys, key), positions, offset, budget)
        return result
    return [
        _construct(item, (*keys, index), positions, offset, budget)
        for index, item in enumerate(node.value)
    ]


def validation_problems(
    error: ValidationError, source: PositionedYaml, path: str, *, what: str
) -> list[Problem]:
    """Turn every pydantic error into a Problem at the line of the offending key."""
    problems = []
    for item in error.errors():
        loc = tuple(part for part in item["loc"] if not isinstance(part, str) or part[:1] != "_")
        name = ".".join(str(part) for part in loc) or what
        kind = item["type"]
        if kind == "extra_forbidden":
            message = f"unknown setting '{name}' in {what}"
            hint = "check its spelling; see docs/authoring.md for the settings"
        elif kind == "missing":
            message = f"'{name}' is required in {what}"
            hint = None
        else:
            text = item["msg"].removeprefix("Value error, ")
            message = f"'{name}' in {what}: {text[0].lower()}{text[1:]}"
            # A validator may say what to do: PydanticCustomError(..., {"hint": ...}).
            hint = (item.get("ctx") or {}).get("hint")
        problems.append(Problem(source.location(path, loc), message, hint))
    return problems


def validate(
    model: type[BaseModel], source: PositionedYaml, path: str, *, what: str
) -> tuple[Any, list[Problem]]:
    """Validate positioned YAML into `model`; returns (instance or None, problems)."""
    data = source.data if source.data is not None else {}
    if not isinstance(data, dict):
        return None, [
            Problem(source.location(path), f"{what} must be a mapping of 'key: value' lines")
        ]
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, validation_problems(error, source, path, what=what)
