"""A reference evaluator: OpenFGA's Check semantics read straight off the model, for test expectations.

Deliberately naive and independent of `agyn.authorization.engine` (no compiled closures, no indexes,
no reverse search): it scans a plain list of tuples, so a bug in the engine cannot hide in an
expectation computed the same way. `list_objects` is brute force: `check` on every object of the type.
"""

from __future__ import annotations

from collections.abc import Iterable

from agyn.authorization.dsl import (
    AuthorizationModel,
    ComputedUserset,
    Difference,
    Direct,
    Intersection,
    Rewrite,
    TupleToUserset,
    Union,
)
from agyn.authorization.engine import TupleKey


class ReferenceEvaluator:
    def __init__(self, model: AuthorizationModel, tuples: Iterable[TupleKey]) -> None:
        self.model = model
        self.tuples = list(tuples)

    def check(self, user: str, relation: str, object: str) -> bool:
        return self._relation(user, relation, object, frozenset())

    def list_objects(self, user: str, relation: str, object_type: str) -> list[str]:
        """Every object of the type that any tuple (or the user itself) mentions, kept where check allows."""
        mentioned = {t.object for t in self.tuples} | {t.user.partition("#")[0] for t in self.tuples}
        mentioned.add(user.partition("#")[0])
        candidates = sorted(o for o in mentioned if o.partition(":")[0] == object_type and not o.endswith(":*"))
        return [o for o in candidates if self.check(user, relation, o)]

    def _relation(self, user: str, relation: str, object: str, visiting: frozenset[tuple[str, str]]) -> bool:
        if user == f"{object}#{relation}":
            return True  # OpenFGA: a userset always has its own relation on its own object
        if (object, relation) in visiting:
            return False  # a cycle grants nothing
        definition = self.model.relation(object.partition(":")[0], relation)
        if definition is None:
            return False
        return self._rewrite(user, relation, object, definition.rewrite, visiting | {(object, relation)})

    def _rewrite(
        self, user: str, relation: str, object: str, rewrite: Rewrite, visiting: frozenset[tuple[str, str]]
    ) -> bool:
        if isinstance(rewrite, Direct):
            return any(self._direct_tuple_grants(user, t, rewrite, visiting)
                       for t in self.tuples if t.object == object and t.relation == relation)
        if isinstance(rewrite, ComputedUserset):
            return self._relation(user, rewrite.relation, object, visiting)
        if isinstance(rewrite, TupleToUserset):
            return any(
                self._relation(user, rewrite.computed_relation, t.user, visiting)
                for t in self.tuples
                if t.object == object and t.relation == rewrite.tupleset
            )
        if isinstance(rewrite, Union):
            return any(self._rewrite(user, relation, object, c, visiting) for c in rewrite.children)
        if isinstance(rewrite, Intersection):
            return all(self._rewrite(user, relation, object, c, visiting) for c in rewrite.children)
        assert isinstance(rewrite, Difference)
        return self._rewrite(user, relation, object, rewrite.base, visiting) and not self._rewrite(
            user, relation, object, rewrite.subtract, visiting
        )

    def _direct_tuple_grants(
        self, user: str, stored: TupleKey, rewrite: Direct, visiting: frozenset[tuple[str, str]]
    ) -> bool:
        """Whether one stored tuple of a `[...]` relation grants `user`; tuples the model no longer allows count
        for nothing."""
        head, _, stored_relation = stored.user.partition("#")
        stored_type, _, stored_id = head.partition(":")
        user_head, _, user_relation = user.partition("#")
        user_type = user_head.partition(":")[0]
        for allowed in rewrite.restrictions:
            if allowed.type != stored_type:
                continue
            if allowed.relation is not None:
                if stored_relation == allowed.relation and (
                    user == stored.user or self._relation(user, stored_relation, head, visiting)
                ):
                    return True
            elif allowed.wildcard:
                if stored_id == "*" and not stored_relation and not user_relation and user_type == stored_type:
                    return True
            elif not stored_relation and stored_id != "*" and user == stored.user:
                return True
        return False
