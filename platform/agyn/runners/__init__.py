"""Runners: the registry of runners (cluster- or org-scoped, labels, capabilities, service tokens), of
workloads and of volumes; the runner API and its local-process and Kubernetes implementations.
"""
