"""Encrypted sites (`build --encrypt`): every page and data file sealed with AES-256-GCM, opened in the browser.

One key per build: PBKDF2-HMAC-SHA256 (ITERATIONS rounds) over the passphrase and a fresh random salt gives
64 bytes: an AES-256 key, and an HMAC key that names the files, so the host sees neither record ids nor
page titles. Each file gets its own random 96-bit nonce. A page becomes a small shell (shell.html) holding
its ciphertext; static/decrypt.js asks for the passphrase once per browser session, decrypts with WebCrypto
and shows the page. index.html and data.json keep their names (their names say nothing); data.json becomes
the JSON envelope described in docs/publishing.md. Static assets (stylesheets, scripts, icons) and
robots.txt stay as they are: they hold no record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from plaintext_crm.errors import ToolError

ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
SALT_BYTES = 16
NONCE_BYTES = 12
MIN_PASSPHRASE = 12  # characters: a shorter one falls to a guessing attack on the host's copy
PASSWORD_ENV = "PLAINTEXT_CRM_SITE_PASSWORD"
FORMAT = "plaintext-crm-encrypted"
PAGES_FOLDER = "p"  # encrypted pages, under names only the key can make
KEPT_NAMES = ("index.html", "data.json")
PLAIN = ("robots.txt",)
SHELL = "encrypted-shell.html"  # files published as they are (besides static/)
_HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_POLICY = re.compile(r'<meta http-equiv="Content-Security-Policy" content="(?P<policy>[^"]*)">')
_ROBOTS = '<meta name="robots" content="noindex, nofollow">'


@dataclass(frozen=True)
class SiteKey:
    """The keys of one encrypted build."""

    salt: bytes
    iterations: int
    content: bytes  # AES-256-GCM key
    names: bytes  # HMAC-SHA256 key naming the page files

    def page_name(self, logical: str) -> str:
        """The file an encrypted page is stored under: index.html and data.json keep theirs."""
        if logical in KEPT_NAMES:
            return logical
        digest = hmac.new(self.names, logical.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
        extension = logical.rsplit(".", 1)[-1] if "." in logical.rsplit("/", 1)[-1] else "bin"
        return f"{PAGES_FOLDER}/{digest[:32]}.{extension}"

    def seal(self, data: bytes) -> tuple[bytes, bytes]:
        """(nonce, ciphertext with its tag) of `data` under a fresh random nonce."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce, AESGCM(self.content).encrypt(nonce, data, None)


def derive_key(passphrase: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> SiteKey:
    """The build's keys from the passphrase (a new random salt unless one is given, to open a file)."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    material = PBKDF2HMAC(hashes.SHA256(), 64, salt, iterations).derive(passphrase.encode("utf-8"))
    return SiteKey(salt, iterations, material[:32], material[32:])


def read_passphrase(password_file: Path | None) -> str:
    """The passphrase from --password-file (its first line) or PLAINTEXT_CRM_SITE_PASSWORD; never an argument."""
    if password_file is not None:
        try:
            text = password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ToolError(f"cannot read the password file {password_file}: {exc}") from None
        passphrase = text.splitlines()[0] if text.splitlines() else ""
        source = f"the password file {password_file}"
    else:
        passphrase = os.environ.get(PASSWORD_ENV, "")
        source = PASSWORD_ENV
    if not passphrase:
        raise ToolError(f"--encrypt needs a passphrase: set {PASSWORD_ENV} or pass --password-file FILE "
                        "(never on the command line, where other users and shell history see it)")
    if len(passphrase) < MIN_PASSPHRASE:
        raise ToolError(f"the passphrase from {source} has {len(passphrase)} characters; use at least "
                        f"{MIN_PASSPHRASE} (a long random phrase: the host's copy can be attacked offline)")
    return passphrase


def envelope(key: SiteKey, data: bytes) -> dict[str, object]:
    """The JSON-able envelope of one encrypted file."""
    nonce, sealed = key.seal(data)
    return {"format": FORMAT, "version": 1, "cipher": "AES-256-GCM", "kdf": "PBKDF2-HMAC-SHA256",
            "iterations": key.iterations, "salt": _b64(key.salt), "iv": _b64(nonce), "data": _b64(sealed)}


def open_envelope(data: dict[str, object], passphrase: str) -> bytes:
    """The plaintext of an envelope (for scripts and tests): raises cryptography's InvalidTag when wrong."""
    key = derive_key(passphrase, base64.b64decode(str(data["salt"])), int(str(data["iterations"])))
    return AESGCM(key.content).decrypt(base64.b64decode(str(data["iv"])), base64.b64decode(str(data["data"])), None)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encrypt_folder(folder: Path, written: Sequence[str], key: SiteKey, shell: str) -> list[str]:
    """Replace every page and data file of the site in `folder` by its encrypted form; the new file list.

    `shell` is the shell page's HTML with {policy}, {robots}, {root}, {payload} left to fill.
    """
    result: list[str] = []
    for rel in written:
        if rel.startswith("static/") or rel in PLAIN:
            result.append(rel)
            continue
        source = folder / rel
        data = source.read_bytes()
        source.unlink()
        target = key.page_name(rel)
        (folder / target).parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".html"):
            (folder / target).write_text(_shell_page(key, rel, target, data.decode("utf-8", "surrogateescape"), shell),
                                         encoding="utf-8", newline="\n")
        else:
            (folder / target).write_text(json.dumps(envelope(key, data)) + "\n", encoding="utf-8")
        result.append(target)
    _remove_empty_folders(folder, written)
    return result


def shell_page() -> str:
    """The built-in shell of an encrypted page (site-templates/encrypted-shell.html), with {fields} to fill."""
    from plaintext_crm.site.templates import builtin_folder

    return (builtin_folder() / SHELL).read_text(encoding="utf-8")


def _shell_page(key: SiteKey, logical: str, stored: str, page: str, shell: str) -> str:
    """The shell of one page: its policy (so the decrypted page's inline scripts run), its ciphertext."""
    root = "../" * stored.count("/")
    folder = logical.rsplit("/", 1)[0] + "/" if "/" in logical else ""
    # The decrypted page resolves its relative links from its own folder (which exists only in names).
    base = f'<base href="{html.escape(root + folder, quote=True)}">' if root + folder else ""
    page = _HEAD.sub(lambda match: match.group(0) + base, page, count=1)
    found = _POLICY.search(page)
    policy = found.group("policy") if found else "default-src 'self'"
    policy = policy.replace("base-uri 'none'", "base-uri 'self'")
    payload = {**envelope(key, page.encode("utf-8", "surrogateescape")), "root": root}
    text = json.dumps(payload).replace("<", "\\u003c")  # never closes its script element
    robots = _ROBOTS if _ROBOTS in page else ""
    return shell.format(policy=policy, robots=robots, root=html.escape(root, quote=True), payload=text)


def _remove_empty_folders(folder: Path, written: Sequence[str]) -> None:
    for name in sorted({rel.rsplit("/", 1)[0] for rel in written if "/" in rel}, key=len, reverse=True):
        try:
            (folder / name).rmdir()
        except OSError:
            pass  # not empty (static/, p/)
