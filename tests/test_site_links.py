"""Link check of the built example site: every internal link and asset resolves, all links are relative."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.support import EXAMPLE

EXTERNAL_SCHEMES = ("mailto", "tel", "http", "https")


class Links(HTMLParser):
    """Collects href/src targets and element ids of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[tuple[str, str]] = []  # (tag, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.targets.append((tag, value))


@pytest.fixture
def site(example_site: Path) -> Path:
    return example_site


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_internal_link_and_asset_resolves(site: Path) -> None:
    pages = {path.relative_to(site).as_posix(): parse(path) for path in site.rglob("*.html")}
    assert len(pages) > 60
    broken = []
    checked = 0
    for name, links in pages.items():
        for tag, url in links.targets:
            parts = urlsplit(url)
            if parts.scheme in EXTERNAL_SCHEMES:
                assert tag == "a", f"{name}: <{tag}> loads {url} from outside the site"
                continue
            assert not parts.scheme and not parts.netloc, f"{name}: {url} is not a relative link"
            assert not parts.path.startswith("/"), f"{name}: {url} is absolute; links must be relative"
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), unquote(parts.path))) \
                if parts.path else name
            assert not target.startswith(".."), f"{name}: {url} leaves the site"
            checked += 1
            if not (site / target).is_file():
                broken.append(f"{name}: {url}")
            elif parts.fragment and target.endswith(".html") and parts.fragment not in pages[target].ids:
                broken.append(f"{name}: {url} (no id {parts.fragment!r})")
    assert checked > 1000
    assert broken == []


def test_every_record_that_loaded_has_a_page_linked_from_an_index(site: Path) -> None:
    board = (site / "board.html").read_text(encoding="utf-8")
    clients = (site / "clients" / "index.html").read_text(encoding="utf-8")
    for path in (EXAMPLE / "clients").glob("*.md"):
        assert f'href="../clients/{path.stem}.html"' in clients
        assert (site / "clients" / f"{path.stem}.html").is_file()
    for path in (EXAMPLE / "deals").glob("*.md"):
        assert (site / "deals" / f"{path.stem}.html").is_file()
    assert board.count('href="deals/') >= 23
