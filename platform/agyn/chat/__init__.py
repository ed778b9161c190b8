"""Chat: the product layer over threads — conversations with users and agents, open/resolved status,
unread counts, activity status derived from workloads.
"""
