"""The embedded ReBAC engine: OpenFGA's Check and ListObjects semantics over an in-memory tuple store.

The model is compiled once into closures (one per type#relation), so a check is a few dict lookups
and set probes with no parsing or regex. Used in embedded mode and by the tests that pin the model
against the real OpenFGA engine (`fga model test`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from agyn.authorization.dsl import (
    AuthorizationModel,
    ComputedUserset,
    Difference,
    Direct,
    Intersection,
    Rewrite,
    TupleToUserset,
    TypeRestriction,
    Union,
    parse_file,
)

MODEL_FILE = Path(__file__).with_name("model.fga")
MAX_RESOLUTION_DEPTH = 25  # OpenFGA's default resolve depth
_EMPTY: frozenset[Any] = frozenset()
K = TypeVar("K")
V = TypeVar("V")
_FORBIDDEN_IN_NAME = frozenset(":#@ \t\r\n")
_FORBIDDEN_IN_ID = frozenset("#@ \t\r\n")


class AuthorizationError(Exception):
    """Base of the authorization package's errors."""


class InvalidTupleError(AuthorizationError, ValueError):
    """A tuple or request that does not fit the model (unknown type or relation, type not allowed)."""


class ResolutionTooComplexError(AuthorizationError):
    """A check needed more than `MAX_RESOLUTION_DEPTH` nested resolutions (OpenFGA errors likewise)."""


@dataclass(frozen=True, slots=True)
class TupleKey:
    """A relationship tuple: `user` has `relation` on `object`."""

    user: str
    relation: str
    object: str

    def __str__(self) -> str:
        return f"{self.object}#{self.relation}@{self.user}"

    @classmethod
    def parse(cls, text: str) -> TupleKey:
        """Inverse of `str()`: `object#relation@user`, e.g. `organization:o1#owner@identity:u1`."""
        head, at, user = text.partition("@")
        object_, hash_, relation = head.partition("#")
        if not (at and hash_ and user and relation and object_):
            raise InvalidTupleError(f"{text!r} is not a tuple of the form object#relation@user")
        return cls(user, relation, object_)


def object_ref(type_name: str, object_id: str) -> str:
    """`type:id`, the form of objects and plain users."""
    return f"{type_name}:{object_id}"


def userset_ref(type_name: str, object_id: str, relation: str) -> str:
    """`type:id#relation`: everyone who has `relation` on `type:id`, usable as a tuple's user."""
    return f"{type_name}:{object_id}#{relation}"


def parse_object(text: str) -> tuple[str, str]:
    """Split `type:id` into (type, id); raises `InvalidTupleError` on any other shape."""
    type_name, colon, object_id = text.partition(":")
    if (
        not colon
        or not type_name
        or not object_id
        or not _FORBIDDEN_IN_NAME.isdisjoint(type_name)
        or not _FORBIDDEN_IN_ID.isdisjoint(object_id)
    ):
        raise InvalidTupleError(f"{text!r} is not an object of the form type:id")
    return type_name, object_id


def parse_user(text: str) -> tuple[str, str, str | None]:
    """Split a tuple user `type:id`, `type:*` or `type:id#relation` into (type, id, relation or None)."""
    head, hash_, relation = text.partition("#")
    if hash_ and (not relation or not _FORBIDDEN_IN_NAME.isdisjoint(relation)):
        raise InvalidTupleError(f"{text!r} is not a userset of the form type:id#relation")
    try:
        type_name, object_id = parse_object(head)
    except InvalidTupleError:
        raise InvalidTupleError(f"{text!r} is not a user of the form type:id, type:* or type:id#relation") from None
    if hash_ and object_id == "*":
        raise InvalidTupleError(f"{text!r}: a wildcard cannot be a userset")
    return type_name, object_id, relation or None


# --- tuple stores ---------------------------------------------------------------------------------


class TupleStore(Protocol):
    """What the engine reads. Returned collections are read-only views: callers never mutate them."""

    def users(self, object: str, relation: str) -> Set[str]:
        """Every user of tuples on (object, relation): `type:id`, `type:*` and `type:id#rel` strings."""
        ...

    def usersets(self, object: str, relation: str) -> Collection[tuple[str, str]]:
        """The userset users of (object, relation), split as (`type:id`, relation)."""
        ...

    def objects(self, user: str, relation: str, object_type: str) -> Set[str]:
        """The objects of `object_type` on which `user` (exactly this string) has a `relation` tuple."""
        ...


