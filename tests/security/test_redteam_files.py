"""Red-team payloads against the fixed main (issue #11): output folder, writes, templates, caches, failures."""

from __future__ import annotations

import io
import marshal
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plaintext_crm.records import cache_store
from tests.support import EXAMPLE, EXAMPLE_TODAY, REPO

CLI = [sys.executable, "-m", "plaintext_crm"]


def _run(args: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY, **(env or {})}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO, env=full,
                          check=False)


def _example(tmp_path: Path, name: str = "ws") -> Path:
    root = tmp_path / name
    shutil.copytree(EXAMPLE, root)
    return root


def _poison_bytecode(folder: Path, proof: Path) -> int:
    """Replace every compiled template in `folder` by code that creates `proof` (checksums made right)."""
    from jinja2.bccache import bc_magic

    code = compile(f"open({str(proof)!r}, 'w').close()\n", "<planted>", "exec")
    count = 0
    for entry in folder.iterdir():
        payload = cache_store.read_entry(entry, "jinja-bytecode")
        assert payload is not None
        checksum = pickle.load(io.BytesIO(payload[len(bc_magic):]))
        cache_store.write_entry(entry, "jinja-bytecode", bc_magic + pickle.dumps(checksum, 2) + marshal.dumps(code))
        count += 1
    return count


# --- caches: a cache folder configured inside the repository is never used -------------------------------

