"""What a site page may load: its Content-Security-Policy and referrer metas, and external images as links.

A page of the site shows notes that anyone on the team (or a client, through an imported e-mail) wrote.
`finish_page` runs on every rendered page, whoever wrote its template:
- adds `<meta http-equiv="Content-Security-Policy">` (nothing from elsewhere: `default-src 'self'`, images
  also from `data:`, scripts only from the site's files and the page's own inline scripts, by hash) and
  `<meta name="referrer" content="no-referrer">` at the top of `<head>`;
- turns every image of a note whose address is on another site into a link to it (a live `<img>` would
  tell that site who opened the page, and when), unless crm.yaml says `external_images: true`; then
  the policy allows images from http(s) too.
`allow_inline` widens a page's policy for scripts and styles added after the build (serve's live reload).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable

from plaintext_crm.escape import visible

REFERRER_META = '<meta name="referrer" content="no-referrer">'
CSP_META = '<meta http-equiv="Content-Security-Policy" content="{policy}">'
EXTERNAL_IMAGE_SOURCES = ("https:", "http:")

_HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_CHARSET = re.compile(r"\s*<meta\s+charset=[^>]*>", re.IGNORECASE)
_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_STYLE = re.compile(r"<style(?:\s[^>]*)?>(?P<body>.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_SRC_ATTR = re.compile(r"\ssrc\s*=", re.IGNORECASE)
_TYPE_ATTR = re.compile(r"""\stype\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_SCRIPT_TYPES = {"", "module", "text/javascript", "application/javascript", "application/ecmascript",
                 "text/ecmascript", "application/x-javascript", "text/jscript"}
_POLICY_META = re.compile(rb'<meta http-equiv="Content-Security-Policy" content="(?P<policy>[^"]*)">')
# An image as both Markdown renderers write it (raw HTML is off in notes, so only images write this),
# and the links around images, to know whether an image is already inside a link.
_IMAGE_OR_LINK = re.compile(r'<img src="(?P<src>[^"]*)" alt="(?P<alt>[^"]*)"(?: title="(?P<title>[^"]*)")? />'
                            r"|<a[\s>]|</a>")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


def policy(inline_scripts: Iterable[str] = (), *, external_images: bool = False) -> str:
    """The Content-Security-Policy of a page whose inline scripts are `inline_scripts` (their text)."""
    images = " ".join(("'self'", "data:", *(EXTERNAL_IMAGE_SOURCES if external_images else ())))
    scripts = " ".join(("'self'", *dict.fromkeys(source_hash(text) for text in inline_scripts)))
    return (f"default-src 'self'; img-src {images}; style-src 'self'; script-src {scripts}; object-src 'none'; "
            "base-uri 'none'; form-action 'none'")


def source_hash(text: str) -> str:
    """A CSP source expression allowing the inline script or style whose text is `text`."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def inline_scripts(page: str) -> list[str]:
    """The text of every inline script the browser would run (not `src=` ones, not JSON data blocks)."""
    scripts = []
    for match in _SCRIPT.finditer(page):
        attrs = match.group("attrs")
        if _SRC_ATTR.search(attrs):
            continue
        kind = _TYPE_ATTR.search(attrs)
        if kind is not None and (next(value for value in kind.groups() if value is not None).strip().lower()
                                 not in _SCRIPT_TYPES):
            continue
        scripts.append(match.group("body"))
    return scripts


def inline_styles(text: str) -> list[str]:
    """The text of every `<style>` element in `text`."""
    return [match.group("body") for match in _STYLE.finditer(text)]


# Characters no page shows raw (templates never write them; they come from field values or file names):
# C0 and C1 controls but tab and line breaks, bidi embeddings, overrides and isolates (a title that reads
# backwards), and lone surrogates (bytes of a file name that were not UTF-8). Joiners and marks stay:
# emoji and scripts need them.
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    return visible(match.group())


def finish_page(page: str, *, external_images: bool = False) -> str:
    """A rendered HTML page with its policy and referrer metas, external images as links (unless allowed),
    and hidden characters of field values shown as escapes (`\\u202e`).

    Text without a `<head>` (a partial, a fragment) is returned as it is.
    """
    head = _HEAD.search(page, 0, 4096)
    if head is None:
        return page
    if _HIDDEN.search(page):
        page = _HIDDEN.sub(_visible, page)
    if not external_images and "<img " in page:
        page = external_images_as_links(page)
    policy_text = policy(inline_scripts(page), external_images=external_images)
    at = head.end()
    charset = _CHARSET.match(page, at)
    if charset is not None:  # <meta charset> stays first, where browsers look for it
        at = charset.end()
    return page[:at] + "\n" + CSP_META.format(policy=policy_text) + "\n" + REFERRER_META + page[at:]


def is_external(url: str) -> bool:
    """Whether an image address (as written in an HTML attribute) makes the browser ask another site:
    anything with a scheme but `data:` (http:, https:, HTTPS:, ftp:...), and scheme-relative `//host`."""
    # As a browser reads it: entities decoded, tabs and newlines dropped, leading controls and spaces too.
    address = html.unescape(url).replace("\t", "").replace("\n", "").replace("\r", "").lstrip(_C0_AND_SPACE)
    if address[:2] in ("//", "\\\\", "/\\", "\\/"):
        return True
    scheme = _SCHEME.match(address)
    return scheme is not None and scheme.group(0).lower() != "data:"


def external_images_as_links(page: str) -> str:
    """Every note image with an external address as a link to it (as text when already inside a link)."""
    parts: list[str] = []
    depth = 0
    last = 0
    for match in _IMAGE_OR_LINK.finditer(page):
        token = match.group(0)
        if token.startswith("</a"):
            depth = max(depth - 1, 0)
            continue
        if token.startswith("<a"):
            depth += 1
            continue
        src, alt, title = match.group("src"), match.group("alt"), match.group("title")
        if not is_external(src):
            continue
        text = alt or src
        title_attr = f' title="{title}"' if title else ""
        parts.append(page[last:match.start()])
        if depth:  # the link around it leads elsewhere; the image's own address shows on hover
            parts.append(f'<span class="external-image" title="{title or src}">{text}</span>')
        else:
            parts.append(f'<a class="external-image" href="{src}"{title_attr}>{text}</a>')
        last = match.end()
    if not parts:
        return page
    parts.append(page[last:])
    return "".join(parts)


def allow_inline(page: bytes, *, scripts: Iterable[str] = (), styles: Iterable[str] = ()) -> bytes:
    """`page` with its policy meta allowing these inline scripts and style elements too (by hash)."""
    match = _POLICY_META.search(page, 0, 8192)  # the meta is at the top of <head>
    if match is None:
        return page
    directives = [part.strip() for part in match.group("policy").decode("ascii").split(";") if part.strip()]
    extra = {"script-src": [source_hash(script) for script in scripts],
             "style-src": [source_hash(style) for style in styles]}
    widened = []
    for directive in directives:
        added = extra.pop(directive.split(" ", 1)[0], [])
        widened.append(" ".join((directive, *added)))
    widened.extend(" ".join((name, "'self'", *added)) for name, added in extra.items() if added)
    meta = CSP_META.format(policy="; ".join(widened)).encode("ascii")
    return page[:match.start()] + meta + page[match.end():]
