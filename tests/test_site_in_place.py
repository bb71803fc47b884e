"""A rebuild published in place (plaintext_crm.site.in_place): only rendered pages move in, removed pages go,
a failed move puts the old pages back, and the site always equals a fresh build."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from plaintext_crm.errors import ToolError
from plaintext_crm.records import cache_store
from plaintext_crm.site import builder, in_place
from plaintext_crm.site.builder import MANIFEST, build_site
from plaintext_crm.site.marker import read_marker

TODAY = dt.date(2026, 11, 26)
DEAL = "---\ntitle: Website\nclient: acme\nowner: ana\nstage: proposal\nvalue: 24000\n---\nNotes.\n"


def save(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))


def tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


@pytest.fixture
def root(make_workspace) -> Path:
    files = {f"deals/deal-{index}.md": DEAL.replace("Website", f"Deal {index}") for index in range(4)}
    files["clients/acme.md"] = "---\nname: Acme\n---\n"
    return make_workspace(files)


def test_a_rebuild_moves_in_only_the_rendered_pages(root: Path, tmp_path: Path) -> None:
    out = root / "site"
    build_site(root, out, TODAY, jobs=1)
    folder = out.stat().st_ino
    untouched = (out / "deals" / "deal-3.html").stat().st_ino
    save(root / "deals" / "deal-1.md", DEAL.replace("Website", "Deal 1") + "\nMore notes.\n")
    built = build_site(root, out, TODAY, jobs=1)
    assert built.reused > 0
    assert out.stat().st_ino == folder  # the same folder, updated
    assert (out / "deals" / "deal-3.html").stat().st_ino == untouched
    assert "More notes." in (out / "deals" / "deal-1.html").read_text(encoding="utf-8")
    assert tree(out) == tree(build_site(root, tmp_path / "full", TODAY, use_cache=False).out)
    assert not [name for name in os.listdir(root) if name.startswith(".site-")]


def test_removed_pages_leave_the_site_and_its_marker(root: Path, tmp_path: Path) -> None:
    out = root / "site"
    build_site(root, out, TODAY, jobs=1)
    (root / "deals" / "deal-2.md").unlink()
    build_site(root, out, TODAY, jobs=1)
    assert not (out / "deals" / "deal-2.html").exists()
    marker = read_marker(out)
    assert marker is not None and "deals/deal-2.html" not in marker.files
    assert tree(out) == tree(build_site(root, tmp_path / "full", TODAY, use_cache=False).out)


def test_a_page_deleted_by_hand_is_rendered_again(root: Path, tmp_path: Path) -> None:
    out = root / "site"
    build_site(root, out, TODAY, jobs=1)
    (out / "deals" / "deal-3.html").unlink()
    (out / "static" / "site.css").unlink()
    build_site(root, out, TODAY, jobs=1)
    assert tree(out) == tree(build_site(root, tmp_path / "full", TODAY, use_cache=False).out)


def test_a_failed_move_puts_the_old_pages_back_and_forgets_the_manifest(root: Path, monkeypatch, tmp_path: Path
                                                                          ) -> None:
    out = root / "site"
    build_site(root, out, TODAY, jobs=1)
    before = tree(out)
    save(root / "deals" / "deal-1.md", DEAL.replace("Website", "Deal 1").replace("24000", "30000"))
    real_replace = os.replace
    moves: list[str] = []

    def failing_replace(source: object, target: object) -> None:
        if f"{os.sep}{in_place.BACKUP_FOLDER}{os.sep}" not in str(source) and str(target).endswith(".html"):
            moves.append(str(target))
            if len(moves) == 3:
                raise OSError(28, "No space left on device", str(target))
        real_replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(in_place.os, "replace", failing_replace)
    with pytest.raises(ToolError, match="move the new pages"):
        build_site(root, out, TODAY, jobs=1)
    assert len(moves) == 3
    assert tree(out) == before  # every page of the previous site, as it was
    assert not (cache_store.cache_folder(root) / MANIFEST).exists()  # the next build renders every page
    monkeypatch.setattr(in_place.os, "replace", real_replace)
    again = build_site(root, out, TODAY, jobs=1)
    assert again.reused == 0
    assert tree(out) == tree(build_site(root, tmp_path / "full", TODAY, use_cache=False).out)


def test_a_file_added_to_the_site_during_the_build_is_never_replaced(root: Path, monkeypatch) -> None:
    out = root / "site"
    build_site(root, out, TODAY, jobs=1)
    save(root / "deals" / "deal-5.md", DEAL.replace("Website", "Deal 5"))
    real = builder.static_files

    def and_meanwhile(workspace: Path) -> object:
        (out / "deals" / "deal-5.html").write_text("mine", encoding="utf-8")  # saved by someone mid-build
        return real(workspace)

    monkeypatch.setattr(builder, "static_files", and_meanwhile)
    with pytest.raises(ToolError, match="did not write"):
        build_site(root, out, TODAY, jobs=1)
    assert (out / "deals" / "deal-5.html").read_text(encoding="utf-8") == "mine"


def test_a_manifest_that_cannot_be_deleted_means_a_swapped_in_site(root: Path, monkeypatch, tmp_path: Path) -> None:
    out = root / "site"
    build_site(root, out, TODAY, jobs=1)
    folder = out.stat().st_ino
    monkeypatch.setattr(builder, "_forget_manifest", lambda cache_dir: False)
    save(root / "deals" / "deal-1.md", DEAL.replace("Website", "Deal 1") + "\nMore.\n")
    built = build_site(root, out, TODAY, jobs=1)
    assert built.reused > 0 and out.stat().st_ino != folder  # a new folder, swapped in
    assert tree(out) == tree(build_site(root, tmp_path / "full", TODAY, use_cache=False).out)
