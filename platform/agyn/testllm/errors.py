"""Test LLM errors: one status, `type` and `code` each, rendered in each protocol's own error shape."""

from __future__ import annotations

from typing import Literal

ErrorType = Literal["invalid_request_error", "not_found_error", "api_error"]


class TestLLMError(Exception):
    """A request the script cannot answer; `code` is the reference test LLM's error code."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, status: int, error_type: ErrorType, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type: ErrorType = error_type
        self.code = code
        self.message = message


def invalid_request(code: str, message: str) -> TestLLMError:
    return TestLLMError(400, "invalid_request_error", code, message)


def not_found(code: str, message: str) -> TestLLMError:
    return TestLLMError(404, "not_found_error", code, message)
