"""`serve` and `build --watch` read a changed record the way the loader does: a named pipe saved where a
record goes is a finding, never a read that blocks the rebuild loop forever."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from pathlib import Path

import pytest

from plaintext_crm.site.incremental import IncrementalSite
from tests.support import EXAMPLE


@pytest.mark.parametrize("name", ["deals/pipe.md", "deals/atlas-logistics-tracking-portal.md"])
def test_a_pipe_named_like_a_record_does_not_block_an_update(tmp_path: Path, name: str) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("site", ".plaintext-crm"))
    site = IncrementalSite(root, tmp_path / "site", lambda: dt.date(2026, 11, 26), jobs=1)
    site.build()
    if (root / name).exists():  # saved once, so the update knows its bytes and compares them next time
        (root / name).write_text((root / name).read_text(encoding="utf-8") + "\nMore notes.\n", encoding="utf-8")
        site.update([name])
    (root / name).unlink(missing_ok=True)  # a new name, or a record an editor replaced by a pipe
    os.mkfifo(root / name)
    results = []
    worker = threading.Thread(target=lambda: results.append(site.update([name])), daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():  # unblock the reader so the test process can end, then fail
        with open(root / name, "wb"):
            pass
        worker.join(10)
        raise AssertionError("the update blocked on a named pipe")
    assert results and any(finding.path == name for finding in results[0].problems)
