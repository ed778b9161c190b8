"""Apps: app definitions, installations into organizations (permissions become tuples), service
tokens, the audit log, and the built-in Reminders and Telegram apps.
"""
