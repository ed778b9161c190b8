"""The OpenFGA modelling language (schema 1.1) as typed dataclasses: DSL parser and the API's JSON form.

The embedded engine evaluates these dataclasses; the OpenFGA backend uploads their JSON form, so the
server and the embedded engine always run the same `model.fga` (the `fga` binary is a dev-only tool).
Supported: types, relations, direct type restrictions (`t`, `t:*`, `t#rel`), computed usersets,
`x from y`, `or` / `and` / `but not`, parentheses and comments. Not supported: conditions and modules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1.1"


class ModelError(ValueError):
    """A malformed or semantically invalid authorization model; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


@dataclass(frozen=True, slots=True)
class TypeRestriction:
    """One entry of `[...]`: a user type, a typed wildcard (`t:*`) or a userset (`t#rel`)."""

    type: str
    relation: str | None = None
    wildcard: bool = False

    def __str__(self) -> str:
        if self.wildcard:
            return f"{self.type}:*"
        return f"{self.type}#{self.relation}" if self.relation else self.type


@dataclass(frozen=True, slots=True)
class Direct:
    """`[t1, t2#r, t3:*]`: users related by a stored tuple."""

    restrictions: tuple[TypeRestriction, ...]


@dataclass(frozen=True, slots=True)
class ComputedUserset:
    """`rel`: whoever has another relation on the same object."""

    relation: str


@dataclass(frozen=True, slots=True)
class TupleToUserset:
    """`computed_relation from tupleset`: whoever has `computed_relation` on the objects in `tupleset`."""

    tupleset: str
    computed_relation: str


@dataclass(frozen=True, slots=True)
class Union:
    children: tuple[Rewrite, ...]


@dataclass(frozen=True, slots=True)
class Intersection:
    children: tuple[Rewrite, ...]


@dataclass(frozen=True, slots=True)
class Difference:
    """`base but not subtract`."""

    base: Rewrite
    subtract: Rewrite


Rewrite = Direct | ComputedUserset | TupleToUserset | Union | Intersection | Difference


@dataclass(frozen=True, slots=True)
class RelationDefinition:
    name: str
    rewrite: Rewrite
    line: int | None = field(default=None, compare=False)

    @property
    def directly_related(self) -> tuple[TypeRestriction, ...]:
        """The restrictions of the relation's `[...]`, empty when tuples cannot be written to it."""
        direct = _find_direct(self.rewrite)
        return direct.restrictions if direct else ()


@dataclass(frozen=True, slots=True)
class TypeDefinition:
    name: str
    relations: Mapping[str, RelationDefinition]
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class AuthorizationModel:
    types: Mapping[str, TypeDefinition]
    schema_version: str = SCHEMA_VERSION

    def relation(self, type_name: str, relation: str) -> RelationDefinition | None:
        type_def = self.types.get(type_name)
        return type_def.relations.get(relation) if type_def else None


def _find_direct(rewrite: Rewrite) -> Direct | None:
    if isinstance(rewrite, Direct):
        return rewrite
    for child in _children(rewrite):
        found = _find_direct(child)
        if found:
            return found
    return None


def _children(rewrite: Rewrite) -> tuple[Rewrite, ...]:
    if isinstance(rewrite, Union | Intersection):
        return rewrite.children
    if isinstance(rewrite, Difference):
        return (rewrite.base, rewrite.subtract)
    return ()


# --- DSL parser -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<punct>[\[\](),])|(?P<word>[A-Za-z0-9_\-:*#]+)|(?P<bad>\S))"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")
_KEYWORDS = frozenset({"or", "and", "but", "not", "from", "with"})


def parse_file(path: str | Path) -> AuthorizationModel:
    return parse(Path(path).read_text(encoding="utf-8"))


