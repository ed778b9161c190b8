"""The generated L1 classes: fresh against the registry, complete, synthesizing what the provider's
schema expects, and shaped like the provider's real schema (`terraform providers schema -json`)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agyn.kit import rules
from agyn.kit.resources import Field, Kind, Registry, Resource, string
from agyn.modules import load_registry
from agyn_cdk import cdk, l1
from agyn_cdk.base import AgynDataSource, AgynResource
from agyn_provider.install import version
from tests.cdk.support import CODEGEN, synthesized
from tests.rule_cases import SOME_ID, valid_value
from tests.terraform.plugin import TERRAFORM, terraform_env

codegen = CODEGEN
REGISTRY = list(load_registry())
DATA_SOURCES = [r for r in REGISTRY if r.data_source is not None]
META = {"self", "scope", "id_", "depends_on", "count", "for_each", "lifecycle", "provider"}


def pascal(terraform_type: str) -> str:
    return "".join(part.capitalize() for part in terraform_type.split("_"))


def resource_class(terraform_type: str) -> type:
    return getattr(l1, pascal(terraform_type))


def data_source_class(terraform_type: str) -> type:
    return getattr(l1, "Data" + pascal(terraform_type))


def arguments(cls: type) -> dict[str, bool]:
    """The class's own keyword arguments → required?"""
    parameters = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    return {p.name: p.default is inspect.Parameter.empty for p in parameters if p.name not in META}


def getters(cls: type) -> dict[str, str]:
    """The class's attribute getters → their return annotation."""
    return {name: inspect.get_annotations(member.fget)["return"]
            for name, member in vars(cls).items() if isinstance(member, property)}


def in_combination(resource: Resource, name: str) -> bool:
    """Whether a field takes part in a rule across fields (setting every argument breaks those)."""
    groups = [*resource.exactly_one_of, *resource.required_together,
              *((c.field, *c.require, *c.forbid) for c in resource.conditions)]
    return any(name in group for group in groups)


def sample(resource: Resource, field: Field, stack: Any = None) -> tuple[Any, Any]:
    """(an argument for the field, what the Terraform JSON must hold for it): a value its rules take,
    or, for a reference or a field of a rule across fields, a variable (a value not known at synth,
    whose rules Terraform checks at plan)."""
    if stack is not None and (field.kind == Kind.reference or (
            in_combination(resource, field.name) and field.kind in (Kind.string, Kind.enum))):
        variable = cdk.TerraformVariable(stack, field.name, type="string")
        return variable.string_value, f"${{var.{field.name}}}"
    if field.kind == Kind.enum:
        return field.choices[-1], field.choices[-1]
    if field.kind == Kind.integer:
        return 3, 3
    if field.kind == Kind.boolean:
        return True, True
    if field.kind == Kind.json:
        document = {"b": [1, "two"], "a": {"nested": field.name}}
        return document, '{"a":{"nested":"%s"},"b":[1,"two"]}' % field.name
    if field.kind == Kind.string_list:
        values = list(field.choices) or ["first", "second"]
        return tuple(values), values
    if field.kind == Kind.string_map:
        return {"key": field.name}, {"key": field.name}
    if field.kind == Kind.object:
        struct = getattr(l1, f"Agyn{resource.title}{pascal(field.name)}")
        pairs = {sub.name: sample(resource, sub) for sub in field.fields}
        return struct(**{k: v[0] for k, v in pairs.items()}), {k: v[1] for k, v in pairs.items()}
    value = f"{field.name}-value" if rules.value_problem(field, f"{field.name}-value") is None else valid_value(field)
    return value, value


def test_l1_module_is_fresh_against_the_registry() -> None:
    assert codegen.OUTPUT.read_text() == codegen.render(), \
        "cdk/agyn_cdk/l1.py is stale against the registry: run `python cdk/codegen.py`"


def test_check_command_fails_on_a_stale_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codegen, "OUTPUT", tmp_path / "l1.py")
    assert codegen.main(["--check"]) == 1  # missing
    assert codegen.main([]) == 0
    assert codegen.main(["--check"]) == 0
    (tmp_path / "l1.py").write_text(codegen.OUTPUT.read_text().replace("class AgynAgent(", "class Agent("))
    assert codegen.main(["--check"]) == 1


def test_a_resource_declared_in_the_registry_gets_its_class() -> None:
    registry = Registry()
    for resource in REGISTRY:
        registry.register(resource)
    registry.register(Resource(name="gadget_box", collection="gadget-boxes", description="A box of gadgets.",
                               fields=(string("label", "What it says on the box.", required=True),)))
    text = codegen.render(registry)
    assert "class AgynGadgetBox(AgynResource):" in text
    assert 'super().__init__(scope, id_, "agyn_gadget_box", PROVIDER_VERSION, {' in text
    assert "        label: str,\n" in text and "What it says on the box." in text


