"""Markdown rendering: raw HTML off, unsafe links not links, and markdown-it-py == markdown-it-pyrs."""

from __future__ import annotations

import pytest

from plaintext_crm.records.loader import load_workspace
from plaintext_crm.site.markdown import body_key, render_markdown, renderer
from tests.support import EXAMPLE

pyrs = pytest.importorskip("markdown_it_pyrs", reason="the fast extra (markdown-it-pyrs) is not installed")

TRICKY = [
    "<script>alert(1)</script>",
    "Inline <b>bold</b> and <img src=x onerror=alert(1)> tags",
    "<div>\nblock html\n</div>\n\nafter",
    "<!-- a comment -->\n\ntext",
    "[click](javascript:alert(1)) and [data](data:text/html;base64,PHNjcmlwdD4=) and [vb](vbscript:msgbox)",
    "<javascript:alert(1)> <https://example.com/a?b=c&d=e> <mail@example.com>",
    "[ok](https://example.com \"title\") ![img](pic.png 'alt title') [rel](../deals/x.md)",
    "| a | b |\n|:--|--:|\n| 1 | 2 |\n| `x|y` | **z** |",
    "| only header |\n|---|",
    "- [ ] todo\n- [x] done\n- [X] upper\n  - [ ] nested\n- not a task\n- [ ]\n- [ ]no space",
    "1. [x] ordered task\n2. plain",
    "* loose\n\n* list [ ] x\n\n  continued",
    "> quote\n> - [ ] task in quote",
    "```python\nprint('<b>')\n```\n\n~~~\nfence ~~~\n~~~",
    "    indented code <b>",
    "Setext\n======\n\nSub\n---",
    "# ATX # \n## 2026-11-20 Dated heading\ntext",
    "~~strike~~ ~one~ **bold** *em* _em_ __strong__ `code`",
    "line  \nbreak\\\nbackslash",
    "&amp; &copy; &#x1F600; &nbsp; &bogus;",
    "[ref link][r]\n\n[r]: https://example.com/ref \"Ref\"",
    "\"quotes\" -- dashes ... (c) (tm)",
    "www.example.com and https://bare.example.com are not linkified",
    "***\n---\n___",
    "- a\n- b\n\n\n- c",
    "Ünïcödé — emoji 🎉 and CJK 中文",
    "\\<not html\\> \\*not em\\*",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[a](<url with spaces>) [b](url\\)paren)",
    "",
]


def test_raw_html_is_text() -> None:
    html = render_markdown("<script>alert(1)</script>\n\nhi <b>there</b>", engine="py")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html and "&lt;b&gt;" in html


@pytest.mark.parametrize("engine", ["py", "pyrs"])
def test_javascript_links_are_not_links(engine: str) -> None:
    html = render_markdown("[x](javascript:alert(1)) [y](JAVASCRIPT:alert(1)) <javascript:alert(1)>", engine)
    assert "href" not in html
    assert render_markdown("[ok](https://example.com)", engine) == '<p><a href="https://example.com">ok</a></p>\n'


@pytest.mark.parametrize("engine", ["py", "pyrs"])
def test_tables_and_task_lists(engine: str) -> None:
    html = render_markdown("| a |\n|---|\n| 1 |\n\n- [x] done\n- [ ] todo\n", engine)
    assert "<table>" in html and "<td>1</td>" in html
    assert '<ul class="contains-task-list">' in html
    # read-only boxes, named for screen readers (axe's "label" rule)
    assert ('<input class="task-list-item-checkbox" type="checkbox" checked="" disabled="" aria-label="Done" /> done'
            in html)
    assert '<input class="task-list-item-checkbox" type="checkbox" disabled="" aria-label="To do" /> todo' in html


@pytest.mark.parametrize("text", TRICKY)
def test_both_engines_agree_on_tricky_markdown(text: str) -> None:
    assert render_markdown(text, "pyrs") == render_markdown(text, "py")


def test_both_engines_agree_on_every_example_body() -> None:
    workspace, _ = load_workspace(EXAMPLE)
    records = workspace.records()
    assert len(records) >= 50
    for record in records:
        assert render_markdown(record.body, "pyrs") == render_markdown(record.body, "py"), record.path


def test_fast_engine_is_used_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAINTEXT_CRM_MARKDOWN", raising=False)
    assert renderer()[0] == "pyrs"
    monkeypatch.setenv("PLAINTEXT_CRM_MARKDOWN", "py")
    assert renderer()[0] == "py"


def test_body_key_is_a_content_hash() -> None:
    assert body_key("a") == body_key("a") != body_key("b")