class InMemoryTupleStore:
    """Tuples indexed both ways, every lookup O(1). No awaits inside, so safe to share within an event loop."""

    def __init__(self, tuples: Iterable[TupleKey] = ()) -> None:
        self._users: dict[str, dict[str, set[str]]] = {}
        self._usersets: dict[tuple[str, str], set[tuple[str, str]]] = {}
        self._objects: dict[str, dict[tuple[str, str], set[str]]] = {}
        self._count = 0
        self.version = 0
        """Bumped by every change: an answer computed at one version holds until the next."""
        self.load(tuples)

    def add(self, key: TupleKey) -> bool:
        """Store a tuple; False when it was already there."""
        users = self._users.setdefault(key.object, {}).setdefault(key.relation, set())
        if key.user in users:
            return False
        users.add(key.user)
        userset_object, hash_, userset_relation = key.user.partition("#")
        if hash_:
            self._usersets.setdefault((key.object, key.relation), set()).add((userset_object, userset_relation))
        object_type = key.object.partition(":")[0]
        self._objects.setdefault(key.user, {}).setdefault((key.relation, object_type), set()).add(key.object)
        self._count += 1
        self.version += 1
        return True

    def remove(self, key: TupleKey) -> bool:
        """Delete a tuple; False when it was not there."""
        relations = self._users.get(key.object)
        users = relations.get(key.relation) if relations else None
        if not users or key.user not in users:
            return False
        _discard(relations, key.relation, key.user)  # type: ignore[arg-type]
        if not relations:
            del self._users[key.object]
        userset_object, hash_, userset_relation = key.user.partition("#")
        if hash_:
            _discard(self._usersets, (key.object, key.relation), (userset_object, userset_relation))
        by_user = self._objects[key.user]
        _discard(by_user, (key.relation, key.object.partition(":")[0]), key.object)
        if not by_user:
            del self._objects[key.user]
        self._count -= 1
        self.version += 1
        return True

    def clear(self) -> None:
        self._users.clear()
        self._usersets.clear()
        self._objects.clear()
        self._count = 0
        self.version += 1

    def load(self, tuples: Iterable[TupleKey]) -> int:
        """Add many tuples (e.g. from the database at start-up); returns how many were new."""
        return sum(1 for key in tuples if self.add(key))

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, TupleKey):
            return False
        return key.user in self.users(key.object, key.relation)

    def __iter__(self) -> Iterator[TupleKey]:
        for object_, relations in self._users.items():
            for relation, users in relations.items():
                for user in users:
                    yield TupleKey(user, relation, object_)

    def read(
        self, user: str | None = None, relation: str | None = None, object: str | None = None
    ) -> Iterator[TupleKey]:
        """Stored tuples matching the filters; `object` may be a full `type:id` or a bare `type:`."""
        if object is not None and not object.endswith(":"):
            for rel, users in (self._users.get(object) or {}).items():
                if relation is None or rel == relation:
                    yield from (TupleKey(u, rel, object) for u in users if user is None or u == user)
            return
        object_type = object[:-1] if object is not None else None
        if user is not None:
            for (rel, type_name), objects in (self._objects.get(user) or {}).items():
                if (relation is None or rel == relation) and (object_type is None or type_name == object_type):
                    yield from (TupleKey(user, rel, o) for o in objects)
            return
        for key in self:
            if (relation is None or key.relation == relation) and (
                object_type is None or key.object.partition(":")[0] == object_type
            ):
                yield key

    def users(self, object: str, relation: str) -> Set[str]:
        relations = self._users.get(object)
        if relations is None:
            return _EMPTY
        return relations.get(relation, _EMPTY)

    def usersets(self, object: str, relation: str) -> Collection[tuple[str, str]]:
        return self._usersets.get((object, relation), _EMPTY)

    def objects(self, user: str, relation: str, object_type: str) -> Set[str]:
        by_user = self._objects.get(user)
        if by_user is None:
            return _EMPTY
        return by_user.get((relation, object_type), _EMPTY)


