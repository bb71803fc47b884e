"""Encrypted builds: the key derivation, one nonce per file, file names, the passphrase's sources, robots.txt."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.exceptions import InvalidTag

from plaintext_crm.cli import cli
from plaintext_crm.errors import ToolError
from plaintext_crm.site.builder import build_site
from plaintext_crm.site.encrypt import ITERATIONS, PASSWORD_ENV, derive_key, open_envelope, read_passphrase
from tests.support import EXAMPLE, EXAMPLE_TODAY, MINIMAL_CONFIG

TODAY = dt.date.fromisoformat(EXAMPLE_TODAY)
PASSPHRASE = "correct horse battery staple"
PAYLOAD = re.compile(r'<script type="application/json" id="plaintext-crm-encrypted">(.*?)</script>', re.DOTALL)
LEAD = "---\ntitle: Site\nclient: acme\nowner: ana\nstage: lead\nvalue: 100\nnext_action: Call\n" \
       "next_action_due: 2026-12-01\n---\nNotes.\n"


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("enc") / "ws"
    shutil.copytree(EXAMPLE, root)
    out = root.parent / "site"
    build_site(root, out, TODAY, use_cache=False, passphrase=PASSPHRASE)
    return out


def payloads(out: Path) -> list[dict[str, object]]:
    return [json.loads(PAYLOAD.findall(page.read_text(encoding="utf-8"))[0]) for page in out.rglob("*.html")]


@pytest.mark.slow  # builds sites and derives keys (600,000 rounds each): seconds
def test_the_key_is_pbkdf2_sha256_with_600000_rounds_and_a_fresh_salt() -> None:
    assert ITERATIONS >= 600_000
    first, second = derive_key("a passphrase"), derive_key("a passphrase")
    assert first.salt != second.salt and len(first.salt) == 16 and len(first.content) == 32
    again = derive_key("a passphrase", first.salt)
    assert again == first
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    expected = PBKDF2HMAC(hashes.SHA256(), 64, first.salt, 600_000).derive(b"a passphrase")
    assert first.content + first.names == expected


@pytest.mark.slow  # builds sites and derives keys (600,000 rounds each): seconds
def test_every_page_has_its_own_nonce_and_all_share_the_build_salt(encrypted: Path) -> None:
    boxes = payloads(encrypted) + [json.loads((encrypted / "data.json").read_text(encoding="utf-8"))]
    assert len(boxes) > 50
    assert len({box["iv"] for box in boxes}) == len(boxes)
    assert len({box["salt"] for box in boxes}) == 1
    assert {box["iterations"] for box in boxes} == {ITERATIONS}
    assert all(len(base64.b64decode(str(box["iv"]))) == 12 for box in boxes)


@pytest.mark.slow  # builds sites and derives keys (600,000 rounds each): seconds
def test_pages_decrypt_with_the_passphrase_only_and_have_names_only_the_key_makes(encrypted: Path) -> None:
    box = payloads(encrypted)[0]
    page = open_envelope(box, PASSPHRASE).decode("utf-8")
    assert page.startswith("<!doctype html>") and "Brightline Studio" in page
    with pytest.raises(InvalidTag):
        open_envelope(box, "not the passphrase")
    names = sorted(path.relative_to(encrypted).as_posix() for path in encrypted.rglob("*")
                   if path.is_file() and not path.relative_to(encrypted).as_posix().startswith("static/"))
    assert [name for name in names if not re.fullmatch(r"p/[0-9a-f]{32}\.html", name)] == [
        ".plaintext-crm-site", "data.json", "index.html", "robots.txt"]
    assert not (encrypted / "deals").exists()


@pytest.mark.slow  # builds sites and derives keys (600,000 rounds each): seconds
def test_every_page_points_at_the_same_build_and_a_new_build_changes_everything(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    out = tmp_path / "site"
    build_site(root, out, TODAY, passphrase=PASSPHRASE)
    first = (out / "index.html").read_text(encoding="utf-8")
    pages = sorted(path.name for path in (out / "p").iterdir())
    result = build_site(root, out, TODAY, passphrase=PASSPHRASE)
    assert result.reused == 0  # a new salt: nothing of the old build can be kept
    assert (out / "index.html").read_text(encoding="utf-8") != first
    assert sorted(path.name for path in (out / "p").iterdir()) != pages  # names follow the new key
    plain = build_site(root, out, TODAY)  # and a plain build after it reuses nothing encrypted
    assert plain.reused == 0 and "Open pipeline" in (out / "index.html").read_text(encoding="utf-8")


def test_the_passphrase_comes_from_the_environment_or_a_file_never_an_argument(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(ToolError, match="set PLAINTEXT_CRM_SITE_PASSWORD or pass --password-file"):
        read_passphrase(None)
    monkeypatch.setenv(PASSWORD_ENV, "short")
    with pytest.raises(ToolError, match="has 5 characters; use at least 12"):
        read_passphrase(None)
    monkeypatch.setenv(PASSWORD_ENV, PASSPHRASE)
    assert read_passphrase(None) == PASSPHRASE
    secret = tmp_path / "secret"
    secret.write_text("from the file, long enough\nsecond line\n", encoding="utf-8")
    assert read_passphrase(secret) == "from the file, long enough"
    result = CliRunner().invoke(cli, ["build", "--encrypt", "--password", PASSPHRASE])
    assert result.exit_code == 2 and "No such option '--password'" in result.output


@pytest.mark.slow  # builds sites and derives keys (600,000 rounds each): seconds
def test_build_says_calendar_feeds_are_left_out(make_workspace: Callable[..., Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_workspace({"clients/acme.md": "---\nname: Acme\n---\n", "deals/site.md": LEAD})
    monkeypatch.setenv(PASSWORD_ENV, PASSPHRASE)
    result = CliRunner().invoke(cli, ["build", str(root), "--today", EXAMPLE_TODAY, "--encrypt"])
    assert result.exit_code == 0, result.output
    assert "calendar feeds (.ics) are left out" in result.output
    assert not list((root / "site").rglob("*.ics"))
    plain = CliRunner().invoke(cli, ["build", str(root), "--today", EXAMPLE_TODAY, "-o", str(root.parent / "plain")])
    assert plain.exit_code == 0 and list((root.parent / "plain").glob("*.ics"))


@pytest.mark.slow  # builds sites and derives keys (600,000 rounds each): seconds
def test_robots_and_noindex_by_default_and_a_setting_allows_indexing(make_workspace: Callable[..., Path]) -> None:
    files = {"clients/acme.md": "---\nname: Acme\n---\n", "deals/site.md": LEAD}
    closed = make_workspace(files, name="closed")
    build_site(closed, closed / "site", TODAY, use_cache=False)
    assert (closed / "site" / "robots.txt").read_text(encoding="utf-8").endswith("User-agent: *\nDisallow: /\n")
    pages = list((closed / "site").rglob("*.html"))
    assert pages and all('<meta name="robots" content="noindex, nofollow">' in page.read_text(encoding="utf-8")
                         for page in pages)
    indexed = make_workspace(files, config=MINIMAL_CONFIG + "publish: {allow_indexing: true}\n", name="open")
    build_site(indexed, indexed / "site", TODAY, use_cache=False)
    assert (indexed / "site" / "robots.txt").read_text(encoding="utf-8").endswith("Allow: /\n")
    assert "noindex" not in (indexed / "site" / "index.html").read_text(encoding="utf-8")


def test_build_publish_needs_a_publish_setting(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": "---\nname: Acme\n---\n"})
    result = CliRunner().invoke(cli, ["build", str(root), "--today", EXAMPLE_TODAY, "--publish"])
    assert result.exit_code == 2 and "crm.yaml has none" in result.output
    assert not (root / "site").exists()
