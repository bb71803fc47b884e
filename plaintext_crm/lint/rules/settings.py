"""crm.yaml rules: invalid settings (C001, from the config loader) and lint overrides naming unknown rules (C002)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from plaintext_crm.findings import Finding, Location, Severity
from plaintext_crm.lint.registry import EXAMPLE_BASE, REGISTRY, Example, Rule, add_examples, rule
from plaintext_crm.records.config import CONFIG_FILE

if TYPE_CHECKING:
    from plaintext_crm.analysis import Analysis

BASE_CONFIG = EXAMPLE_BASE["crm.yaml"]

add_examples(
    "C001",
    Example({"crm.yaml": BASE_CONFIG.replace("  - {stage: proposal, probability: 0.5, rot_days: 14}",
                                             "  - {stage: proposal, probability: 50%, rot_days: 14}")},
            {"crm.yaml": BASE_CONFIG}, "A stage probability written as a percentage"),
    doc="Each crm.yaml setting is checked: team members are mappings with `active: true/false`, pipeline "
        "stages have an id, a probability from 0 to 1, whole rot_days and `closed: won|lost`; lists are "
        "lists; holidays are dates; `lint` severities are error, warning, info or off. A bad setting is "
        "reported on its line and its default is used, so the rest still lints.",
)


def _all_codes() -> list[str]:
    return sorted(REGISTRY)


@rule("C002", "unknown-rule-code", Severity.WARNING,
      "crm.yaml's lint: section names a rule code that does not exist.",
      examples=[Example({"crm.yaml": BASE_CONFIG + "lint:\n  D03: off\n"},
                        {"crm.yaml": BASE_CONFIG + "lint:\n  D003: off\n"},
                        "A typo in a rule code silently changes nothing")])
def unknown_rule_code(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """`lint: {D003: off}` changes a rule's severity or turns it off; a code that matches no rule (see
    `plaintext-crm rules`) would silently do nothing."""
    config = analysis.workspace.config
    if not config.path:
        return
    codes = _all_codes()
    for code in config.rule_severity:
        if code not in REGISTRY:
            close = difflib.get_close_matches(code, codes, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else "; `plaintext-crm rules` lists them"
            line = next((line for key, line in config.key_lines.items()
                         if len(key) == 2 and key[0] == "lint" and str(key[1]).upper() == code), config.line_of("lint"))
            yield rule.finding(Location(CONFIG_FILE, line), f"no rule has the code '{code}'{hint}")