def _discard(index: dict[K, set[V]], key: K, value: V) -> None:
    bucket = index[key]
    bucket.discard(value)
    if not bucket:
        del index[key]


class _OverlayStore:
    """A store seen together with a request's contextual tuples, without copying either."""

    __slots__ = ("base", "extra")

    def __init__(self, base: TupleStore, extra: InMemoryTupleStore) -> None:
        self.base = base
        self.extra = extra

    def users(self, object: str, relation: str) -> Set[str]:
        base = self.base.users(object, relation)
        extra = self.extra.users(object, relation)
        return base | extra if extra else base

    def usersets(self, object: str, relation: str) -> Collection[tuple[str, str]]:
        base = self.base.usersets(object, relation)
        extra = self.extra.usersets(object, relation)
        return set(base) | set(extra) if extra else base

    def objects(self, user: str, relation: str, object_type: str) -> Set[str]:
        extra = self.extra.objects(user, relation, object_type)
        base = self.base.objects(user, relation, object_type)
        return base | extra if extra else base


# --- the engine -----------------------------------------------------------------------------------

# A compiled relation: (store, user, object, depth, path) -> allowed. `path` holds the
# (object, relation) pairs being resolved, for relations that can recurse into themselves.
ResolutionPath = set[tuple[str, str]]
Checker = Callable[[TupleStore, str, str, int, ResolutionPath], bool]
CheckerTable = dict[str, dict[str, Checker]]


