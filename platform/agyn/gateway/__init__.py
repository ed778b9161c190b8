"""Gateway: the single external API — authentication, request ids, logs, metrics, health."""
