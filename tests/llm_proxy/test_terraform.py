"""Done as a new user would: a provider (the platform's own test LLM) and models declared with
Terraform, then the official SDKs through the proxy."""

from __future__ import annotations

import time
import uuid

import anthropic
import openai
import pytest

from tests.terraform.plugin import Platform, WorkspaceFactory

CONFIG = """
resource "agyn_organization" "acme" {{
  name = "{name}"
}}

resource "agyn_llm_provider" "testllm" {{
  organization_id = agyn_organization.acme.id
  name            = "testllm"
  endpoint        = "{url}/testllm/agn/v1"
  protocol        = "responses"
  auth_method     = "bearer"
  token           = "sk-terraform-openai-secret"
}}

resource "agyn_llm_provider" "claude" {{
  organization_id = agyn_organization.acme.id
  name            = "claude"
  endpoint        = "{url}/testllm/claude/v1"
  protocol        = "anthropic_messages"
  auth_method     = "x_api_key"
  token           = "sk-terraform-anthropic-secret"
}}

resource "agyn_model" "hello" {{
  organization_id = agyn_organization.acme.id
  llm_provider_id = agyn_llm_provider.testllm.id
  name            = "hello"
  remote_name     = "simple-hello"
}}

resource "agyn_model" "claude" {{
  organization_id = agyn_organization.acme.id
  llm_provider_id = agyn_llm_provider.claude.id
  name            = "claude"
  remote_name     = "simple-hello"
}}
"""


@pytest.mark.slow
def test_models_declared_with_terraform_answer_through_the_proxy(terraform: WorkspaceFactory,
                                                                 agyn_platform: Platform) -> None:
    workspace = terraform(CONFIG.format(name=f"proxy-{uuid.uuid4().hex[:8]}", url=agyn_platform.url))
    workspace.apply().check()
    state = workspace.state()
    organization_id = state["agyn_organization.acme"]["id"]
    hello, claude = state["agyn_model.hello"]["id"], state["agyn_model.claude"]["id"]

    client = openai.OpenAI(base_url=f"{agyn_platform.url}/v1", api_key=agyn_platform.token, max_retries=0)
    assert client.responses.create(model=hello, input="hi").output_text == "Hi! How are you?"
    events = list(client.responses.create(model=hello, input="hi", stream=True))
    assert events[-1].type == "response.completed" and events[-1].response.output_text == "Hi! How are you?"
    messages = anthropic.Anthropic(base_url=agyn_platform.url, api_key=agyn_platform.token, max_retries=0).messages
    answer = messages.create(model=claude, max_tokens=10, system="x", messages=[{"role": "user", "content": "hi"}])
    assert answer.content[0].type == "text" and answer.content[0].text == "Hi! How are you?"
    with messages.stream(model=claude, max_tokens=10, system="x",
                         messages=[{"role": "user", "content": "hi"}]) as stream:
        assert "".join(stream.text_stream) == "Hi! How are you?"
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=claude, input="hi")

    deadline, requests = time.monotonic() + 15, {}
    while time.monotonic() < deadline and requests != {"hello": 2.0, "claude": 2.0}:
        report = agyn_platform.api.get("/api/v1/usage", params={"organization_id": organization_id,
                                                                "group_by": "model", "unit": "COUNT"})
        assert report.status_code == 200, report.text
        requests = {b["group"]: b["value"] for b in report.json()["buckets"]}
        time.sleep(0.1)
    assert requests == {"hello": 2.0, "claude": 2.0}
    assert "sk-terraform" not in "".join(workspace.log)
