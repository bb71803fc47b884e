"""`plaintext-crm schema crm|deal|client|project|data`: print a JSON Schema (2020-12) for editors and tools."""

from __future__ import annotations

import json
from typing import Any

import click

SCHEMAS = ("crm", "deal", "client", "project", "data")


def schema_of(name: str) -> dict[str, Any]:
    """The schema called `name` (one of SCHEMAS)."""
    if name == "crm":
        from plaintext_crm.records.schema import config_schema

        return config_schema()
    if name == "data":
        from plaintext_crm.site.data_schema import data_schema

        return data_schema()
    from plaintext_crm.records.schema import record_schema

    return record_schema(name)


@click.command()
@click.argument("name", type=click.Choice(SCHEMAS))
def schema(name: str) -> None:
    """Print the JSON Schema of crm.yaml (crm), of a record's front matter (deal, client, project) or of
    the site's data.json (data). They are generated from the definitions the loader checks."""
    click.echo(json.dumps(schema_of(name), indent=2, ensure_ascii=False))
