"""Files: streamed uploads, metadata, downloads and short-lived signed URLs, on a local directory or
S3-compatible storage.
"""
