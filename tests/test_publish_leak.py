"""The leak tests of issue 12: canaries planted in everything an audience must not see (hidden records,
keys, notes, commit messages and authors) appear in no byte of its site; an encrypted site holds none at all."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from plaintext_crm.records.config import Audience, load_config
from plaintext_crm.site.builder import build_site
from plaintext_crm.site.encrypt import open_envelope
from tests.publish_support import (
    VALUE_CANARY,
    VISIBLE_COMMIT,
    Canaries,
    commit_history,
    copy_example,
    leaks,
    plant,
    value_forms,
)
from tests.support import EXAMPLE, EXAMPLE_TODAY

pytestmark = [pytest.mark.slow, pytest.mark.git]
TODAY = dt.date.fromisoformat(EXAMPLE_TODAY)
EXAMPLE_AUDIENCES = sorted(load_config(EXAMPLE)[0].audiences)
PASSPHRASE = "correct horse battery staple"


def _planted(tmp_path: Path, audience: Audience, *, everything: bool = False) -> tuple[Path, Canaries]:
    root = copy_example(EXAMPLE, tmp_path / "ws")
    canaries = Canaries("zqxleak")
    plant(root, audience, canaries, everything=everything)
    commit_history(root, audience, canaries, everything=everything)
    return root, canaries


def test_the_example_defines_the_two_audiences_of_the_issue() -> None:
    audiences = load_config(EXAMPLE)[0].audiences
    assert "contacts" in audiences["leadership"].hide and audiences["leadership"].clients is None
    portal = audiences["client-northwind"]
    assert portal.clients == ("northwind-coffee",) and portal.sections == ("projects",)


@pytest.mark.parametrize("name", EXAMPLE_AUDIENCES)
def test_no_canary_of_what_an_audience_does_not_see_is_in_its_site(tmp_path: Path, name: str) -> None:
    audience = load_config(EXAMPLE)[0].audiences[name]
    root, canaries = _planted(tmp_path, audience)
    assert len(canaries.planted) > 5
    out = tmp_path / "site"
    build_site(root, out, TODAY, use_cache=False, audience=name)
    extra = value_forms(VALUE_CANARY) if "value" in audience.hide else ()
    assert leaks(out, canaries, extra) == []
    if "history" in audience.sections:  # the history pages still show commits about what it sees
        assert VISIBLE_COMMIT in (out / "index.html").read_text(encoding="utf-8")
    # The same workspace built whole holds every canary: the search above can find them.
    full = tmp_path / "full"
    build_site(root, full, TODAY, use_cache=False)
    found = {line.split(" ", 1)[0] for line in leaks(full, canaries)}
    missing = set(canaries.planted) - found
    assert not missing, [canaries.planted[canary] for canary in sorted(missing)]


def test_an_encrypted_site_holds_no_plaintext_of_any_record(tmp_path: Path) -> None:
    everyone = Audience("everyone")
    root, canaries = _planted(tmp_path, everyone, everything=True)
    out = tmp_path / "site"
    build_site(root, out, TODAY, use_cache=False, passphrase=PASSPHRASE)
    assert leaks(out, canaries, ("northwind", "Brightline")) == []
    assert not list(out.rglob("*.ics"))  # no calendar app could open them
    envelope = json.loads((out / "data.json").read_text(encoding="utf-8"))
    data = json.loads(open_envelope(envelope, PASSPHRASE))
    assert any("zqxleak" in deal_id for deal_id in data["deals"])  # the canaries are inside, encrypted


def test_an_encrypted_audience_site_combines_both(tmp_path: Path) -> None:
    audience = load_config(EXAMPLE)[0].audiences["client-northwind"]
    root, canaries = _planted(tmp_path, audience)
    out = tmp_path / "site"
    build_site(root, out, TODAY, use_cache=False, audience="client-northwind", passphrase=PASSPHRASE)
    assert leaks(out, canaries, ("Northwind",)) == []
    pages = sorted(path.relative_to(out).as_posix() for path in out.rglob("*.html"))
    assert len(pages) == 4 and "index.html" in pages  # contents page, projects list, two projects


def test_an_audience_built_into_the_folder_of_a_full_build_reuses_none_of_its_pages(tmp_path: Path) -> None:
    audience = load_config(EXAMPLE)[0].audiences["client-northwind"]
    root, canaries = _planted(tmp_path, audience)
    out = tmp_path / "site"
    build_site(root, out, TODAY)  # with every cache
    assert leaks(out, canaries)
    result = build_site(root, out, TODAY, audience="client-northwind")
    assert result.reused == 0
    assert leaks(out, canaries, value_forms(VALUE_CANARY)) == []
    again = build_site(root, out, TODAY, audience="client-northwind")  # its own pages are reused, still clean
    assert again.reused > 0 and leaks(out, canaries, value_forms(VALUE_CANARY)) == []


def test_a_record_leaving_the_audience_leaves_every_page_of_a_cached_rebuild(tmp_path: Path) -> None:
    root = copy_example(EXAMPLE, tmp_path / "ws")
    out = tmp_path / "site"
    build_site(root, out, TODAY, audience="client-northwind")
    webshop = (out / "projects" / "northwind-webshop.html").read_text(encoding="utf-8")
    assert "northwind-rebrand" in webshop and "a project not shown here" not in webshop
    moved = root / "projects" / "northwind-rebrand.md"
    moved.write_text(moved.read_text(encoding="utf-8").replace("client: northwind-coffee", "client: atlas-logistics"),
                     encoding="utf-8")
    build_site(root, out, TODAY, audience="client-northwind")
    found = [path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()
             and "northwind-rebrand" in path.read_text(encoding="utf-8", errors="replace")]
    assert found == []
    assert "a project not shown here" in (out / "projects" / "northwind-webshop.html").read_text(encoding="utf-8")
