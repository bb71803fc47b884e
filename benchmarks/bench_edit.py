"""Edit fidelity and speed: plaintext-crm's text edit versus a ruamel.yaml round trip, on the same files.

For every record of workspace-example, and for variants a person might write (CRLF endings, lists
indented differently, extra spaces after colons, `~` for empty, comments at the end of lines), set
`next_action` and count the files in which any byte outside that key changed. Then time both.
Run: python benchmarks/bench_edit.py
"""

from __future__ import annotations

import io
import re
import sys
import time
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plaintext_crm.editing.edit import edit_front_matter
from plaintext_crm.records.frontmatter import split_front_matter

NEW_ACTION = "Call: the client #2"


def variants(text: str) -> dict[str, str]:
    """The file as written, and as other people (or editors) might have written it."""
    return {
        "as written": text,
        "CRLF": text.replace("\n", "\r\n"),
        "a list at column 0": re.sub(r"(?m)^(source: .*)$", r"\1\ntags:\n- web\n- brand", text, count=1),
        "spaces after colons": re.sub(r"(?m)^(title|client|owner):", r"\1:   ", text),
        "~ and end-of-line comments": re.sub(r"(?m)^(source: .*)$", r"\1   # where it came from\nlost_reason: ~",
                                             text, count=1),
    }


def ruamel_edit(text: str) -> str:
    """Set next_action with a ruamel.yaml round trip, tuned as well as it can be for these files."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    front, body, _line = split_front_matter(text)  # type: ignore[misc]
    data = yaml.load(front)
    data["next_action"] = NEW_ACTION
    out = io.StringIO()
    yaml.dump(data, out)
    head = text.splitlines(keepends=True)[0]
    return head + out.getvalue() + "---" + ("\r\n" if "\r\n" in text else "\n") + body


def outside_key_changed(before: str, after: str) -> bool:
    """True when a line other than next_action's differs (the line itself may change)."""
    old = [line for line in before.splitlines(keepends=True) if not line.startswith("next_action:")]
    new = [line for line in after.splitlines(keepends=True) if not line.startswith("next_action:")]
    return old != new


def main() -> None:
    files = sorted((ROOT / "workspace-example" / "deals").glob("*.md"))
    texts = [path.read_text(encoding="utf-8") for path in files]
    texts = [text for text in texts if "\nnext_action:" in text]
    print(f"{len(texts)} deals with a next_action in workspace-example, 5 variants each\n")
    print(f"{'variant':28} {'text edit: files changed elsewhere':>36} {'ruamel: files changed elsewhere':>33}")
    for name in variants("x"):
        ours = theirs = 0
        for text in texts:
            variant = variants(text)[name]
            ours += outside_key_changed(variant, edit_front_matter(variant, {"next_action": NEW_ACTION}))
            theirs += outside_key_changed(variant, ruamel_edit(variant))
        print(f"{name:28} {ours:>27} of {len(texts):<6} {theirs:>24} of {len(texts):<6}")
    timings = {}
    for label, function in (("text edit (parse, edit, re-parse and verify)",
                             lambda t: edit_front_matter(t, {"next_action": NEW_ACTION})),
                            ("ruamel round trip (parse, edit, dump)", ruamel_edit)):
        start = time.perf_counter()
        rounds = 5
        for _ in range(rounds):
            for text in texts:
                function(text)
        timings[label] = (time.perf_counter() - start) / (rounds * len(texts))
        print(f"{label:46} {timings[label] * 1000:6.2f} ms per edit")
    ours, theirs = timings.values()
    print(f"ratio ruamel / text edit: {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
