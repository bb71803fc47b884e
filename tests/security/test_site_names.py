"""Record ids that are odd file names (control characters, bidi overrides, bytes that are not UTF-8,
`%`) still build a site: every page gets a safe, distinct file name and every link reaches it."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from click.testing import CliRunner

from plaintext_crm.cli import cli
from plaintext_crm.escape import file_name_part, is_hidden
from tests.support import ACME_CLIENT, EXAMPLE_TODAY, LEAD_DEAL

NAMES = [b"bad\xff", b"crlf\r\nX", b"rlo\xe2\x80\xaegpj", b"a%0A", b"a\n", b"plain", b"caf\xc3\xa9"]


def test_odd_ids_get_safe_distinct_pages_and_working_links(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT})
    (root / "deals").mkdir()
    for n, name in enumerate(NAMES):
        with open(os.fsencode(root / "deals") + b"/" + name + b".md", "w", encoding="utf-8") as handle:
            handle.write(LEAD_DEAL.format(title=f"Deal {n}", next_action="Call"))
    result = CliRunner().invoke(cli, ["build", str(root), "--today", EXAMPLE_TODAY])
    assert result.exit_code == 0, result.output
    pages = sorted(os.listdir(root / "site" / "deals"))
    assert len(pages) == len(NAMES)
    assert not [page for page in pages if any(is_hidden(char) for char in page)], pages
    board = (root / "site" / "board.html").read_text(encoding="utf-8")
    hrefs = [unquote(href) for href in re.findall(r'href="(deals/[^"]+)"', board)]
    assert len(set(hrefs)) == len(NAMES)
    assert all((root / "site" / href).is_file() for href in hrefs), hrefs
    page = (root / "site" / "deals" / "bad%FF.html").read_bytes()
    page.decode("utf-8")  # valid UTF-8: the undecodable byte is shown as an escape
    assert b"bad\\udcff" in page


def test_file_name_part_keeps_plain_ids_and_is_injective() -> None:
    assert file_name_part("acme-site") == "acme-site"
    assert file_name_part("café") == "café"
    ids = ["a%0A", "a\n", "a%250A", "bad\udcff", "bad%FF", "x\u202ey"]
    parts = [file_name_part(name) for name in ids]
    assert len(set(parts)) == len(ids)
    assert all(part.isprintable() for part in parts)
