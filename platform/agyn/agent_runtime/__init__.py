"""Agent runtime (`agynd`): the daemon inside a workload that pulls unacked messages, runs one agent
turn per message against the LLM proxy with MCP tools, posts the reply and acks it.
"""
