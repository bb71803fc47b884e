"""Example-based tests of edit.py and atomic.py: exact text edits, refusals, atomic writes, conflicts, rollback."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest

from plaintext_crm.editing import edit
from plaintext_crm.editing.atomic import read_text, write_atomic
from plaintext_crm.editing.edit import (
    REMOVE,
    EditError,
    FileChange,
    apply_changes,
    edit_front_matter,
    new_file,
    plan_edit,
    render_inline,
)
from plaintext_crm.records.model import DEAL_KEYS

HAND_WRITTEN = (
    "---\r\n"
    "# Deal notes kept by Ana\r\n"
    "title:   'Website: relaunch'   # the client's words\r\n"
    "client: acme\r\n"
    "stage: proposal\r\n"
    "tags: [web, 'brand']\r\n"
    "next_action: \"Call Jane\"  # after the board\r\n"
    "next_action_due: 2026-11-20\r\n"
    "key_constraints:\r\n"
    "- Launch before March\r\n"
    "# keep this one\r\n"
    "- Budget 'fixed'\r\n"
    "budget_holder: ~\r\n"
    "---\r\n"
    "Body with a rule\r\n"
    "---\r\n"
    "and no trailing newline"
)


def test_only_the_value_of_the_edited_key_changes() -> None:
    result = edit_front_matter(HAND_WRITTEN, {"next_action": "Send proposal v2", "next_action_due": dt.date(2026, 12, 1)})
    expected = HAND_WRITTEN.replace('"Call Jane"', "Send proposal v2").replace("2026-11-20", "2026-12-01")
    assert result == expected


def test_new_keys_follow_the_canonical_order_with_the_files_line_endings() -> None:
    result = edit_front_matter(HAND_WRITTEN, {"stage_since": dt.date(2026, 11, 26), "project": "acme-web"},
                               order=DEAL_KEYS)
    assert "next_action_due: 2026-11-20\r\nstage_since: 2026-11-26\r\nkey_constraints:" in result
    assert result.endswith("- Budget 'fixed'\r\nproject: acme-web\r\nbudget_holder: ~\r\n---\r\nBody with a rule\r\n---\r\n"
                           "and no trailing newline")


def test_lists_keep_their_indentation_and_odd_values_are_quoted() -> None:
    result = edit_front_matter(HAND_WRITTEN, {"key_constraints": ["NO", "a: b", "Launch before March"],
                                              "tags": ["x, y"], "title": "012"})
    assert "key_constraints:\r\n- 'NO'\r\n- 'a: b'\r\n- Launch before March\r\nbudget_holder" in result
    assert "tags: ['x, y']\r\n" in result
    assert "title:   '012'   # the client's words\r\n" in result


def test_remove_and_empty_values() -> None:
    result = edit_front_matter(HAND_WRITTEN, {"budget_holder": REMOVE, "client": None, "missing": REMOVE})
    assert "budget_holder" not in result
    assert "client:\r\nstage: proposal" in result


def test_multiline_text_is_one_double_quoted_line() -> None:
    assert render_inline("two\nlines") == '"two\\nlines"'
    assert render_inline("no") == "'no'"
    assert render_inline(dt.date(2026, 1, 2)) == "2026-01-02"
    assert render_inline(["a", 1, dt.date(2026, 1, 2)]) == "[a, 1, 2026-01-02]"


@pytest.mark.parametrize("text, message", [
    ("---\na: &x 1\nb: *x\n---\n", "alias"),
    ("---\n{a: 1, b: 2}\n---\n", "flow"),
    ("no front matter\n", "no front matter"),
    ("---\na: [1\n---\n", "YAML"),
])
def test_files_it_cannot_edit_safely_are_refused(text: str, message: str) -> None:
    with pytest.raises(EditError, match=message):
        edit_front_matter(text, {"b": 2, "c": 3}, where="deals/x.md")


def test_a_value_shared_through_an_anchor_is_not_changed_behind_the_users_back() -> None:
    with pytest.raises(EditError, match="anchor"):
        edit_front_matter("---\na: &x 1\nb: *x\n---\n", {"a": 2})


def test_bom_and_an_empty_front_matter() -> None:
    assert edit_front_matter("\ufeff---\n---\nbody\n", {"title": "X"}) == "\ufeff---\ntitle: X\n---\nbody\n"


def _deal(tmp_path: Path, mode: int = 0o640) -> Path:
    path = tmp_path / "deals" / "web.md"
    path.parent.mkdir()
    path.write_bytes(HAND_WRITTEN.encode("utf-8"))
    path.chmod(mode)
    return path


def test_plan_and_apply_keep_mode_and_bytes_and_leave_no_temporary_file(tmp_path: Path) -> None:
    path = _deal(tmp_path)
    change = plan_edit(tmp_path, "deals/web.md", {"next_action_due": dt.date(2026, 12, 1)})
    assert change.summary == ("next_action_due: 2026-11-20 -> 2026-12-01",)
    assert "-next_action_due: 2026-11-20" in change.diff() and "+next_action_due: 2026-12-01" in change.diff()
    apply_changes([change])
    assert path.read_bytes() == HAND_WRITTEN.replace("2026-11-20", "2026-12-01").encode("utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(entry.name for entry in path.parent.iterdir()) == ["web.md"]


def test_a_file_changed_between_read_and_write_is_not_overwritten(tmp_path: Path) -> None:
    path = _deal(tmp_path)
    change = plan_edit(tmp_path, "deals/web.md", {"next_action": "Call"})
    path.write_bytes(path.read_bytes() + b"\r\nSomeone else's note")  # an editor saves meanwhile
    with pytest.raises(EditError, match="changed on disk"):
        apply_changes([change])
    assert path.read_bytes().endswith(b"Someone else's note")
    assert sorted(entry.name for entry in path.parent.iterdir()) == ["web.md"]


def test_same_size_rewrite_is_detected_by_the_hash(tmp_path: Path) -> None:
    path = _deal(tmp_path)
    _text, stamp = read_text(tmp_path, "deals/web.md")
    before = path.stat()
    path.write_bytes(HAND_WRITTEN.replace("acme", "acmf").encode("utf-8"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(EditError, match="changed on disk"):
        write_atomic(tmp_path, "deals/web.md", b"x", stamp)


def test_new_files_are_never_overwritten(tmp_path: Path) -> None:
    change = new_file(tmp_path, "projects/web.md", "---\ntitle: W\n---\n")
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "web.md").write_text("theirs")
    with pytest.raises(EditError, match="created by someone else"):
        apply_changes([change])
    assert (tmp_path / "projects" / "web.md").read_text() == "theirs"
    with pytest.raises(EditError, match="already exists"):
        new_file(tmp_path, "projects/web.md", "x")


def test_new_files_get_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    apply_changes([new_file(tmp_path, "clients/a.md", "---\nname: A\n---\n")])
    assert stat.S_IMODE((tmp_path / "clients" / "a.md").stat().st_mode) == 0o666 & ~umask


def test_a_failed_second_write_undoes_the_first(tmp_path: Path) -> None:
    path = _deal(tmp_path)
    created = new_file(tmp_path, "projects/web.md", "---\ntitle: W\n---\n")
    change = plan_edit(tmp_path, "deals/web.md", {"project": "web"})
    path.write_bytes(path.read_bytes() + b"!")
    with pytest.raises(EditError):
        apply_changes([created, change])
    assert not (tmp_path / "projects" / "web.md").exists()


def test_a_symlinked_record_is_not_read_or_written_through_the_link(tmp_path: Path) -> None:
    # A link would give one file two ids; tests/security/test_write_paths.py has the hostile cases.
    real = _deal(tmp_path)
    (tmp_path / "deals" / "link.md").symlink_to(real)
    text, stamp = read_text(tmp_path, "deals/web.md")
    with pytest.raises(EditError, match=r"deals/link.md is a symbolic link \(to .*deals/web.md in the workspace\)"):
        read_text(tmp_path, "deals/link.md")
    with pytest.raises(EditError, match="symbolic link"):
        write_atomic(tmp_path, "deals/link.md", edit_front_matter(text, {"client": "globex"}).encode(), stamp)
    assert real.read_bytes() == HAND_WRITTEN.encode("utf-8")


def test_undecodable_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(b"---\ntitle: x\nowner: Jos\xe9\n---\n")
    with pytest.raises(EditError, match=r"bad.md:3: not valid UTF-8"):
        read_text(tmp_path, "bad.md")


def test_filechange_diff_of_a_new_file() -> None:
    change = FileChange(Path("."), "clients/a.md", None, "---\nname: A\n---\n", None)
    assert change.diff().splitlines()[:3] == ["--- /dev/null", "+++ b/clients/a.md", "@@ -0,0 +1,3 @@"]
    assert edit.show("x ") == "'x '"