def parse(text: str) -> AuthorizationModel:
    """Parse and validate a model in the OpenFGA DSL; raises `ModelError` naming the line."""
    types: dict[str, TypeDefinition] = {}
    relations: dict[str, RelationDefinition] | None = None
    current: tuple[str, int] | None = None
    in_relations = False
    state = "model"  # model -> schema -> types

    def close_type() -> None:
        if current is not None:
            types[current[0]] = TypeDefinition(current[0], relations or {}, current[1])

    for lineno, words, rest in _lines(text):
        keyword = words[0]
        if state == "model":
            if words != ["model"]:
                raise ModelError("a model starts with `model`", lineno)
            state = "schema"
        elif state == "schema":
            if keyword != "schema" or len(words) != 2:
                raise ModelError("expected `schema 1.1` after `model`", lineno)
            if words[1] != SCHEMA_VERSION:
                raise ModelError(f"unsupported schema version {words[1]!r}; use {SCHEMA_VERSION}", lineno)
            state = "types"
        elif keyword == "type":
            if len(words) != 2 or not _NAME.match(words[1]):
                raise ModelError("expected `type <name>`", lineno)
            close_type()
            if words[1] in types:
                raise ModelError(f"type {words[1]!r} is defined twice", lineno)
            current, relations, in_relations = (words[1], lineno), {}, False
        elif keyword == "relations":
            if current is None or words != ["relations"] or in_relations:
                raise ModelError("`relations` belongs once under a `type`", lineno)
            in_relations = True
        elif keyword == "define":
            if not in_relations or relations is None or current is None:
                raise ModelError("`define` belongs under a type's `relations`", lineno)
            name, expression = _split_define(rest, lineno)
            if name in relations:
                raise ModelError(f"relation {name!r} is defined twice in type {current[0]!r}", lineno)
            relations[name] = RelationDefinition(name, _ExpressionParser(expression, lineno).parse(), lineno)
        elif keyword in ("condition", "module", "extend"):
            raise ModelError(f"`{keyword}` is not supported by this engine", lineno)
        else:
            raise ModelError(f"unexpected {keyword!r}", lineno)
    if state != "types":
        raise ModelError("the model is incomplete: expected `model` and `schema 1.1`")
    close_type()
    model = AuthorizationModel(types)
    validate_model(model)
    return model


def _lines(text: str) -> Iterator[tuple[int, list[str], str]]:
    """Yield (line number, words, text after the first word) of each non-blank line, comments removed."""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if line:
            words = line.split()
            yield lineno, words, line[len(words[0]):].strip()


def _strip_comment(line: str) -> str:
    """A `#` starts a comment at the start of a line or after whitespace; `group#member` is not one."""
    for index, char in enumerate(line):
        if char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def _split_define(rest: str, lineno: int) -> tuple[str, str]:
    name, colon, expression = rest.partition(":")
    name = name.strip()
    if not colon or not _NAME.match(name) or name in _KEYWORDS:
        raise ModelError("expected `define <relation>: <expression>`", lineno)
    if not expression.strip():
        raise ModelError(f"relation {name!r} has an empty definition", lineno)
    return name, expression