@pytest.mark.parametrize("resource", REGISTRY, ids=lambda r: r.terraform_type)
def test_every_resource_synthesizes_every_argument_and_references_every_attribute(
        stack: Any, resource: Resource) -> None:
    cls = resource_class(resource.terraform_type)
    assert issubclass(cls, AgynResource) and cls.__doc__.startswith(resource.description[:40])
    pairs = {f.name: sample(resource, f, stack) for f in resource.input_fields}
    element = cls(stack, "example", **{name: given for name, (given, _) in pairs.items()})
    for name in ["id", *(f.name for f in resource.fields)]:
        cdk.TerraformOutput(stack, f"out_{name}", value=getattr(element, name))

    synthesized_stack = synthesized(stack)
    assert synthesized_stack["resource"][resource.terraform_type]["example"] == \
        {name: expected for name, (_, expected) in pairs.items()}
    assert {name: o["value"] for name, o in synthesized_stack["output"].items()} == \
        {f"out_{n}": f"${{{resource.terraform_type}.example.{n}}}" for n in ["id", *(f.name for f in resource.fields)]}


@pytest.mark.parametrize("resource", DATA_SOURCES, ids=lambda r: r.terraform_type)
def test_every_data_source_synthesizes_its_lookup_and_references_every_attribute(
        stack: Any, resource: Resource) -> None:
    assert resource.data_source is not None
    cls = data_source_class(resource.terraform_type)
    assert issubclass(cls, AgynDataSource)
    lookup = {name: f"{name}-value" for name in resource.data_source.lookup + resource.data_source.optional_lookup}
    element = cls(stack, "example", **lookup)
    readable = ["id", *(f.name for f in resource.fields if not f.sensitive)]
    for name in readable:
        cdk.TerraformOutput(stack, f"out_{name}", value=getattr(element, name))

    synthesized_stack = synthesized(stack)
    assert synthesized_stack["data"][resource.terraform_type]["example"] == lookup
    assert {name: o["value"] for name, o in synthesized_stack["output"].items()} == \
        {f"out_{n}": f"${{data.{resource.terraform_type}.example.{n}}}" for n in readable}


def test_provider_block_pins_the_provider_version(stack: Any) -> None:
    l1.AgynProvider(stack, "agyn", api_url="http://127.0.0.1:8080", api_token="agyn_token")
    other = l1.AgynProvider(stack, "other", api_url="http://127.0.0.1:9090", alias="other")
    l1.AgynOrganization(stack, "org", name="acme", provider=other)
    synthesized_stack = synthesized(stack)
    assert synthesized_stack["resource"]["agyn_organization"]["org"]["provider"] == "agyn.other"
    assert synthesized_stack["provider"]["agyn"] == [
        {"api_url": "http://127.0.0.1:8080", "api_token": "agyn_token"},
        {"api_url": "http://127.0.0.1:9090", "alias": "other"},
    ]
    assert synthesized_stack["terraform"]["required_providers"] == {
        "agyn": {"source": "agynio/agyn", "version": version()}}


def test_json_arguments_take_an_encoded_string_or_a_reference_inside_a_dict(stack: Any) -> None:
    org = l1.AgynOrganization(stack, "org", name="acme")
    l1.AgynAppInstallation(stack, "raw", app_id=SOME_ID, organization_id=org.id, configuration='{"x": 1}')
    l1.AgynAppInstallation(stack, "nested", app_id=SOME_ID, organization_id=org.id,
                           configuration={"organization": org.id})
    installations = synthesized(stack)["resource"]["agyn_app_installation"]
    assert installations["raw"]["configuration"] == '{"x": 1}'
    assert installations["nested"]["configuration"] == '{"organization":"${agyn_organization.org.id}"}'


# --- against the provider's real schema ---------------------------------------------------------------------

GETTER_TYPES = {'"string"': "str", '"number"': "float", '"bool"': "cdk.IResolvable",
                '["list", "string"]': "list[str]", '["map", "string"]': "typing.Mapping[str, str]"}


def getter_type(attribute: dict[str, Any]) -> str:
    if "nested_type" in attribute or attribute["type"][0] == "object":
        return "cdk.IResolvable"
    return GETTER_TYPES[json.dumps(attribute["type"])]


def inputs(attributes: dict[str, dict[str, Any]]) -> dict[str, bool]:
    """Attributes a configuration may set → required?"""
    return {name: bool(a.get("required")) for name, a in attributes.items() if a.get("required") or a.get("optional")}


def block_inputs(blocks: dict[str, dict[str, Any]]) -> dict[str, bool]:
    """Nested blocks (object fields, written at most once) → required?"""
    assert all(b["nesting_mode"] == "single" for b in blocks.values()), blocks
    return {name: b.get("min_items", 0) == 1 for name, b in blocks.items()}


