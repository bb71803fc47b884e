"""`plaintext-crm schema`: valid JSON Schemas that accept exactly what the loader accepts, and data.json's schema."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator, FormatChecker

from plaintext_crm.cli import cli
from plaintext_crm.commands.init import CRM_YAML
from plaintext_crm.commands.schema import SCHEMAS, schema_of
from plaintext_crm.records.config import KNOWN_SETTINGS, config_from_text
from plaintext_crm.records.fields import (
    CLIENT_FIELDS,
    COMMON_FIELDS,
    DEAL_FIELDS,
    PROJECT_FIELDS,
    SIMPLE_KINDS,
    TASK_FIELDS,
    names,
)
from plaintext_crm.records.frontmatter import parse_record, split_front_matter
from plaintext_crm.records.loader import build_record
from plaintext_crm.records.model import Client, Deal, Project, Record, Task

EXAMPLE = Path(__file__).resolve().parent.parent / "workspace-example"


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema_of(name), format_checker=FormatChecker())


def as_json(value: Any) -> Any:
    """A YAML value as an editor's YAML-to-JSON reading sees it: dates are strings."""
    if isinstance(value, dict):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_schema_is_a_valid_2020_12_schema_printed_by_the_command(name: str) -> None:
    result = CliRunner().invoke(cli, ["schema", name])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(printed)
    assert printed == schema_of(name)


def test_schema_refuses_an_unknown_name() -> None:
    result = CliRunner().invoke(cli, ["schema", "invoice"])
    assert result.exit_code == 2
    assert "invoice" in result.output


def test_schemas_list_exactly_the_declared_keys_and_the_model_has_a_field_for_each() -> None:
    for name, fields, model in (("deal", DEAL_FIELDS, Deal), ("client", CLIENT_FIELDS, Client),
                                ("project", PROJECT_FIELDS, Project)):
        assert list(schema_of(name)["properties"]) == [*names(fields), *names(COMMON_FIELDS)]
        own = {field.name for field in dataclasses.fields(model)} - {field.name for field in dataclasses.fields(Record)}
        assert own == set(names(fields))
    task_schema = schema_of("project")["properties"]["tasks"]["items"]
    assert list(task_schema["properties"]) == list(names(TASK_FIELDS))
    assert {field.name for field in dataclasses.fields(Task)} >= set(names(TASK_FIELDS))
    assert tuple(schema_of("crm")["properties"]) == KNOWN_SETTINGS


def test_the_example_workspace_and_the_init_template_validate() -> None:
    crm = validator("crm")
    assert list(crm.iter_errors(as_json(yaml.safe_load((EXAMPLE / "crm.yaml").read_text(encoding="utf-8"))))) == []
    assert list(crm.iter_errors(as_json(yaml.safe_load(CRM_YAML.format(name="Test"))))) == []
    for folder, name in (("clients", "client"), ("deals", "deal"), ("projects", "project")):
        check = validator(name)
        for path in sorted((EXAMPLE / folder).glob("*.md")):
            split = split_front_matter(path.read_text(encoding="utf-8"))
            assert not isinstance(split, tuple) or list(check.iter_errors(as_json(yaml.safe_load(split[0])))) == [], path


