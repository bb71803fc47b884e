"""Every rule's documented examples: the violating one gives that rule's findings only, the fixed one none."""

from __future__ import annotations

from pathlib import Path

import pytest

from plaintext_crm.commands.rules import rules_markdown
from plaintext_crm.lint.registry import HistoryExample, all_rules
from plaintext_crm.lint.run import lint_example

REPO = Path(__file__).resolve().parent.parent
# An example with a git history commits it with git: slow.
EXAMPLES = [pytest.param(code, index, id=f"{code}-{index}",
                         marks=[pytest.mark.slow] if isinstance(example, HistoryExample) else [])
            for code, rule in all_rules().items() for index, example in enumerate(rule.examples)]


def test_every_rule_has_a_violating_and_a_fixed_example() -> None:
    rules = all_rules()
    assert {"F001", "F002", "C001", "D001", "D004", "R001", "H001"} <= set(rules)
    missing = [code for code, rule in rules.items() if not rule.examples]
    assert missing == [], f"rules without examples: {missing}"
    for code, rule in rules.items():
        for example in rule.examples:
            assert example.bad and example.bad != example.fixed, code
        assert rule.summary and rule.doc, f"{code} needs a summary and documentation"


@pytest.mark.parametrize(("code", "index"), EXAMPLES)
def test_violating_example_gives_only_its_rule(code: str, index: int) -> None:
    example = all_rules()[code].examples[index]
    found = lint_example(example, "bad")
    assert found, f"{code} example {index} ({example.title}) finds nothing"
    assert {finding.code for finding in found} == {code}, [f"{f.code} {f.message}" for f in found]


@pytest.mark.parametrize(("code", "index"), EXAMPLES)
def test_fixed_example_is_clean(code: str, index: int) -> None:
    example = all_rules()[code].examples[index]
    assert [f"{f.path}:{f.line} {f.code} {f.message}" for f in lint_example(example, "fixed")] == []


@pytest.mark.slow  # commits the history examples with git
def test_docs_rules_md_is_up_to_date() -> None:
    written = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert written == rules_markdown().rstrip("\n") + "\n", (
        "docs/rules.md is stale: run `plaintext-crm rules --format markdown > docs/rules.md`")
