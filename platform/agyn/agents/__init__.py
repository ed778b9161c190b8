"""Agents: agent definitions and their sub-resources (MCP servers, skills, hooks, ENVs, init scripts,
volumes and attachments) and agent roles; publishes `agent.updated` when configuration changes.
"""