class _ExpressionParser:
    """Recursive descent over one `define` expression, following the OpenFGA grammar.

    An operator chain uses one operator (`a or b or c`, `a and b`, `a but not b`); mixing needs
    parentheses. `[...]` may only open an expression (the relation's, or a leading group's).
    """

    def __init__(self, text: str, lineno: int) -> None:
        self.lineno = lineno
        self.tokens: list[str] = []
        for match in _TOKEN.finditer(text.rstrip()):
            if match.group("bad"):
                self.fail(f"unexpected character {match.group('bad')!r}")
            self.tokens.append(match.group("punct") or match.group("word"))
        self.pos = 0

    def fail(self, message: str) -> None:
        raise ModelError(message, self.lineno)

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            self.fail(f"expected {expected or 'more input'!r}, got {token or 'end of line'!r}")
        self.pos += 1
        return token  # type: ignore[return-value]

    def parse(self) -> Rewrite:
        rewrite = self.expression(direct_allowed=True)
        if self.peek() is not None:
            self.fail(f"unexpected {self.peek()!r}")
        return rewrite

    def expression(self, direct_allowed: bool) -> Rewrite:
        first = self.operand(direct_allowed)
        operator = self.peek()
        if operator in ("or", "and"):
            children = [first]
            while self.peek() == operator:
                self.take()
                children.append(self.operand(direct_allowed=False))
            if self.peek() in ("or", "and", "but"):
                self.fail(f"cannot mix {operator!r} with {self.peek()!r} without parentheses")
            return Union(tuple(children)) if operator == "or" else Intersection(tuple(children))
        if operator == "but":
            self.take()
            self.take("not")
            subtract = self.operand(direct_allowed=False)
            if self.peek() in ("or", "and", "but"):
                self.fail(f"cannot follow `but not` with {self.peek()!r} without parentheses")
            return Difference(first, subtract)
        return first

    def operand(self, direct_allowed: bool) -> Rewrite:
        token = self.peek()
        if token == "[":
            if not direct_allowed:
                self.fail("a direct type restriction `[...]` must come first in its expression")
            return self.direct()
        if token == "(":
            self.take()
            inner = self.expression(direct_allowed)
            self.take(")")
            return inner
        name = self.take()
        if not _NAME.match(name) or name in _KEYWORDS:
            self.fail(f"expected a relation name, got {name!r}")
        if self.peek() == "from":
            self.take()
            tupleset = self.take()
            if not _NAME.match(tupleset) or tupleset in _KEYWORDS:
                self.fail(f"expected a relation name after `from`, got {tupleset!r}")
            return TupleToUserset(tupleset, name)
        return ComputedUserset(name)

    def direct(self) -> Direct:
        self.take("[")
        restrictions: list[TypeRestriction] = []
        while True:
            token = self.take()
            if self.peek() == "with":
                self.fail("conditions (`with`) are not supported by this engine")
            restrictions.append(self.restriction(token))
            if self.peek() == ",":
                self.take()
                continue
            self.take("]")
            break
        if len(set(restrictions)) != len(restrictions):
            self.fail("a type restriction is listed twice")
        return Direct(tuple(restrictions))

    def restriction(self, token: str) -> TypeRestriction:
        if token.endswith(":*") and _NAME.match(token[:-2]):
            return TypeRestriction(token[:-2], wildcard=True)
        type_name, hash_, relation = token.partition("#")
        if _NAME.match(type_name) and (not hash_ or _NAME.match(relation)):
            return TypeRestriction(type_name, relation or None)
        self.fail(f"invalid type restriction {token!r}; expected `type`, `type:*` or `type#relation`")
        raise AssertionError  # unreachable: fail() raises


# --- semantic validation --------------------------------------------------------------------------


def validate_model(model: AuthorizationModel) -> None:
    """Reject what OpenFGA rejects: undefined types/relations, bad tuplesets, unsatisfiable relations."""
    tuplesets: set[tuple[str, str]] = set()
    for type_def in model.types.values():
        for rel in type_def.relations.values():
            where = f"{type_def.name}#{rel.name}"
            for restriction in rel.directly_related:
                target = model.types.get(restriction.type)
                if target is None:
                    raise ModelError(f"{where}: type {restriction.type!r} is not defined", rel.line)
                if restriction.relation and restriction.relation not in target.relations:
                    raise ModelError(f"{where}: relation {restriction} is not defined", rel.line)
            for node in _walk(rel.rewrite):
                if isinstance(node, ComputedUserset) and node.relation not in type_def.relations:
                    raise ModelError(f"{where}: relation {type_def.name}#{node.relation} is not defined", rel.line)
                if isinstance(node, TupleToUserset):
                    _validate_tupleset(model, type_def, node, where, rel.line)
                    tuplesets.add((type_def.name, node.tupleset))
    for type_def in model.types.values():
        for rel in type_def.relations.values():
            if not _has_entrypoint(model, type_def.name, rel.name, set()):
                raise ModelError(
                    f"{type_def.name}#{rel.name} can never be satisfied: no path leads to a stored tuple",
                    rel.line,
                )


