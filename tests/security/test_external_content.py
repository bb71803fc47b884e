"""No page asks another site for anything (issue 11, "External content").

Images of notes on other sites become links (crm.yaml `external_images: true` allows them), every page
carries a Content-Security-Policy meta (nothing from elsewhere, inline scripts by hash, no inline styles)
and `referrer: no-referrer`; serve's injected script and banner are allowed by hash. The browser tests
open the site over http:// and file:// and watch every request and every policy violation.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from plaintext_crm.cli import cli
from plaintext_crm.lint.run import run_lint
from plaintext_crm.site.builder import build_site
from plaintext_crm.site.markdown import render_markdown
from plaintext_crm.site.security import finish_page, is_external
from plaintext_crm.site.serve import LiveReload, inject
from plaintext_crm.site.watch import BuildProblem
from tests.support import EXAMPLE, EXAMPLE_TODAY, static_server

TODAY = dt.date.fromisoformat(EXAMPLE_TODAY)
LOCAL_STATE = shutil.ignore_patterns(".plaintext-crm", "site")  # a checkout's own caches and build
POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
          "base-uri 'none'; form-action 'none'")
META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')

# Markdown whose image would make the browser ask another site; (text, the address it asks).
EXTERNAL = [
    ("![](https://tracker.example/p.gif)", "https://tracker.example/p.gif"),
    ("![pixel](//tracker.example/p.gif)", "//tracker.example/p.gif"),
    ("![x](http:tracker.example/p.gif)", "http:tracker.example/p.gif"),
    ("![x](HTTPS://TRACKER.EXAMPLE/P.GIF)", "HTTPS://TRACKER.EXAMPLE/P.GIF"),
    ("![x](hTtP://tracker.example/p.gif)", "hTtP://tracker.example/p.gif"),
    ("![x](ftp://tracker.example/p.gif)", "ftp://tracker.example/p.gif"),
    ("![x](&#104;ttps://tracker.example/entity.gif)", "https://tracker.example/entity.gif"),
    ("![x][pixel]\n\n[pixel]: https://tracker.example/ref.gif", "https://tracker.example/ref.gif"),
    ("![x][]\n\n[x]: <//tracker.example/ref2.gif> \"t\"", "//tracker.example/ref2.gif"),
    ("![a \"quoted\" <alt>](https://tracker.example/q.gif?a=1&b=2 'title https://t.example/')",
     "https://tracker.example/q.gif?a=1&amp;b=2"),
    ("[![in a link](https://tracker.example/in-link.gif)](https://example.com/)",
     "https://tracker.example/in-link.gif"),
    ("![![nested](https://tracker.example/n.gif)](https://tracker.example/outer.gif)",
     "https://tracker.example/outer.gif"),
    ("| a |\n|---|\n| ![cell](https://tracker.example/cell.gif) |", "https://tracker.example/cell.gif"),
    ("> ![quoted](https://tracker.example/quote.gif)", "https://tracker.example/quote.gif"),
    ("- [ ] ![task](https://tracker.example/task.gif)", "https://tracker.example/task.gif"),
]
LOCAL = [  # stay images: nothing leaves the site
    "![logo](static/logo.png)",
    "![up](../static/logo.png)",
    "![abs](/static/logo.png)",
    "![dot](data:image/png;base64,iVBORw0KGgo=)",
    "![DOT](DATA:image/gif;base64,R0lGODlh)",
    "![pct](ht%74ps://tracker.example/not-a-scheme.gif)",
]
RAW = [  # raw HTML is text: no element at all
    '<img src="https://tracker.example/raw.gif">',
    "<IMG SRC=//tracker.example/raw2.gif>",
    '<picture><source srcset="https://tracker.example/s.gif"></picture>',
    "![svg](data:image/svg+xml;base64,PHN2Zz4=)",
    "![x](data:text/html,<img src=https://tracker.example/d.gif>)",
]
PAGE = '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>t</title>\n</head>\n<body>\n{}</body>\n</html>\n'


def finished(markdown: str, engine: str, external_images: bool = False) -> str:
    return finish_page(PAGE.format(render_markdown(markdown, engine)), external_images=external_images)


def live_images(page: str) -> list[str]:
    return re.findall(r"<img\b[^>]*>", page, re.IGNORECASE)


@pytest.mark.parametrize("engine", ["py", "pyrs"])
@pytest.mark.parametrize(("markdown", "address"), EXTERNAL)
def test_external_images_become_links(engine: str, markdown: str, address: str) -> None:
    pytest.importorskip("markdown_it_pyrs")
    page = finished(markdown, engine)
    assert live_images(page) == []
    assert "tracker.example" in page.lower()
    if "](https://example.com/)" in markdown:  # already inside a link: text, not a link in a link
        assert f'<span class="external-image" title="{address}">in a link</span>' in page
    else:
        assert f'<a class="external-image" href="{address}"' in page or f'href="{address}"' in page
    assert page == finished(markdown, "pyrs" if engine == "py" else "py")  # both engines, same bytes


@pytest.mark.parametrize("engine", ["py", "pyrs"])
@pytest.mark.parametrize("markdown", LOCAL)
def test_local_and_data_images_stay_images(engine: str, markdown: str) -> None:
    pytest.importorskip("markdown_it_pyrs")
    page = finished(markdown, engine)
    assert len(live_images(page)) == 1 and "external-image" not in page


@pytest.mark.parametrize("engine", ["py", "pyrs"])
@pytest.mark.parametrize("markdown", RAW)
def test_raw_html_and_odd_data_urls_load_nothing(engine: str, markdown: str) -> None:
    pytest.importorskip("markdown_it_pyrs")
    page = finished(markdown, engine)
    assert live_images(page) == [] and "<source" not in page


@pytest.mark.parametrize("engine", ["py", "pyrs"])
def test_external_images_stay_when_the_workspace_allows_them(engine: str) -> None:
    pytest.importorskip("markdown_it_pyrs")
    page = finished("![p](https://tracker.example/p.gif)", engine, external_images=True)
    assert live_images(page) == ['<img src="https://tracker.example/p.gif" alt="p" />']
    assert "img-src 'self' data: https: http:;" in META.findall(page)[0]


@pytest.mark.parametrize("address", ["https://x", "//x", "\\\\x", "/\\x", "\t//x", " https://x", "\x01//x",
                                     "/\t/x", "HTTP:x", "blob:https://x", "ws://x", "&#47;/x", "&#x68;ttp://x"])
def test_what_counts_as_external(address: str) -> None:
    assert is_external(address)


@pytest.mark.parametrize("address", ["x.png", "./x", "../x", "/x", "data:image/png;base64,AA", "#x", "?x",
                                     "ht%74p://x", "%2F%2Fx"])
def test_what_stays_on_the_site(address: str) -> None:
    assert not is_external(address)


def test_table_alignment_is_a_class_not_a_style() -> None:
    pytest.importorskip("markdown_it_pyrs")
    for engine in ("py", "pyrs"):
        html = render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |", engine)
        assert "style=" not in html
        assert '<th class="align-left">a</th>' in html and '<td class="align-right">3</td>' in html


# --- the built site ----------------------------------------------------------------------------------

NOTE = "\n\n".join(markdown for markdown, _address in EXTERNAL) + "\n\n" + "\n\n".join(LOCAL + RAW) + "\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root, ignore=LOCAL_STATE)
    deal = root / "deals" / "kite-finance-mobile-app.md"
    deal.write_text(deal.read_text(encoding="utf-8") + "\n" + NOTE, encoding="utf-8")
    client = root / "clients" / "kite-finance.md"
    client.write_text(client.read_text(encoding="utf-8") + "\n![logo](https://tracker.example/logo.png)\n",
                      encoding="utf-8")
    return root


def html_pages(out: Path) -> dict[str, str]:
    return {path.relative_to(out).as_posix(): path.read_text(encoding="utf-8") for path in sorted(out.rglob("*.html"))}


def test_every_page_has_the_policy_and_no_live_external_image(ws: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(ws), "-o", str(tmp_path / "out"), "--today", EXAMPLE_TODAY])
    assert result.exit_code == 0, result.output
    pages = html_pages(tmp_path / "out")
    assert len(pages) > 60
    for name, page in pages.items():
        head = page.split("</head>", 1)[0]
        assert head.startswith('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                               f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
                               '<meta name="referrer" content="no-referrer">\n'), name
        assert len(META.findall(page)) == 1, name
        assert all(not is_external(src) for src in re.findall(r'<img src="([^"]*)"', page)), name
        assert "tracker.example/p.gif\"" not in "".join(live_images(page)), name
        assert not re.search(r"\sstyle=", page), name  # the policy refuses inline styles: there are none
        assert "<style" not in page, name
    deal = pages["deals/kite-finance-mobile-app.html"]
    assert '<a class="external-image" href="https://tracker.example/p.gif">https://tracker.example/p.gif</a>' in deal
    assert '<img src="static/logo.png" alt="logo" />' in deal
    assert "https://tracker.example/logo.png" in pages["clients/kite-finance.html"]


def test_the_setting_allows_external_images(ws: Path, tmp_path: Path) -> None:
    config = ws / "crm.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "external_images: true\n", encoding="utf-8")
    build_site(ws, tmp_path / "out", TODAY, use_cache=False)
    deal = (tmp_path / "out" / "deals" / "kite-finance-mobile-app.html").read_text(encoding="utf-8")
    assert '<img src="https://tracker.example/p.gif" alt="" />' in deal
    assert META.findall(deal) == [POLICY.replace("img-src 'self' data:", "img-src 'self' data: https: http:")]


@pytest.mark.parametrize("value", ['"yes"', "1", "[true]", "{a: b}"])
def test_a_setting_that_is_not_true_or_false_is_a_config_finding(ws: Path, value: str) -> None:
    config = ws / "crm.yaml"
    config.write_text(config.read_text(encoding="utf-8") + f"external_images: {value}\n", encoding="utf-8")
    problems = [finding for finding in run_lint(ws, TODAY, use_cache=False).findings if finding.code == "C001"]
    assert [(finding.path, finding.message) for finding in problems] == \
        [("crm.yaml", "'external_images' must be true or false")]


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def test_inline_scripts_of_templates_are_allowed_by_hash_and_data_blocks_are_not_scripts(ws: Path,
                                                                                         tmp_path: Path) -> None:
    (ws / "site-templates").mkdir()
    (ws / "site-templates" / "_footer.html").write_text(
        "<footer><script>document.body.dataset.mine = 'yes';</script>"
        '<script type="module">console.log(1)</script><script src="x.js"></script>'
        '<script type="application/json">{"a": 1}</script></footer>\n', encoding="utf-8")
    build_site(ws, tmp_path / "out", TODAY, use_cache=False)
    mine = "document.body.dataset.mine = 'yes';"
    hashes = f"{sha256(mine)} {sha256('console.log(1)')}"
    expected = POLICY.replace("script-src 'self'", f"script-src 'self' {hashes}")
    for name in ("index.html", "board.html"):  # the board's owner totals are a JSON block: no hash for them
        assert META.findall((tmp_path / "out" / name).read_text(encoding="utf-8")) == [expected], name


def test_serve_allows_its_script_and_banner_by_hash() -> None:
    page = finish_page(PAGE.format("<p>x</p>\n")).encode("utf-8")
    live = LiveReload()
    live.changed([BuildProblem("deals/a.md:3", "F001 bad")])
    snippet = live.snippet()
    served = inject(page, snippet).decode("utf-8")
    script = re.search(r"<script>(.*?)</script>", snippet, re.DOTALL)
    style = re.search(r"<style>(.*?)</style>", snippet, re.DOTALL)
    assert script is not None and style is not None
    assert META.findall(served) == [POLICY.replace("style-src 'self'", f"style-src 'self' {sha256(style.group(1))}")
                                    .replace("script-src 'self'", f"script-src 'self' {sha256(script.group(1))}")]
    assert not re.search(r"\sstyle=", served)
    assert served.index(snippet) < served.index("</body>")


# --- in a real browser ---------------------------------------------------------------------------------

# The `browser` fixture (headless Chromium) comes from tests/conftest.py.
VIOLATIONS = ("window.__violations = [];document.addEventListener('securitypolicyviolation', function (e) {"
              "window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);});")
PAGES = ["index.html", "board.html", "forecast.html", "deals/kite-finance-mobile-app.html", "clients/kite-finance.html",
         "projects/kite-mobile-app.html", "portfolio.html", "this-week.html"]


@pytest.fixture(scope="module")
def planted_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("planted") / "ws"
    shutil.copytree(EXAMPLE, root, ignore=LOCAL_STATE)
    deal = root / "deals" / "kite-finance-mobile-app.md"
    deal.write_text(deal.read_text(encoding="utf-8") + "\n" + NOTE, encoding="utf-8")
    out = root.parent / "site"
    build_site(root, out, TODAY, use_cache=False)
    return out


@pytest.fixture(scope="module")
def server(planted_site: Path) -> Iterator[str]:
    with static_server(planted_site) as url:
        yield url


def watched(browser: object, base: str) -> tuple[object, list[str], list[str]]:
    """A new page recording requests that leave `base`, console errors and page errors."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    outside: list[str] = []
    errors: list[str] = []
    page.add_init_script(VIOLATIONS)
    local = ("data:", "file:") if base.startswith("file:") else ("data:",)  # file:///static/x is this machine's
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith((base, *local)) else None)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, outside, errors


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["http", "file"])
def test_pages_ask_nothing_of_other_sites_and_break_no_policy(planted_site: Path, server: str, browser: object,
                                                              scheme: str) -> None:
    base = server if scheme == "http" else planted_site.as_uri() + "/"
    page, outside, errors = watched(browser, base)
    for name in PAGES:
        page.goto(base + name, wait_until="load")
        assert page.evaluate("window.__violations") == [], name
        color = page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
        assert color == "rgb(29, 36, 51)", name  # the stylesheet applies under the policy
    page.goto(base + "deals/kite-finance-mobile-app.html", wait_until="load")
    assert page.locator("a.external-image").count() >= 10
    assert page.evaluate("window.__violations") == []
    page.goto(base + "board.html", wait_until="load")
    page.select_option("#owner-select", "ana")  # board.js runs under the policy
    visible = page.locator("#board .card:visible")
    assert visible.count() > 0
    assert {visible.nth(i).get_attribute("data-owner") for i in range(visible.count())} == {"ana"}
    assert outside == []
    assert [error for error in errors if "ERR_FILE_NOT_FOUND" not in error and "404" not in error] == []
    page.close()  # type: ignore[attr-defined]


