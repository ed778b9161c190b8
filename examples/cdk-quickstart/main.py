"""CDK quickstart: an organization with an LLM catalog and a member, and an agent with tools.

`python main.py` synthesizes `cdktf.out/stacks/quickstart/cdk.tf.json`; `cdktf deploy` applies it (README).
"""

import os

# before jsii starts Node: the project runs on Node 20, and jsii would print its end-of-life banner
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cdktf import App, TerraformOutput, TerraformStack, TerraformVariable
from constructs import Construct

from agyn_cdk import (
    Agent,
    AgentRole,
    AgynProvider,
    FromSecret,
    Hook,
    LlmCatalogProps,
    McpServer,
    Member,
    Organization,
    Skill,
    Volume,
)
from agyn_cdk.l1 import AgynSecret, AgynUser
from agyn_cdk.report import synth


class Quickstart(TerraformStack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.add_override("terraform.required_version", ">= 1.0")  # what the agyn provider works on
        AgynProvider(self, "agyn")  # the platform and token come from AGYN_API_URL and AGYN_API_TOKEN
        llm_api_key = TerraformVariable(self, "llm_api_key", type="string", sensitive=True,
                                        description="The LLM provider's API key (TF_VAR_llm_api_key; the test "
                                                    "LLM ignores it).")
        platform_url = TerraformVariable(self, "platform_url", type="string", default="http://127.0.0.1:8080",
                                         description="The platform's URL, whose built-in test LLM is the LLM "
                                                     "provider (TF_VAR_platform_url).")
        github_token = TerraformVariable(self, "github_token", type="string", sensitive=True,
                                         description="A GitHub token for the agent (TF_VAR_github_token).")

        dana = AgynUser(self, "dana", oidc_subject="example|dana", username="dana", name="Dana Example")
        org = Organization(self, "acme", name="acme", members=[Member(dana.id, key="dana")],
                           # the platform's scripted test LLM: offline; its model names are its scripted tests
                           llm=LlmCatalogProps(endpoint=f"{platform_url.string_value}/testllm/agn/v1",
                                               token=llm_api_key.string_value,
                                               models={"scripted": "simple-hello", "tools": "simple-tool-call"}))
        github = AgynSecret(self, "github-token", organization_id=org.id, name="github-token",
                            value=github_token.string_value)

        assistant = Agent(
            self, "assistant",
            organization_id=org.id, name="assistant", nickname="assistant", role="engineering assistant",
            model=org.llm.model("scripted"),
            configuration={"system_prompt": "You help the team with code reviews and small fixes."},
            env={"GITHUB_TOKEN": FromSecret(github.id), "LOG_LEVEL": "info"},
            init_scripts=["git config --global user.name assistant"],
            volumes=[Volume(name="workspace", mount_path="/workspace")],
            mcp_servers=[
                McpServer(name="github", command="github-mcp-server stdio", image="ghcr.io/github/github-mcp-server",
                          env={"GITHUB_PERSONAL_ACCESS_TOKEN": FromSecret(github.id)}),
                McpServer(name="files", command="mcp-server-filesystem /workspace",
                          volumes=[Volume(name="workspace", mount_path="/workspace")]),
            ],
            skills=[Skill(name="review", description="When asked to review a pull request.",
                          body="Read the diff, run the tests, and comment on what would break.")],
            hooks=[Hook(event="workload.started", function="echo started")],
            roles=[AgentRole(org.member_id("dana"), "maintainer", key="dana")],
        )
        TerraformOutput(self, "organization_id", value=org.id)
        TerraformOutput(self, "agent_id", value=assistant.id)


app = App()
Quickstart(app, "quickstart")
synth(app)  # and say what was written
