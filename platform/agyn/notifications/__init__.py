"""Notifications: rooms and event envelopes fanned out to clients over Socket.IO and Server-Sent
Events, in-process or over Redis pub/sub.
"""