def _validate_tupleset(
    model: AuthorizationModel, type_def: TypeDefinition, node: TupleToUserset, where: str, line: int | None
) -> None:
    tupleset = type_def.relations.get(node.tupleset)
    if tupleset is None:
        raise ModelError(f"{where}: relation {type_def.name}#{node.tupleset} is not defined", line)
    if not isinstance(tupleset.rewrite, Direct):
        raise ModelError(
            f"{where}: {type_def.name}#{node.tupleset} is used after `from` and must be a plain `[...]` relation",
            line,
        )
    restrictions = tupleset.rewrite.restrictions
    if any(r.relation or r.wildcard for r in restrictions):
        raise ModelError(
            f"{where}: {type_def.name}#{node.tupleset} is used after `from` and may only list plain types",
            line,
        )
    if not any(node.computed_relation in model.types[r.type].relations for r in restrictions):
        raise ModelError(
            f"{where}: no type of {type_def.name}#{node.tupleset} defines relation {node.computed_relation!r}",
            line,
        )


def _walk(rewrite: Rewrite) -> Iterator[Rewrite]:
    yield rewrite
    for child in _children(rewrite):
        yield from _walk(child)


def _has_entrypoint(model: AuthorizationModel, type_name: str, relation: str, seen: set[tuple[str, str]]) -> bool:
    key = (type_name, relation)
    if key in seen:
        return False
    seen = seen | {key}
    return _rewrite_has_entrypoint(model, type_name, model.types[type_name].relations[relation].rewrite, seen)


def _rewrite_has_entrypoint(
    model: AuthorizationModel, type_name: str, rewrite: Rewrite, seen: set[tuple[str, str]]
) -> bool:
    if isinstance(rewrite, Direct):
        return any(
            r.relation is None or _has_entrypoint(model, r.type, r.relation, seen) for r in rewrite.restrictions
        )
    if isinstance(rewrite, ComputedUserset):
        return _has_entrypoint(model, type_name, rewrite.relation, seen)
    if isinstance(rewrite, TupleToUserset):
        tupleset = model.types[type_name].relations[rewrite.tupleset]
        return any(
            rewrite.computed_relation in model.types[r.type].relations
            and _has_entrypoint(model, r.type, rewrite.computed_relation, seen)
            for r in tupleset.directly_related
        )
    if isinstance(rewrite, Union):
        return any(_rewrite_has_entrypoint(model, type_name, c, seen) for c in rewrite.children)
    if isinstance(rewrite, Intersection):
        return all(_rewrite_has_entrypoint(model, type_name, c, seen) for c in rewrite.children)
    return _rewrite_has_entrypoint(model, type_name, rewrite.base, seen)


# --- the OpenFGA API's JSON form ------------------------------------------------------------------


def to_json(model: AuthorizationModel) -> dict[str, Any]:
    """The body of `POST /stores/{id}/authorization-models`, as `fga model transform` writes it."""
    type_definitions: list[dict[str, Any]] = []
    for type_def in model.types.values():
        entry: dict[str, Any] = {"type": type_def.name}
        if type_def.relations:
            entry["relations"] = {name: _rewrite_to_json(r.rewrite) for name, r in type_def.relations.items()}
            entry["metadata"] = {
                "relations": {
                    name: (
                        {"directly_related_user_types": [_restriction_to_json(x) for x in r.directly_related]}
                        if r.directly_related
                        else {}
                    )
                    for name, r in type_def.relations.items()
                }
            }
        type_definitions.append(entry)
    return {"schema_version": model.schema_version, "type_definitions": type_definitions}


