"""Embedded authorization engine: check and list_objects latency on a realistic tuple set.

    python benchmarks/authz_check.py [--orgs 1000] [--identities 10000] [--agents 5000] [--threads 20000]

Builds a cluster of organizations with owners, members, models, agents (roles, internal/private) and
threads (participants), then times single checks of the calls the platform guards (SPEC §10 target:
p50 <= 100 us per check) and list_objects queries. Prints p50/p99 per query kind.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from served import percentile

from agyn.authorization.engine import Engine, InMemoryTupleStore, TupleKey


def build(store: InMemoryTupleStore, orgs: int, identities: int, agents: int, threads: int, seed: int) -> dict:
    """Write the tuples the platform would write; returns who is where, for choosing queries."""
    rng = random.Random(seed)
    add = store.add
    admins = [f"identity:admin{i}" for i in range(2)]
    for admin in admins:
        add(TupleKey(admin, "admin", "cluster:global"))
    people = [f"identity:{i:08d}-0000-4000-8000-000000000000" for i in range(identities)]
    members: dict[str, list[str]] = {}
    owners: dict[str, str] = {}
    for o in range(orgs):
        org = f"organization:org-{o}"
        add(TupleKey("cluster:global", "cluster", org))
        owner = people[o % identities]
        owners[org] = owner
        add(TupleKey(owner, "owner", org))
        members[org] = [owner]
    for person in people:  # everyone is a member of one to three organizations
        for org in rng.sample(list(members), rng.randint(1, 3)):
            if person not in members[org]:
                add(TupleKey(person, "member", org))
                members[org].append(person)
    org_list = list(members)
    for o, org in enumerate(org_list):
        for m in range(2):
            add(TupleKey(org, "org", f"model:model-{o}-{m}"))
    agent_orgs: dict[str, str] = {}
    for a in range(agents):
        org = org_list[a % orgs]
        agent = f"agent:agent-{a}"
        agent_orgs[agent] = org
        add(TupleKey(org, "org", agent))
        crew = rng.sample(members[org], min(3, len(members[org])))
        for role, person in zip(("owner", "maintainer", "participant"), crew, strict=False):
            add(TupleKey(person, role, agent))
        if a % 2 == 0:
            add(TupleKey(org, "internal_access", agent))
    thread_orgs: dict[str, str] = {}
    for t in range(threads):
        org = org_list[t % orgs]
        thread = f"thread:thread-{t}"
        thread_orgs[thread] = org
        add(TupleKey(org, "org", thread))
        for person in rng.sample(members[org], min(2, len(members[org]))):
            add(TupleKey(person, "participant", thread))
        add(TupleKey(f"identity:agent-identity-{t % agents}", "participant", thread))
    return {"people": people, "admins": admins, "members": members, "owners": owners,
            "agent_orgs": agent_orgs, "thread_orgs": thread_orgs}


def check_queries(world: dict, count: int, seed: int) -> list[tuple[str, TupleKey]]:
    """A mix of allowed and denied checks across the guarded calls."""
    rng = random.Random(seed)
    people, members, owners = world["people"], world["members"], world["owners"]
    threads, agents = list(world["thread_orgs"]), list(world["agent_orgs"])
    orgs = list(members)
    kinds: list[tuple[str, Callable[[], TupleKey]]] = [
        ("org member", lambda: TupleKey(rng.choice(people), "member", rng.choice(orgs))),
        ("org can_manage (owner/admin)", lambda: TupleKey(
            rng.choice([owners[o := rng.choice(orgs)], rng.choice(world["admins"]), rng.choice(people)]),
            "can_manage_organization", o)),
        ("thread can_read", lambda: TupleKey(
            rng.choice(members[world["thread_orgs"][t := rng.choice(threads)]] + [rng.choice(people)]),
            "can_read", t)),
        ("thread can_write", lambda: TupleKey(rng.choice(people), "can_write", rng.choice(threads))),
        ("agent can_initiate", lambda: TupleKey(
            rng.choice(members[world["agent_orgs"][a := rng.choice(agents)]]), "can_initiate", a)),
        ("agent can_edit_config", lambda: TupleKey(
            rng.choice(members[world["agent_orgs"][a := rng.choice(agents)]]), "can_edit_config", a)),
        ("model can_use", lambda: TupleKey(
            rng.choice(people), "can_use", f"model:model-{rng.randrange(len(orgs))}-{rng.randrange(2)}")),
    ]
    return [(name, make()) for name, make in (rng.choice(kinds) for _ in range(count))]


def percentiles(samples_ns: list[int]) -> tuple[float, float, float]:
    """p50, p99 and the mean, in µs."""
    return percentile(samples_ns, 0.5) / 1000, percentile(samples_ns, 0.99) / 1000, statistics.fmean(samples_ns) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--identities", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=20_000)
    parser.add_argument("--checks", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    engine = Engine.from_file()
    store = InMemoryTupleStore()
    started = time.perf_counter()
    world = build(store, args.orgs, args.identities, args.agents, args.threads, args.seed)
    print(f"built {len(store):,} tuples in {time.perf_counter() - started:.2f}s "
          f"({args.orgs:,} orgs, {args.identities:,} identities, {args.agents:,} agents, {args.threads:,} threads)")

    queries = check_queries(world, args.checks, args.seed)
    check = engine.check
    for _, q in queries[:2000]:  # warm-up
        check(store, q.user, q.relation, q.object)
    by_kind: dict[str, list[int]] = {}
    allowed = 0
    clock = time.perf_counter_ns
    for name, q in queries:
        start = clock()
        result = check(store, q.user, q.relation, q.object)
        by_kind.setdefault(name, []).append(clock() - start)
        allowed += result
    every = [s for samples in by_kind.values() for s in samples]
    print(f"\ncheck: {len(every):,} checks, {allowed / len(every):.0%} allowed")
    print(f"  {'kind':32} {'n':>7} {'p50 us':>8} {'p99 us':>8} {'mean us':>8}")
    for name, samples in sorted(by_kind.items()):
        print(f"  {name:32} {len(samples):>7,} {percentiles(samples)[0]:>8.1f} {percentiles(samples)[1]:>8.1f} "
              f"{percentiles(samples)[2]:>8.1f}")
    p50, p99, mean = percentiles(every)
    print(f"  {'ALL':32} {len(every):>7,} {p50:>8.1f} {p99:>8.1f} {mean:>8.1f}   (target p50 <= 100 us)")

    rng = random.Random(args.seed)
    list_cases = [
        ("member: threads can_read", lambda: (rng.choice(world["people"]), "can_read", "thread")),
        ("member: agents can_initiate", lambda: (rng.choice(world["people"]), "can_initiate", "agent")),
        ("member: organizations can_view", lambda: (rng.choice(world["people"]), "can_view", "organization")),
        ("owner: threads can_read", lambda: (rng.choice(list(world["owners"].values())), "can_read", "thread")),
        ("cluster admin: threads can_read", lambda: (world["admins"][0], "can_read", "thread")),
        ("cluster admin: orgs can_manage_members", lambda: (world["admins"][0], "can_manage_members", "organization")),
    ]
    print("\nlist_objects:")
    print(f"  {'query':40} {'n':>5} {'results':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, make in list_cases:
        runs = 5 if name.startswith("cluster admin") else 300
        samples, sizes = [], []
        for _ in range(runs):
            user, relation, object_type = make()
            start = clock()
            found = engine.list_objects(store, user, relation, object_type)
            samples.append(clock() - start)
            sizes.append(len(found))
        p50, p99, _ = percentiles(samples)
        print(f"  {name:40} {runs:>5} {statistics.median(sizes):>8.0f} {p50 / 1000:>8.3f} {p99 / 1000:>8.3f}")


if __name__ == "__main__":
    main()
