"""Helpers for the accessibility and phone tests: where the npm tools are (axe-core, vnu-jar, installed by
scripts/test into tests/.npm), and running axe-core in a Playwright page without any network."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

NPM = Path(__file__).resolve().parent / ".npm" / "node_modules"
AXE_JS = NPM / "axe-core" / "axe.min.js"
VNU_JAR = NPM / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")

# WCAG 2.0, 2.1 and 2.2 A and AA, plus axe's best practices (landmarks, headings, region).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page: object) -> list[str]:
    """Run axe-core in `page` (its script injected from the npm package); one line per violating node."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    options = json.dumps({"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    results = page.evaluate(f"axe.run(document, {options})")
    lines = []
    for violation in results["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"{violation['id']}: {target}: {node['failureSummary'].splitlines()[-1].strip()}")
    return lines