@pytest.mark.browser
def test_the_dependency_graph_keeps_its_size_without_inline_styles(server: str, browser: object) -> None:
    """Drawn at its own width on a wide screen (not stretched) and on a phone (its text stays legible; its
    figure scrolls it sideways instead): by CSS, no style attribute."""
    page, outside, _errors = watched(browser, server)
    page.set_viewport_size({"width": 2400, "height": 1000})
    page.goto(server + "projects/museum-website.html", wait_until="load")
    graph = page.locator("svg.depgraph").first
    width = int(graph.get_attribute("width") or 0)
    wide = graph.bounding_box()
    assert wide is not None and width > 360 and abs(wide["width"] - width) < 1
    page.set_viewport_size({"width": 360, "height": 800})
    narrow = graph.bounding_box()
    assert narrow is not None and abs(narrow["width"] - width) < 1 and abs(narrow["height"] - wide["height"]) < 1
    figure = graph.locator("xpath=..")
    assert figure.evaluate("f => f.clientWidth < 360 && f.scrollWidth > f.clientWidth")  # it scrolls in its box
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # the page does not
    assert page.evaluate("window.__violations") == [] and outside == []
    page.close()  # type: ignore[attr-defined]


@pytest.mark.browser
def test_serves_injected_script_runs_and_banner_is_styled(planted_site: Path, tmp_path: Path, browser: object) -> None:
    served = tmp_path / "served"
    shutil.copytree(planted_site, served)
    live = LiveReload()
    live.changed([BuildProblem("deals/a.md:3", "F001 bad")])
    target = served / "index.html"
    target.write_bytes(inject(target.read_bytes(), live.snippet()))
    with static_server(served) as base:
        page, outside, _errors = watched(browser, base)
        with page.expect_request(lambda request: "/__plaintext-crm/events" in request.url):  # the script ran
            page.goto(base + "index.html")
        banner = page.locator("#plaintext-crm-problems")
        assert banner.evaluate("element => getComputedStyle(element).position") == "fixed"
        assert page.evaluate("window.__violations") == [] and outside == []
        page.close()  # type: ignore[attr-defined]