class Engine:
    """Check / BatchCheck / ListObjects over one authorization model, for any `TupleStore`."""

    def __init__(self, model: AuthorizationModel, *, max_depth: int = MAX_RESOLUTION_DEPTH) -> None:
        self.model = model
        self.max_depth = max_depth
        cyclic = _cyclic_relations(model)
        self._checkers = self._compile_model(cyclic, self_referencing=False)
        # A userset user (`group:g#member`) needs OpenFGA's extra rule at every step; plain users skip it.
        self._userset_checkers = self._compile_model(cyclic, self_referencing=True)
        self._exact = {key for key in _all_relations(model) if _is_union_only(model, key, set())}

    @classmethod
    def from_file(cls, path: str | Path = MODEL_FILE) -> Engine:
        """An engine for a `.fga` file; by default Agyn's own model."""
        return cls(parse_file(path))

    # --- public API ---------------------------------------------------------------------------

    def check(
        self,
        store: TupleStore,
        user: str,
        relation: str,
        object: str,
        contextual_tuples: Iterable[TupleKey] = (),
    ) -> bool:
        """Whether `user` has `relation` on `object`, as OpenFGA's Check answers it."""
        checker = self._checker_for(user, relation, object)
        if contextual_tuples:
            store = self._overlay(store, contextual_tuples)
        return checker(store, user, object, 0, set())

    def batch_check(
        self, store: TupleStore, items: Iterable[TupleKey], contextual_tuples: Iterable[TupleKey] = ()
    ) -> list[bool]:
        """`check` for each item, in order; invalid items raise before anything is evaluated.

        The items share what they resolve alike (a page of agents asks about one organization a
        hundred times): each user is validated once, and a parent's relation, once resolved, is
        remembered for the rest of the batch (the store cannot change meanwhile: nothing awaits)."""
        checkers, validated = [], set()
        for i in items:
            checkers.append((self._checker_for(i.user, i.relation, i.object, validated=i.user in validated), i))
            validated.add(i.user)
        if contextual_tuples:
            store = self._overlay(store, contextual_tuples)
        memo = _Memo()
        return [checker(store, i.user, i.object, 0, memo) for checker, i in checkers]

    def list_objects(
        self,
        store: TupleStore,
        user: str,
        relation: str,
        object_type: str,
        contextual_tuples: Iterable[TupleKey] = (),
    ) -> list[str]:
        """The objects of `object_type` on which `user` has `relation`, sorted.

        Walks the model backwards from the user to candidate objects; relations that use `and` or
        `but not` somewhere get each candidate confirmed by `check`.
        """
        self._validate_user(user)
        if self.model.relation(object_type, relation) is None:
            raise InvalidTupleError(self._unknown_relation(object_type, relation))
        if contextual_tuples:
            store = self._overlay(store, contextual_tuples)
        candidates = _ReverseSearch(self.model, store, user).run(object_type, relation)
        if (object_type, relation) not in self._exact:
            checker = self._table(user)[object_type][relation]
            candidates = {o for o in candidates if checker(store, user, o, 0, set())}
        return sorted(candidates)

    def validate_tuple(self, key: TupleKey) -> None:
        """Raise `InvalidTupleError` unless the model allows storing this tuple (call before writing)."""
        type_name, object_id = parse_object(key.object)
        if object_id == "*":
            raise InvalidTupleError(f"{key.object!r}: an object cannot be a wildcard")
        rel = self.model.relation(type_name, key.relation)
        if rel is None:
            raise InvalidTupleError(self._unknown_relation(type_name, key.relation))
        allowed = rel.directly_related
        where = f"{type_name}#{key.relation}"
        if not allowed:
            raise InvalidTupleError(f"{where} is computed from other relations; tuples cannot be written to it")
        user_type, user_id, user_relation = parse_user(key.user)
        restriction = TypeRestriction(user_type, user_relation, user_relation is None and user_id == "*")
        if restriction not in allowed:
            kinds = ", ".join(str(r) for r in allowed)
            raise InvalidTupleError(
                f"{key.user!r} cannot be {key.relation!r} of {key.object!r}: "
                f"{where} accepts [{kinds}], not {restriction}"
            )

    # --- request validation ------------------------------------------------------------------

    def _checker_for(self, user: str, relation: str, object: str, *, validated: bool = False) -> Checker:
        type_name, colon, object_id = object.partition(":")
        relations = self._checkers.get(type_name)
        checker = relations.get(relation) if relations is not None else None
        if checker is None or not colon or not object_id:
            parse_object(object)
            raise InvalidTupleError(self._unknown_relation(type_name, relation))
        if not validated:
            self._validate_user(user)
        return self._table(user)[type_name][relation]

    def _table(self, user: str) -> dict[str, dict[str, Checker]]:
        return self._userset_checkers if "#" in user else self._checkers

    def _validate_user(self, user: str) -> None:
        user_type, _, user_relation = parse_user(user)
        if user_type not in self._checkers:
            raise InvalidTupleError(f"user {user!r}: type {user_type!r} is not defined in the model")
        if user_relation is not None and user_relation not in self._checkers[user_type]:
            raise InvalidTupleError(f"user {user!r}: {self._unknown_relation(user_type, user_relation)}")

    def _unknown_relation(self, type_name: str, relation: str) -> str:
        if type_name not in self.model.types:
            return f"type {type_name!r} is not defined in the model"
        return f"relation {relation!r} is not defined on type {type_name!r}"

    def _overlay(self, store: TupleStore, contextual_tuples: Iterable[TupleKey]) -> TupleStore:
        extra = InMemoryTupleStore()
        for key in contextual_tuples:
            self.validate_tuple(key)
            extra.add(key)
        return _OverlayStore(store, extra)

    # --- compilation -------------------------------------------------------------------------

    def _compile_model(self, cyclic: set[tuple[str, str]], *, self_referencing: bool) -> CheckerTable:
        """One checker per type#relation; with `self_referencing`, a userset has its own relation on its
        own object (OpenFGA: `group:g#member` is a `member` of `group:g` without any tuple)."""
        table: CheckerTable = {name: {} for name in self.model.types}
        for type_def in self.model.types.values():
            for rel in type_def.relations.values():
                checker = self._compile(table, type_def.name, rel.name, rel.rewrite)
                if (type_def.name, rel.name) in cyclic:
                    checker = _guard_cycles(checker, rel.name)
                if self_referencing:
                    checker = _self_referencing(checker, rel.name)
                table[type_def.name][rel.name] = checker
        return table

    def _compile(self, table: CheckerTable, type_name: str, relation: str, rewrite: Rewrite) -> Checker:
        if isinstance(rewrite, Direct):
            return self._compile_direct(table, relation, rewrite)
        if isinstance(rewrite, ComputedUserset):
            return self._compile_computed(table, type_name, rewrite)
        if isinstance(rewrite, TupleToUserset):
            return self._compile_tuple_to_userset(table, type_name, rewrite)
        if isinstance(rewrite, Union):
            return _any_of([self._compile(table, type_name, relation, c) for c in rewrite.children])
        if isinstance(rewrite, Intersection):
            return _all_of([self._compile(table, type_name, relation, c) for c in rewrite.children])
        base = self._compile(table, type_name, relation, rewrite.base)
        subtract = self._compile(table, type_name, relation, rewrite.subtract)

        def difference(store: TupleStore, user: str, obj: str, depth: int, path: ResolutionPath) -> bool:
            return base(store, user, obj, depth, path) and not subtract(store, user, obj, depth, path)

        return difference

    def _compile_direct(self, table: CheckerTable, relation: str, rewrite: Direct) -> Checker:
        plain = frozenset(r.type for r in rewrite.restrictions if r.relation is None and not r.wildcard)
        wildcards = {r.type: f"{r.type}:*" for r in rewrite.restrictions if r.wildcard}
        # (type, relation) of allowed usersets -> that type's checkers (filled in as compilation goes on)
        usersets = {(r.type, r.relation): table[r.type] for r in rewrite.restrictions if r.relation}
        max_depth = self.max_depth

        def allowed_exact(user: str) -> bool:
            """A stored user only counts while the model still allows its type (as in OpenFGA)."""
            head, _, user_relation = user.partition("#")
            user_type, _, user_id = head.partition(":")
            if user_relation:
                return (user_type, user_relation) in usersets
            return user_type in plain or (user_id == "*" and user_type in wildcards)

        def direct(store: TupleStore, user: str, obj: str, depth: int, path: ResolutionPath) -> bool:
            users = store.users(obj, relation)
            if not users:
                return False
            if user in users and allowed_exact(user):
                return True
            if wildcards and "#" not in user:
                wildcard = wildcards.get(user[: user.find(":")])
                if wildcard is not None and wildcard in users:
                    return True
            if usersets:
                for userset_object, userset_relation in store.usersets(obj, relation):
                    checkers = usersets.get((userset_object[: userset_object.find(":")], userset_relation))
                    if checkers is None:
                        continue
                    if depth >= max_depth:
                        raise ResolutionTooComplexError(f"resolving {relation} on {obj} exceeded depth {max_depth}")
                    if checkers[userset_relation](store, user, userset_object, depth + 1, path):
                        return True
            return False

        return direct

    def _compile_computed(self, table: CheckerTable, type_name: str, rewrite: ComputedUserset) -> Checker:
        checkers = table[type_name]
        target = rewrite.relation
        max_depth = self.max_depth

        def computed(store: TupleStore, user: str, obj: str, depth: int, path: ResolutionPath) -> bool:
            if depth >= max_depth:
                raise ResolutionTooComplexError(f"resolving {target} on {obj} exceeded depth {max_depth}")
            return checkers[target](store, user, obj, depth + 1, path)

        return computed

    def _compile_tuple_to_userset(self, table: CheckerTable, type_name: str, rewrite: TupleToUserset) -> Checker:
        tupleset = rewrite.tupleset
        target = rewrite.computed_relation
        restrictions = self.model.types[type_name].relations[tupleset].directly_related
        parents_checkers = {
            r.type: table[r.type] for r in restrictions if target in self.model.types[r.type].relations
        }
        max_depth = self.max_depth

        def tuple_to_userset(store: TupleStore, user: str, obj: str, depth: int, path: ResolutionPath) -> bool:
            parents = store.users(obj, tupleset)
            if not parents:
                return False
            if depth >= max_depth:
                raise ResolutionTooComplexError(
                    f"resolving {target} from {tupleset} on {obj} exceeded depth {max_depth}"
                )
            memo = path.results if not path and type(path) is _Memo else None
            for parent in parents:
                checkers = parents_checkers.get(parent[: parent.find(":")])
                if checkers is None:
                    continue
                if memo is None:
                    allowed = checkers[target](store, user, parent, depth + 1, path)
                else:  # outside any cycle check, so the answer depends on nothing but these
                    key = (user, target, parent, depth)
                    known = memo.get(key)
                    allowed = known if known is not None else checkers[target](store, user, parent, depth + 1, path)
                    memo[key] = allowed
                if allowed:
                    return True
            return False

        return tuple_to_userset


