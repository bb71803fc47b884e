"""A `plaintext-crm serve` process for the serve tests (plain and in Chromium), and small editing helpers."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.support import EXAMPLE_TODAY, wait_until

DEAL = "deals/kite-finance-mobile-app.md"
DEAL_PAGE = "deals/kite-finance-mobile-app.html"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


class Served:
    """A `plaintext-crm serve` process and its address."""

    def __init__(self, root: Path, port: int, *extra: str) -> None:
        self.root = root
        self.url = f"http://127.0.0.1:{port}/"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "plaintext_crm", "serve", str(root), "--port", str(port), "--today",
             EXAMPLE_TODAY, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.output: list[str] = []
        self.errors: list[str] = []
        self.readers = [threading.Thread(target=lambda s=stream, seen=lines: seen.extend(iter(s.readline, "")),
                                         daemon=True)
                        for stream, lines in ((self.process.stdout, self.output), (self.process.stderr, self.errors))]
        for reader in self.readers:
            reader.start()
        wait_until(lambda: any(line.startswith("Watching") for line in self.output) or self.process.poll() is not None,
                   120, "the first build")
        assert self.process.poll() is None, "".join(self.errors)

    def get(self, rel: str) -> tuple[int, str]:
        return fetch(self.url + rel)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for reader in self.readers:  # the readers end at the pipes' end: all the output is in
            reader.join(timeout=20)
        return self.process.returncode


def edit(root: Path, rel: str, change: Callable[[str], str]) -> None:
    path = root / rel
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def set_value(text: str, value: int) -> str:
    return re.sub(r"^value: .*$", f"value: {value}", text, count=1, flags=re.MULTILINE)


