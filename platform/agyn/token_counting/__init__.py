"""Token counting: provider-accurate token counts (o200k_base offline, image tiles, Anthropic
estimates) for cost reporting and context summarization.
"""