@pytest.fixture(scope="module")
def schema_directory(tmp_path_factory: pytest.TempPathFactory, cli_config: Path) -> Path:
    """A directory `terraform init` ran in, for a configuration that is just an `AgynProvider` (whose
    version pin must find the provider installed by `agyn provider install`)."""
    directory = tmp_path_factory.mktemp("schema")
    stack = cdk.TerraformStack(cdk.App(outdir=str(directory / "cdktf.out")), "schema")
    l1.AgynProvider(stack, "agyn")
    (directory / "main.tf.json").write_text(cdk.Testing.synth(stack))
    terraform(directory, cli_config, "init", "-input=false", "-no-color")
    return directory


def terraform(directory: Path, cli_config: Path, *command: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(TERRAFORM), *command], cwd=directory, env=terraform_env(cli_config),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def provider_schema(schema_directory: Path, cli_config: Path) -> dict[str, Any]:
    """`terraform providers schema -json` of the installed provider."""
    result = terraform(schema_directory, cli_config, "providers", "schema", "-json")
    return json.loads(result.stdout)["provider_schemas"]["registry.terraform.io/agynio/agyn"]


def test_l1_resources_match_the_provider_schema(provider_schema: dict[str, Any]) -> None:
    schemas = provider_schema["resource_schemas"]
    generated = {name for name, member in vars(l1).items()
                 if inspect.isclass(member) and issubclass(member, AgynResource) and member is not AgynResource}
    assert generated == {pascal(t) for t in schemas}
    for terraform_type, schema in schemas.items():
        cls, attributes = resource_class(terraform_type), schema["block"]["attributes"]
        blocks = schema["block"].get("block_types", {})
        assert arguments(cls) == inputs(attributes) | block_inputs(blocks), terraform_type
        assert getters(cls) == {n: getter_type(a) for n, a in attributes.items()} | \
            {n: "cdk.IResolvable" for n in blocks}, terraform_type
        for name, block in blocks.items():  # an object field: a struct whose members are the block's
            struct = getattr(l1, pascal(terraform_type) + pascal(name))
            assert {f.name: f.default is dataclasses.MISSING for f in dataclasses.fields(struct)} == \
                inputs(block["block"]["attributes"]), f"{terraform_type}.{name}"


def test_structs_synthesize_blocks_terraform_accepts(schema_directory: Path, cli_config: Path) -> None:
    """In Terraform's JSON syntax an object is a block's body: the struct arguments validate."""
    directory = schema_directory / "blocks"
    directory.mkdir()
    stack = cdk.TerraformStack(cdk.App(outdir=str(directory / "cdktf.out")), "blocks")
    l1.AgynProvider(stack, "agyn")
    l1.AgynSecretProvider(stack, "vault", organization_id=SOME_ID, name="vault", type="vault",
                          vault=l1.AgynSecretProviderVault(address="https://vault.example", token="t"))
    l1.AgynAgent(stack, "agent", organization_id=SOME_ID, name="a", role="r", model=SOME_ID, availability="internal",
                 resources=l1.AgynAgentResources(limits_cpu="2"))
    l1.AgynAgent(stack, "plain", organization_id=SOME_ID, name="b", role="r", model=SOME_ID,
                 availability="internal")
    (directory / "main.tf.json").write_text(cdk.Testing.synth(stack))
    shutil.copytree(schema_directory / ".terraform", directory / ".terraform")
    shutil.copy(schema_directory / ".terraform.lock.hcl", directory)
    result = terraform(directory, cli_config, "validate", "-json", "-no-color")
    assert json.loads(result.stdout)["valid"] is True, result.stdout


def test_l1_data_sources_match_the_provider_schema(provider_schema: dict[str, Any]) -> None:
    schemas = provider_schema["data_source_schemas"]
    generated = {name for name, member in vars(l1).items()
                 if inspect.isclass(member) and issubclass(member, AgynDataSource) and member is not AgynDataSource}
    assert generated == {"Data" + pascal(t) for t in schemas}
    for terraform_type, schema in schemas.items():
        cls, attributes = data_source_class(terraform_type), schema["block"]["attributes"]
        assert "block_types" not in schema["block"], terraform_type
        assert arguments(cls) == inputs(attributes), terraform_type
        assert getters(cls) == {n: getter_type(a) for n, a in attributes.items()}, terraform_type


def test_l1_provider_matches_the_provider_schema(provider_schema: dict[str, Any]) -> None:
    attributes = provider_schema["provider"]["block"]["attributes"]
    assert arguments(l1.AgynProvider) == {**inputs(attributes), "alias": False}
