"""Time `plaintext-crm lsp` from a pause in typing to the published diagnostics, over the real process's pipes.

Usage: python benchmarks/bench_lsp.py [--deals 1000 10000] [--edits 20] [--keep DIR]

For each workspace size, a server process is started and a deal opened; then, edit after edit, the
client types into the deal (alternately a client id that exists and one that does not, so the findings
change every time), pauses, and measures the time until diagnostics of that version arrive. Beside it,
in the same run: the floor of one in-process lint of the same workspace (load from memory + rules),
which the server cannot beat, and the ratio of the two. Targets (issue 14): 150 ms at 1,000 deals,
500 ms at 10,000.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls import uris
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_workspace import generate_workspace

TODAY = "2026-11-26"


class Probe:
    """A client that notes when the diagnostics of each document version arrive."""

    def __init__(self) -> None:
        self.client = LanguageClient("bench-lsp", "1")
        self.arrived: dict[tuple[str, int | None], float] = {}
        self.event = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.arrived[(params.uri, params.version)] = time.perf_counter()
            self.event.set()

    async def wait(self, uri: str, version: int, timeout: float = 120.0) -> float:
        deadline = time.monotonic() + timeout
        while (uri, version) not in self.arrived:
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), max(deadline - time.monotonic(), 0.001))
        return self.arrived[(uri, version)]


async def measure(root: Path, edits: int) -> tuple[float, list[float]]:
    """(seconds to the first diagnostics after opening, seconds from each pause to its diagnostics)."""
    probe = Probe()
    await probe.client.start_io(sys.executable, "-m", "plaintext_crm", "lsp")
    await probe.client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=uris.from_fs_path(str(root)),
        initialization_options={"today": TODAY}))
    deal = sorted((root / "deals").iterdir())[len(list((root / "deals").iterdir())) // 2]
    text = deal.read_text(encoding="utf-8")
    client_line = next(index for index, line in enumerate(text.split("\n")) if line.startswith("client:"))
    client_id = text.split("\n")[client_line].split(":", 1)[1].strip()
    uri = uris.from_fs_path(str(deal)) or ""
    started = time.perf_counter()
    probe.client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="markdown", version=1, text=text)))
    first = await probe.wait(uri, 1) - started
    pauses = []
    end = len("client: ") + len(client_id)
    for version in range(2, edits + 2):
        # type one character at the end of the client id (a missing client), or delete it again
        if version % 2 == 0:
            change = types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(client_line, end), types.Position(client_line, end)), text="x")
        else:
            change = types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(client_line, end), types.Position(client_line, end + 1)), text="")
        sent = time.perf_counter()
        probe.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]))
        pauses.append(await probe.wait(uri, version) - sent)
        await asyncio.sleep(0.2)  # the user reads the result before typing on
    await probe.client.shutdown_async(None)
    probe.client.exit(None)
    await probe.client.stop()
    return first, pauses


def in_process_floor(root: Path, repeat: int = 5) -> float:
    """The best time of the rules alone over the loaded workspace: what every analysis has to pay."""
    from plaintext_crm.lint.run import lint_workspace
    from plaintext_crm.records.parse_cache import load_workspace_cached

    workspace, findings = load_workspace_cached(root)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        lint_workspace(workspace, findings, dt.date.fromisoformat(TODAY))
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="generate the workspaces here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = args.keep or Path(folder)
        print(f"{'deals':>6}  {'open':>7}  {'pause->publish median':>21}  {'p90':>7}  {'max':>7}  "
              f"{'lint floor':>10}  {'median/floor':>12}")
        for deals in args.deals:
            root = base / f"ws-{deals}"
            if not (root / "crm.yaml").exists():
                generate_workspace(root, deals, 1)
            first, pauses = asyncio.run(measure(root, args.edits))
            floor = in_process_floor(root)
            ordered = sorted(pauses)
            median = statistics.median(ordered)
            p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
            print(f"{deals:>6}  {first * 1000:>5.0f}ms  {median * 1000:>19.0f}ms  {p90 * 1000:>5.0f}ms  "
                  f"{ordered[-1] * 1000:>5.0f}ms  {floor * 1000:>8.0f}ms  {median / floor:>11.1f}x")


if __name__ == "__main__":
    main()
