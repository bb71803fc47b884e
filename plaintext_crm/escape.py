"""Escaping user text for each syntax the tool writes: terminal lines, JSON, Markdown, RFC 5545, GitHub annotations.

Names of files and values of fields are data written by many hands: any of them may hold a line break,
an ANSI/OSC escape sequence, a bidi override or HTML. Every output escapes for its own syntax here, in
one place, so a value can never forge a line, an event, markup or a terminal command.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from typing import Any

# Unicode categories no output shows raw: controls (C0, DEL, C1), format characters (bidi embeddings,
# overrides and isolates, zero-width characters, tag characters, BOM), lone surrogates (bytes of a file
# name that were not UTF-8), and the line and paragraph separators some programs treat as line breaks.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# The same characters as one class (Unicode 15.1, a superset of what older Pythons know), so that
# long texts are scanned in C; tests/security/test_output_escaping.py holds it to unicodedata.
_HIDDEN_NON_ASCII = ("\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
                     "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd"
                     "\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
                     "\U000e0020-\U000e007f")
HIDDEN = re.compile(f"[\x00-\x1f{_HIDDEN_NON_ASCII}]")
_JSON_HIDDEN = re.compile(f"[{_HIDDEN_NON_ASCII}]")  # json.dumps escapes C0 itself
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def is_hidden(char: str) -> bool:
    """Whether one character is a control, format (bidi, zero-width), surrogate or line/paragraph separator."""
    return unicodedata.category(char) in HIDDEN_CATEGORIES


def visible(char: str) -> str:
    """A hidden character as a visible escape: \\n, \\r, \\t, \\x1b, \\u202e, \\udcff, \\U000e0041."""
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _visible_match(match: re.Match[str]) -> str:
    return visible(match.group())


def terminal(text: str) -> str:
    """One line of terminal text: every hidden character (line breaks included) shown as an escape.

    Nothing in the result can move the cursor, set a title, ring the bell, reorder text or start a new
    line, so a value printed this way is always exactly where it seems to be.
    """
    if text.isprintable():  # the common case: no control, format or separator character at all
        return text
    return HIDDEN.sub(_visible_match, text)


def terminal_lines(text: str) -> str:
    """Multi-line terminal text (an error message, a diff): like `terminal`, but line breaks stay."""
    return "\n".join(terminal(line) for line in text.split("\n"))


def _json_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON writes a character outside the BMP as a UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_dumps(value: Any, indent: int | None = 2) -> str:
    """JSON that keeps non-ASCII text readable but writes every hidden character as a \\u escape.

    json.dumps escapes C0 controls only; DEL, C1 controls, bidi overrides and lone surrogates would
    reach the terminal (or fail to encode). They occur only inside strings, where \\uXXXX means the same.
    """
    return json_hidden(json.dumps(value, indent=indent, ensure_ascii=False))


def json_hidden(text: str) -> str:
    """JSON text (from json.dumps with ensure_ascii=False) with every hidden character as a \\u escape."""
    if text.isascii():  # known without a scan (a flag of the string): of ASCII, only DEL is hidden
        if "\x7f" not in text:
            return text
    elif text.replace("\n", "").isprintable():  # the common case, checked in C: nothing to escape
        return text
    return _JSON_HIDDEN.sub(_json_char, text)


def file_name_part(name: str) -> str:
    """A record id as part of a file name the site writes (`deals/<part>.html`).

    A printable id without `%` is kept as it is (its link is URL-quoted as usual). Otherwise every hidden
    character (a line break, an escape, a bidi override, a byte that was not UTF-8) and `%` itself are
    percent-encoded from their UTF-8 bytes, so no page name holds a control character or undecodable
    byte, and distinct ids keep distinct pages.
    """
    if name.isprintable() and "%" not in name:
        return name
    return "".join(char if char != "%" and not is_hidden(char)
                   else "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogateescape"))
                   for char in name)


# ---------------------------------------------------------------- RFC 5545

_ICS_SAFE_ID = re.compile(r"[A-Za-z0-9._-]+")
_ICS_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")
# Dropped from TEXT: controls (tab aside: TSAFE-CHAR allows it) and the bidi marks, embeddings,
# overrides and isolates that make a calendar show text in another order than it is written.
_ICS_DROPPED = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def ics_text(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, `;` and `,` escaped, every line break written `\\n`,
    other control characters and bidi overrides dropped, undecodable bytes as U+FFFD."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    if text.isprintable():  # the common case: no line break, control, bidi or surrogate character
        return text
    text = _ICS_LINE_BREAK.sub("\\\\n", text)
    text = _ICS_DROPPED.sub("", text)
    return _SURROGATE.sub("\ufffd", text)  # a byte that was not UTF-8: the feed stays valid UTF-8


def ics_uid(deal_id: str) -> str:
    """The UID of a deal's follow-up event: stable, unique per id, and made of safe characters only.

    Ids of letters, digits, `.`, `_` and `-` keep the UID they always had; any other character is
    percent-encoded from its UTF-8 bytes (the `%` itself too), so distinct ids keep distinct UIDs.
    """
    if _ICS_SAFE_ID.fullmatch(deal_id):
        return f"followup-{deal_id}@plaintext-crm"
    encoded = "".join(chr(byte) if _ICS_SAFE_ID.fullmatch(chr(byte)) else f"%{byte:02X}"
                      for byte in deal_id.encode("utf-8", "surrogateescape"))
    return f"followup-{encoded}@plaintext-crm"


# ---------------------------------------------------------------- Markdown (GitHub PR comments, CI summaries)

_MD_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")
# Characters Markdown (with GFM tables, strikethrough and GitHub's math) may read as markup inside a line.
_MD_ACTIVE = re.compile(r"[\\`*_\[\]!~$#]")
_MD_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def markdown_text(text: str) -> str:
    """Inline Markdown text that renders as exactly `text`: no HTML, no emphasis, link, image or code,
    safe in a GFM table cell (`|` as an entity, line breaks as spaces, hidden characters as escapes)."""
    text = terminal(_MD_LINE_BREAK.sub(" ", text))
    text = _MD_ACTIVE.sub(r"\\\g<0>", text)  # before the entities, whose '#' must stay as it is
    text = html.escape(text, quote=True)  # & < > " ' as entities: no raw HTML can survive
    # A table splits its rows at '|' before reading entities or backslashes in any renderer.
    return text.replace("|", "&#124;")


def markdown_code(text: str) -> str:
    """An id as inline code when it is a plain id; anything else as escaped text (a code span cannot
    hold a `|` in a table the same way on every renderer, nor a line break)."""
    if _MD_SAFE_CODE.fullmatch(text):
        return f"`{text}`"
    return markdown_text(text)


# ---------------------------------------------------------------- GitHub workflow commands


def workflow_data(text: str) -> str:
    """The message of a workflow command (`::error ...::message`): hidden characters made visible,
    then `%`, CR and LF escaped as GitHub reads them, so the message is one line of the log."""
    return terminal(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A property value of a workflow command (`file=...`, `title=...`): also `:` and `,` escaped."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")
