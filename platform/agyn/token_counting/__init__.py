"""Token counting: provider-accurate token counts (o200k_base offline, image tiles, Anthropic
estimates) for cost reporting and context summarization.

The seam: `counting.count_items(items, model)` for code, `endpoints.router` (`POST /api/v1/token-counts`)
for the HTTP API.
"""