class _Memo(set[tuple[str, str]]):
    """The resolution path of a batch's checks, with the answers about parents already resolved."""

    def __init__(self) -> None:
        super().__init__()
        self.results: dict[tuple[str, str, str, int], bool] = {}


def _any_of(checkers: list[Checker]) -> Checker:
    if len(checkers) == 2:
        first, second = checkers

        def either(store: TupleStore, user: str, obj: str, depth: int, path: ResolutionPath) -> bool:
            return first(store, user, obj, depth, path) or second(store, user, obj, depth, path)

        return either

    def union(store: TupleStore, user: str, obj: str, depth: int, path: ResolutionPath) -> bool:
        for checker in checkers:
            if checker(store, user, obj, depth, path):
                return True
        return False

    return union


def _all_of(checkers: list[Checker]) -> Checker:
    def intersection(store: TupleStore, user: str, obj: str, depth: int, path: ResolutionPath) -> bool:
        for checker in checkers:
            if not checker(store, user, obj, depth, path):
                return False
        return True

    return intersection


def _self_referencing(checker: Checker, relation: str) -> Checker:
    suffix = "#" + relation

    def self_or(store: TupleStore, user: str, obj: str, depth: int, path: ResolutionPath) -> bool:
        return (user.endswith(suffix) and user[: -len(suffix)] == obj) or checker(store, user, obj, depth, path)

    return self_or