@pytest.mark.parametrize("variable", ["XDG_CACHE_HOME", "PLAINTEXT_CRM_CACHE_DIR"])
def test_a_cache_folder_inside_the_workspace_is_never_read(tmp_path: Path, variable: str) -> None:
    """CI often points XDG_CACHE_HOME at `$PWD/.cache`: a pull request could then commit compiled templates
    (code) or record caches that the build loads. The tool must not use a cache folder inside the workspace."""
    root = _example(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {variable: str(root / ".cache"), "HOME": str(home)}
    if variable == "PLAINTEXT_CRM_CACHE_DIR":
        env["XDG_CACHE_HOME"] = str(root / ".xdg")
    first = _run(["build", str(root), "-o", str(tmp_path / "site")], env)
    assert first.returncode == 0, first.stderr
    planted = list(root.glob(".cache/**/jinja")) + list(root.glob(".xdg/**/jinja"))
    if planted:  # what an attacker would commit: compiled templates that run code
        proof = tmp_path / "PWNED"
        assert _poison_bytecode(planted[0], proof)
        shutil.rmtree(tmp_path / "site")
        second = _run(["build", str(root), "-o", str(tmp_path / "site")], env)
        assert not proof.exists(), "a compiled template planted in the workspace ran"
        assert second.returncode == 0, second.stderr
    assert not (root / ".cache").exists() and not (root / ".xdg").exists()


def test_a_cache_folder_in_the_git_work_tree_beside_the_workspace_is_never_used(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    root = _example(repo, "crm")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    home = repo / "home"  # even the default cache folder is in the repository: no cache at all
    home.mkdir()
    result = _run(["build", str(root), "-o", str(tmp_path / "site")],
                  {"XDG_CACHE_HOME": str(repo / ".cache"), "HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert not (repo / ".cache").exists() and not (home / ".cache").exists()
    assert "internal error" not in result.stderr


def test_the_default_cache_folder_is_used_instead_of_one_in_the_workspace(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = _example(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / ".cache"))
    folder = cache_store.cache_folder(root)
    assert folder.parent == tmp_path / "home" / ".cache" / "plaintext-crm" and folder.is_dir()
    monkeypatch.setenv("PLAINTEXT_CRM_CACHE_DIR", str(root / "deals" / "..") + "/x")
    assert cache_store.cache_folder(root).parent == tmp_path / "home" / ".cache" / "plaintext-crm"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # the next choice when the explicit one is inside
    assert cache_store.cache_folder(root).parent == tmp_path / "xdg" / "plaintext-crm"


# --- templates: a template that loops for ever is stopped, with its file and line --------------------------

NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


def test_a_site_template_that_loops_for_ever_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from plaintext_crm import template_sandbox
    from plaintext_crm.cli import cli

    monkeypatch.setattr(template_sandbox, "RENDER_SECONDS", 1.0, raising=False)
    root = _example(tmp_path)
    (root / "site-templates").mkdir()
    (root / "site-templates" / "_footer.html").write_text("ok\n" + NESTED_LOOPS, encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(tmp_path / "site"), "--today", EXAMPLE_TODAY,
                                      "--jobs", "1"])
    assert result.exit_code == 2, result.output
    assert "site-templates/_footer.html:2:" in result.output and "1 s" in result.output
    assert not (tmp_path / "site").exists()


def test_a_record_template_that_loops_for_ever_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from plaintext_crm import template_sandbox
    from plaintext_crm.cli import cli

    monkeypatch.setattr(template_sandbox, "RENDER_SECONDS", 1.0, raising=False)
    root = _example(tmp_path)
    (root / "templates").mkdir()
    (root / "templates" / "client.md").write_text(f"---\nname: {{{{ name }}}}\n---\n{NESTED_LOOPS}\n",
                                                   encoding="utf-8")
    result = CliRunner().invoke(cli, ["new", "client", "evil-loop", str(root), "--owner", "sam",
                                      "--today", EXAMPLE_TODAY])
    assert result.exit_code == 2, result.output
    assert "templates/client.md:4:" in result.output
    assert not (root / "clients" / "evil-loop.md").exists()


@pytest.mark.parametrize("payload", [
    '{{ ("x"|center(1200000000))|length }}',
    '{{ ("%1200000000s"|format(1))|length }}',
    '{{ "x".ljust(1200000000)|length }}',
    ('{% set ns = namespace(s="x") %}{% for i in range(31) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}'
     '{{ ns.s|length }}'),
])
def test_a_site_template_building_a_huge_value_is_stopped(tmp_path: Path, payload: str) -> None:
    """The sandbox bounds `*` and `**`; filters, str methods, `%` and `~` build huge values too: every
    render has bounded memory, and running out is the template's error, not the machine's."""
    root = _example(tmp_path)
    (root / "site-templates").mkdir()
    (root / "site-templates" / "_footer.html").write_text(payload, encoding="utf-8")
    result = _run(["build", str(root), "-o", str(tmp_path / "site"), "--jobs", "1"])
    assert result.returncode == 2, result.stderr
    assert "site-templates/_footer.html:1: the template needs more than" in result.stderr
    assert "internal error" not in result.stderr and not (tmp_path / "site").exists()


# --- the site kept up to date (watch, serve): a folder of the user's where a page goes -------------------

def test_a_folder_where_a_watched_page_goes_is_kept_and_explained(tmp_path: Path) -> None:
    """A user's folder named like a page (deals/x.html/) made every later update fail with a raw
    IsADirectoryError, for ever: a deleted record's page is not the tool's to delete when it is a folder,
    and a page that would replace a folder is refused with a message saying what to do."""
    import datetime as dt

    from plaintext_crm.errors import ToolError
    from plaintext_crm.site.incremental import IncrementalSite

    root = _example(tmp_path)
    out = tmp_path / "site"
    site = IncrementalSite(root, out, lambda: dt.date(2026, 11, 26), jobs=1)
    site.build()
    for name in ("atlas-logistics-dashboard", "atlas-logistics-intranet"):
        (out / "deals" / f"{name}.html").unlink()
        (out / "deals" / f"{name}.html").mkdir()
        (out / "deals" / f"{name}.html" / "mine.txt").write_text("keep", encoding="utf-8")
    (root / "deals" / "atlas-logistics-dashboard.md").unlink()
    site.update(["deals/atlas-logistics-dashboard.md"])  # the page is gone: the user's folder stays
    assert (out / "deals" / "atlas-logistics-dashboard.html" / "mine.txt").read_text(encoding="utf-8") == "keep"
    with (root / "deals" / "atlas-logistics-intranet.md").open("a", encoding="utf-8") as stream:
        stream.write("\nA note.\n")
    with pytest.raises(ToolError, match="is a folder that plaintext-crm did not write"):
        site.update(["deals/atlas-logistics-intranet.md"])
    assert (out / "deals" / "atlas-logistics-intranet.html" / "mine.txt").read_text(encoding="utf-8") == "keep"


# --- init: nothing it creates goes through a link ------------------------------------------------------------

@pytest.mark.parametrize("name", ["templates", "crm.yaml", ".pre-commit-config.yaml", "deals"])
def test_init_refuses_a_link_where_it_writes(tmp_path: Path, name: str) -> None:
    """`templates -> ~/elsewhere` in a folder made init write client.md, deal.md... into the other folder;
    a dangling link gave 'File exists ... check the disk space'. Every such link is refused, by name."""
    outside = tmp_path / "outside"
    outside.mkdir()
    directory = tmp_path / "new"
    directory.mkdir()
    (directory / name).symlink_to(outside if name == "templates" else outside / "missing")
    result = _run(["init", str(directory), "--no-git"])
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{name} is a symbolic link" in result.stderr
    assert list(outside.iterdir()) == []