def test_data_json_of_the_example_site_validates(example_site: Path) -> None:
    data = json.loads((example_site / "data.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema_of("data"), cls=Draft202012Validator, format_checker=FormatChecker())
    data["deals"][next(iter(data["deals"]))]["value"] = "12,000"  # the schema does catch a wrong type
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema_of("data"), cls=Draft202012Validator)


def test_docs_publish_the_current_data_schema() -> None:
    text = (EXAMPLE.parent / "docs" / "data-json.md").read_text(encoding="utf-8")
    published = text.split("<!-- data-schema:", 1)[1].split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(published) == schema_of("data"), "run: plaintext-crm schema data, and paste it in docs/data-json.md"


# --- the loader and the schemas agree, value by value ----------------------------------------------------

SAMPLES: list[Any] = [
    None, "", " ", "x", "Website relaunch", "2026-11-30", "2026-13-01", "12,000", "todo", " planned ", "done",
    "active", "approved", "yes", 0, 5, -3, 10_001, 10**16, 0.5, 1.5, -0.1, True, False,
    dt.date(2026, 11, 30), dt.date(1800, 1, 1), ["a", "b"], [1, 2], [], [True], [None], [{"a": 1}], {"a": 1},
]
SIMPLE = {"deals": [spec for spec in DEAL_FIELDS if spec.kind in SIMPLE_KINDS],
          "clients": [spec for spec in CLIENT_FIELDS if spec.kind in SIMPLE_KINDS],
          "projects": [spec for spec in PROJECT_FIELDS if spec.kind in SIMPLE_KINDS],
          "tasks": [spec for spec in TASK_FIELDS if spec.kind in SIMPLE_KINDS and spec.name != "id"]}
CASES = [(kind, spec.name) for kind, specs in SIMPLE.items() for spec in specs]


def loader_refuses(kind: str, key: str, value: Any) -> bool:
    """True when building a record with `key: value` gives an F002 finding."""
    if kind == "tasks":
        data: dict[str, Any] = {"tasks": [{"id": "t", key: value}]}
        rel = "projects/p.md"
    else:
        data = {key: value}
        rel = f"{kind}/r.md"
    text = "---\n" + yaml.safe_dump(data, allow_unicode=True) + "---\n"
    _record, findings = build_record(parse_record(rel, text.encode("utf-8")))
    return any(finding.code == "F002" for finding in findings)


def schema_refuses(kind: str, key: str, value: Any) -> bool:
    name = {"deals": "deal", "clients": "client", "projects": "project", "tasks": "project"}[kind]
    document = {"tasks": [{"id": "t", key: value}]} if kind == "tasks" else {key: value}
    return any(True for _ in validator(name).iter_errors(as_json(document)))


def test_a_value_the_loader_refuses_is_exactly_one_the_schema_refuses() -> None:
    """Every declared simple field of every kind, with every sample value: both agree."""
    disagree = [(kind, key, value) for kind, key in CASES for value in SAMPLES
                if loader_refuses(kind, key, value) != schema_refuses(kind, key, value)]
    assert disagree == []


@pytest.mark.parametrize(("text", "valid"), [
    ("pipeline: [lead, {stage: won, closed: won}]", True),
    ("pipeline: [{stage: won, closed: maybe}]", False),
    ("pipeline: [{stage: won, probability: 2}]", False),
    ("pipeline: [{stage: won, closed: won, rot_days: 0}]", False),
    ("working_days: [mon, Tuesday]", True),
    ("working_days: [mon, someday]", False),
    ("holidays: [2026-12-25]", True),
    ("holidays: [Christmas]", False),
    ("lint: {D003: warning, D009: off}", True),
    ("lint: {D003: loud}", False),
    ("exchange_rates: {USD: 0.92}", True),
    ("exchange_rates: {USD: -1}", False),
    ("exchange_rates: {DOLLAR: 1}", False),
    ("team: {ana: {name: Ana, active: true}, ben: Ben}", True),
    ("team: {ana: {name: Ana, active: maybe}}", False),
    ("lost_reasons: [price, 5]", False),
    ("external_images: nope", False),
])
def test_crm_yaml_settings_the_reader_refuses_are_refused_by_the_schema(text: str, valid: bool) -> None:
    _config, findings = config_from_text(text + "\n")
    assert (not any(finding.code in ("C001", "F001") for finding in findings)) == valid
    assert (list(validator("crm").iter_errors(as_json(yaml.safe_load(text)))) == []) == valid


@pytest.mark.parametrize(("kind", "data"), [
    ("clients", {"contacts": [{"name": "Jane", "role": "CMO"}, "Erik"]}),
    ("clients", {"contacts": [{"role": "CMO"}]}),
    ("clients", {"contacts": "Jane"}),
    ("projects", {"tasks": [{"id": "a"}, {"id": "b", "depends_on": ["a", "other/x", {"task": "a", "type": "SS", "lag": 2}]}]}),
    ("projects", {"tasks": [{"id": "b", "depends_on": [{"task": "a", "type": "XX"}]}]}),
    ("projects", {"tasks": [{"id": "b", "depends_on": [{"task": "a", "lag": 1.5}]}]}),
    ("projects", {"tasks": [{"id": "b", "depends_on": [{"type": "SS"}]}]}),
    ("projects", {"tasks": [{"id": "b", "depends_on": [True]}]}),
    ("projects", {"tasks": [{"title": "no id"}]}),
    ("projects", {"tasks": {"id": "a"}}),
    ("projects", {"tasks": [{"id": "a", "approval": {"by": "Jane", "status": "approved", "date": "2026-11-02"}}]}),
    ("projects", {"tasks": [{"id": "a", "approval": {"status": "maybe"}}]}),
    ("projects", {"tasks": [{"id": "a", "approval": "yes"}]}),
])
def test_nested_values_are_refused_by_the_loader_exactly_when_by_the_schema(kind: str, data: dict[str, Any]) -> None:
    rel = f"{kind}/r.md"
    text = "---\n" + yaml.safe_dump(data) + "---\n"
    _record, findings = build_record(parse_record(rel, text.encode("utf-8")))
    refused = any(finding.code == "F002" for finding in findings)
    name = {"clients": "client", "projects": "project"}[kind]
    assert refused == any(True for _ in validator(name).iter_errors(as_json(data))), findings