def _guard_cycles(checker: Checker, relation: str) -> Checker:
    """Stop at an (object, relation) already being resolved on this path: a cycle grants nothing."""

    def guarded(store: TupleStore, user: str, obj: str, depth: int, path: ResolutionPath) -> bool:
        key = (obj, relation)
        if key in path:
            return False
        path.add(key)
        try:
            return checker(store, user, obj, depth, path)
        finally:
            path.discard(key)

    return guarded


# --- static analysis of the model -----------------------------------------------------------------


def _all_relations(model: AuthorizationModel) -> Iterator[tuple[str, str]]:
    for type_def in model.types.values():
        for name in type_def.relations:
            yield type_def.name, name


def _dependencies(model: AuthorizationModel, type_name: str, rewrite: Rewrite) -> Iterator[tuple[str, str]]:
    """The relations a rewrite resolves next: computed usersets, `from` targets, allowed usersets."""
    if isinstance(rewrite, Direct):
        yield from ((r.type, r.relation) for r in rewrite.restrictions if r.relation)
    elif isinstance(rewrite, ComputedUserset):
        yield type_name, rewrite.relation
    elif isinstance(rewrite, TupleToUserset):
        for r in model.types[type_name].relations[rewrite.tupleset].directly_related:
            if rewrite.computed_relation in model.types[r.type].relations:
                yield r.type, rewrite.computed_relation
    elif isinstance(rewrite, Difference):
        yield from _dependencies(model, type_name, rewrite.base)
        yield from _dependencies(model, type_name, rewrite.subtract)
    else:
        for child in rewrite.children:
            yield from _dependencies(model, type_name, child)


def _cyclic_relations(model: AuthorizationModel) -> set[tuple[str, str]]:
    """Relations that can reach themselves (e.g. nested groups); only those pay for cycle tracking."""
    graph = {
        key: set(_dependencies(model, key[0], model.types[key[0]].relations[key[1]].rewrite))
        for key in _all_relations(model)
    }
    cyclic = set()
    for start in graph:
        stack, seen = list(graph[start]), set()
        while stack:
            node = stack.pop()
            if node == start:
                cyclic.add(start)
                break
            if node not in seen:
                seen.add(node)
                stack.extend(graph[node])
    return cyclic


