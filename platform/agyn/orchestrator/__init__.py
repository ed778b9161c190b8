"""Orchestrator: the leader-elected reconciler that starts a workload for every (thread, agent) pair
with unacked messages, stops idle ones, retries with backoff and degrades threads that keep failing.
"""
