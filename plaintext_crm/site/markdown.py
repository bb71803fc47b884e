"""Markdown -> HTML for record bodies: markdown-it-py as the reference, markdown-it-pyrs when installed.

Both parsers are built from the "zero" rule set plus an explicit list of rules, so raw HTML
(html_block, html_inline) is never on: both libraries' "commonmark" presets enable it. Links whose
URL the markdown-it validator rejects (javascript:, vbscript:, file:, most data:) stay plain text.
The two renderers give byte-identical HTML for the rules enabled here (tested on a tricky corpus).
Table cells are aligned by class (`align-right`), not by a `style` attribute: pages allow no inline
styles (see security.py). Images are written as the renderers write them; security.finish_page turns
the external ones into links.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import Any

# Block and inline rules shared by both parsers: CommonMark without raw HTML, plus GFM tables,
# strikethrough and task lists. No typographer and no linkify, so both libraries agree exactly.
BLOCK_RULES = ("blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph", "reference",
               "table")
INLINE_RULES = ("autolink", "backticks", "emphasis", "entity", "escape", "image", "link", "newline",
                "strikethrough")
FAST_ENV = "PLAINTEXT_CRM_MARKDOWN"  # "py" forces markdown-it-py even when markdown-it-pyrs is installed

RENDERING_VERSION = "3"  # part of body_key: a change to the HTML written here invalidates cached renderings
_ALIGNMENTS = tuple((f' style="text-align:{side}"', f' class="align-{side}"')
                    for side in ("left", "center", "right"))

Render = Callable[[str], str]

# A task's checkbox shows a state the reader cannot change: disabled, and named so a screen reader says
# what it is (WCAG 4.1.2; both renderers write exactly these two tags).
_TASK_BOXES = (('<input class="task-list-item-checkbox" type="checkbox" checked="" />',
                '<input class="task-list-item-checkbox" type="checkbox" checked="" disabled="" aria-label="Done" />'),
               ('<input class="task-list-item-checkbox" type="checkbox" />',
                '<input class="task-list-item-checkbox" type="checkbox" disabled="" aria-label="To do" />'))


def _finished(html: str) -> str:
    """The renderers' HTML with table alignment as classes and task checkboxes labelled."""
    if "task-list-item-checkbox" in html:
        for bare, labelled in _TASK_BOXES:
            html = html.replace(bare, labelled)
    return _aligned_by_class(html)


def _aligned_by_class(html: str) -> str:
    """Table cells' `style="text-align:..."` (the only style attribute either renderer writes) as a class."""
    if ' style="' not in html:
        return html
    for style, css_class in _ALIGNMENTS:
        html = html.replace(style, css_class)
    return html


def _python_renderer() -> Render:
    """markdown-it-py with the shared rules and a task-list rule rendering like markdown-it-pyrs."""
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

    parser = MarkdownIt("zero", {"html": False, "xhtmlOut": True, "breaks": False, "linkify": False})
    parser.enable([*BLOCK_RULES, *INLINE_RULES])

    def task_lists(state: StateCore) -> None:
        """Turn `- [ ] text` / `- [x] text` list items into checkboxes (GitHub style)."""
        tokens = state.tokens
        for index in range(2, len(tokens)):
            inline = tokens[index]
            if inline.type != "inline" or not inline.children:
                continue
            if tokens[index - 1].type != "paragraph_open" or tokens[index - 2].type != "list_item_open":
                continue
            first = inline.children[0]
            if first.type != "text" or not _is_task(first.content):
                continue
            checked = first.content[1] in "xX"
            first.content = first.content[3:]
            checkbox = Token("html_inline", "", 0)
            checkbox.content = ('<input class="task-list-item-checkbox" type="checkbox" checked="" />' if checked
                                else '<input class="task-list-item-checkbox" type="checkbox" />')
            inline.children.insert(0, checkbox)
            item = tokens[index - 2]
            item.attrSet("class", "task-list-item")
            _mark_list(tokens, index - 2)

    parser.core.ruler.after("inline", "task_lists", task_lists)
    return lambda text: _finished(parser.render(text))


def _is_task(text: str) -> bool:
    return len(text) >= 4 and text[0] == "[" and text[1] in " xX" and text[2] == "]" and text[3] in " \t"


def _mark_list(tokens: Sequence[Any], item_index: int) -> None:
    """Give the list that holds the task item at `item_index` the contains-task-list class."""
    level = tokens[item_index].level - 1
    for index in range(item_index - 1, -1, -1):
        token = tokens[index]
        if token.level == level and token.type in ("bullet_list_open", "ordered_list_open"):
            token.attrSet("class", "contains-task-list")
            return


def _rust_renderer() -> Render | None:
    """markdown-it-pyrs with the same rules, or None when it is not installed."""
    try:
        import markdown_it_pyrs
    except ImportError:
        return None
    parser = markdown_it_pyrs.MarkdownIt("zero")
    parser.enable_many([*BLOCK_RULES, *INLINE_RULES, "tasklist"])  # type: ignore[list-item]  # names: see parity tests
    return lambda text: _finished(parser.render(text, xhtml=True))


_RENDERERS: dict[str, Render] = {}


def renderer(engine: str | None = None) -> tuple[str, Render]:
    """The Markdown renderer to use: ("pyrs", fn) when markdown-it-pyrs is installed, else ("py", fn).

    `engine` ("py" or "pyrs") forces one; so does the PLAINTEXT_CRM_MARKDOWN environment variable.
    """
    wanted = engine or os.environ.get(FAST_ENV) or "auto"
    if wanted not in ("auto", "py", "pyrs"):
        wanted = "auto"
    if wanted in ("auto", "pyrs"):
        if "pyrs" not in _RENDERERS:
            fast = _rust_renderer()
            if fast is not None:
                _RENDERERS["pyrs"] = fast
        if "pyrs" in _RENDERERS:
            return "pyrs", _RENDERERS["pyrs"]
        if wanted == "pyrs":
            raise RuntimeError("markdown-it-pyrs is not installed (pip install 'plaintext-crm[fast]')")
    if "py" not in _RENDERERS:
        _RENDERERS["py"] = _python_renderer()
    return "py", _RENDERERS["py"]


def render_markdown(text: str, engine: str | None = None) -> str:
    """Render one Markdown text to HTML with raw HTML off."""
    return renderer(engine)[1](text)


def body_key(text: str) -> str:
    """The cache key of a body's rendering: a content hash (the renderers agree, so it holds for both)."""
    digest = hashlib.blake2b(RENDERING_VERSION.encode("ascii"), digest_size=16)
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()
