"""The media proxy's refusals, with the status codes its reference pins."""

from __future__ import annotations

from agyn.kit.errors import ProblemError


class SsrfRefused(ProblemError):
    status, code, title = 422, "address_refused", "Address refused"


class MediaTooLarge(ProblemError):
    status, code, title = 413, "media_too_large", "Media too large"


class UpstreamFailed(ProblemError):
    status, code, title = 502, "upstream_failed", "Upstream failed"


class UpstreamTimeout(ProblemError):
    status, code, title = 504, "upstream_timeout", "Upstream timed out"
