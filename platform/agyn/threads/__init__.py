"""Threads: conversation storage — threads, participants of any identity type, messages and
per-recipient acknowledgements; publishes `message.created`.
"""