def _restriction_to_json(restriction: TypeRestriction) -> dict[str, Any]:
    if restriction.wildcard:
        return {"type": restriction.type, "wildcard": {}}
    if restriction.relation:
        return {"type": restriction.type, "relation": restriction.relation}
    return {"type": restriction.type}


def _rewrite_to_json(rewrite: Rewrite) -> dict[str, Any]:
    if isinstance(rewrite, Direct):
        return {"this": {}}
    if isinstance(rewrite, ComputedUserset):
        return {"computedUserset": {"relation": rewrite.relation}}
    if isinstance(rewrite, TupleToUserset):
        return {
            "tupleToUserset": {
                "tupleset": {"relation": rewrite.tupleset},
                "computedUserset": {"relation": rewrite.computed_relation},
            }
        }
    if isinstance(rewrite, Union):
        return {"union": {"child": [_rewrite_to_json(c) for c in rewrite.children]}}
    if isinstance(rewrite, Intersection):
        return {"intersection": {"child": [_rewrite_to_json(c) for c in rewrite.children]}}
    return {"difference": {"base": _rewrite_to_json(rewrite.base), "subtract": _rewrite_to_json(rewrite.subtract)}}


def from_json(document: Mapping[str, Any]) -> AuthorizationModel:
    """Read a model in the API's JSON form (as stored by an OpenFGA server); validated like the DSL."""
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ModelError(f"unsupported schema_version {version!r}; use {SCHEMA_VERSION}")
    if document.get("conditions"):
        raise ModelError("conditions are not supported by this engine")
    types: dict[str, TypeDefinition] = {}
    for entry in document.get("type_definitions") or []:
        name = entry.get("type")
        if not isinstance(name, str) or not _NAME.match(name) or name in types:
            raise ModelError(f"invalid or duplicate type name {name!r}")
        metadata = (entry.get("metadata") or {}).get("relations") or {}
        relations: dict[str, RelationDefinition] = {}
        for rel_name, rewrite in (entry.get("relations") or {}).items():
            direct_types = tuple(
                _restriction_from_json(x, f"{name}#{rel_name}")
                for x in (metadata.get(rel_name) or {}).get("directly_related_user_types") or []
            )
            relations[rel_name] = RelationDefinition(
                rel_name, _rewrite_from_json(rewrite, direct_types, f"{name}#{rel_name}")
            )
        types[name] = TypeDefinition(name, relations)
    model = AuthorizationModel(types, version)
    validate_model(model)
    return model


def _restriction_from_json(item: Mapping[str, Any], where: str) -> TypeRestriction:
    if item.get("condition"):
        raise ModelError(f"{where}: conditions are not supported by this engine")
    return TypeRestriction(item["type"], item.get("relation") or None, "wildcard" in item)


def _rewrite_from_json(node: Mapping[str, Any], direct_types: tuple[TypeRestriction, ...], where: str) -> Rewrite:
    if "this" in node:
        if not direct_types:
            raise ModelError(f"{where}: a direct relation needs directly_related_user_types")
        return Direct(direct_types)
    if "computedUserset" in node:
        return ComputedUserset(node["computedUserset"]["relation"])
    if "tupleToUserset" in node:
        ttu = node["tupleToUserset"]
        return TupleToUserset(ttu["tupleset"]["relation"], ttu["computedUserset"]["relation"])
    if "union" in node:
        return Union(tuple(_rewrite_from_json(c, direct_types, where) for c in node["union"]["child"]))
    if "intersection" in node:
        return Intersection(tuple(_rewrite_from_json(c, direct_types, where) for c in node["intersection"]["child"]))
    if "difference" in node:
        diff = node["difference"]
        return Difference(
            _rewrite_from_json(diff["base"], direct_types, where),
            _rewrite_from_json(diff["subtract"], direct_types, where),
        )
    raise ModelError(f"{where}: unknown rewrite {sorted(node)}")