def _is_union_only(model: AuthorizationModel, key: tuple[str, str], seen: set[tuple[str, str]]) -> bool:
    """True when no `and` / `but not` is reachable, so the reverse walk of list_objects is exact."""
    if key in seen:
        return True
    seen.add(key)
    rewrite = model.types[key[0]].relations[key[1]].rewrite
    if any(isinstance(node, Intersection | Difference) for node in _nodes(rewrite)):
        return False
    return all(_is_union_only(model, dep, seen) for dep in _dependencies(model, key[0], rewrite))


def _nodes(rewrite: Rewrite) -> Iterator[Rewrite]:
    yield rewrite
    if isinstance(rewrite, Union | Intersection):
        for child in rewrite.children:
            yield from _nodes(child)
    elif isinstance(rewrite, Difference):
        yield from _nodes(rewrite.base)
        yield from _nodes(rewrite.subtract)


class _ReverseSearch:
    """ListObjects' candidate search: from the user back to the objects of a type.

    `solve(type, relation)` is a superset of the objects on which the user has the relation (exact
    for union-only relations). Recursive relations (nested groups) are solved by iterating to a
    fixpoint: a relation met again while being solved contributes what it had so far, and the
    search repeats until no set grows.
    """

    def __init__(self, model: AuthorizationModel, store: TupleStore, user: str) -> None:
        self.model = model
        self.store = store
        self.user = user
        user_type, user_id, user_relation = parse_user(user)
        self.user_type = user_type
        self.user_relation = user_relation
        self.user_object = f"{user_type}:{user_id}"
        self.partial: dict[tuple[str, str], Set[str]] = {}
        self.done: dict[tuple[str, str], Set[str]] = {}
        self.active: set[tuple[str, str]] = set()
        self.revisited = False
        self.grew = False

    def run(self, type_name: str, relation: str) -> Set[str]:
        while True:
            self.done, self.active, self.revisited, self.grew = {}, set(), False, False
            result = self.solve(type_name, relation)
            if not (self.revisited and self.grew):
                return result

    def solve(self, type_name: str, relation: str) -> Set[str]:
        key = (type_name, relation)
        if key in self.done:
            return self.done[key]
        if key in self.active:
            self.revisited = True
            return self.partial.get(key, _EMPTY)
        self.active.add(key)
        result = self.node(type_name, relation, self.model.types[type_name].relations[relation].rewrite)
        if key == (self.user_type, self.user_relation):
            result = set(result) | {self.user_object}  # a userset has its own relation on its own object
        self.active.discard(key)
        if len(result) != len(self.partial.get(key, _EMPTY)):
            self.grew = True
        self.partial[key] = self.done[key] = result
        return result

    def node(self, type_name: str, relation: str, rewrite: Rewrite) -> Set[str]:
        if isinstance(rewrite, Direct):
            return self.direct(type_name, relation, rewrite)
        if isinstance(rewrite, ComputedUserset):
            return self.solve(type_name, rewrite.relation)
        if isinstance(rewrite, TupleToUserset):
            found: set[str] = set()
            for r in self.model.types[type_name].relations[rewrite.tupleset].directly_related:
                if rewrite.computed_relation in self.model.types[r.type].relations:
                    for parent in self.solve(r.type, rewrite.computed_relation):
                        found |= self.store.objects(parent, rewrite.tupleset, type_name)
            return found
        if isinstance(rewrite, Union):
            return set().union(*(self.node(type_name, relation, c) for c in rewrite.children))
        if isinstance(rewrite, Intersection):
            return set.intersection(*(set(self.node(type_name, relation, c)) for c in rewrite.children))
        return self.node(type_name, relation, rewrite.base)

    def direct(self, type_name: str, relation: str, rewrite: Direct) -> Set[str]:
        found: set[str] = set()
        objects = self.store.objects
        for r in rewrite.restrictions:
            if r.relation is None:
                if r.type == self.user_type and self.user_relation is None:
                    found |= objects(f"{r.type}:*" if r.wildcard else self.user, relation, type_name)
                continue
            if (r.type, r.relation) == (self.user_type, self.user_relation):
                found |= objects(self.user, relation, type_name)
            for member_of in self.solve(r.type, r.relation):
                found |= objects(f"{member_of}#{r.relation}", relation, type_name)
        return found
