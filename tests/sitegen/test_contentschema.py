"""The content schema: every declared field is documented for editors, and its checks say the fix."""

from __future__ import annotations

import re
from pathlib import Path

from sitegen.contentschema import FRONT_MATTER, SERVICE, Located, check_fields
from sitegen.errors import Problems

DOCS = (Path(__file__).resolve().parents[2] / "docs/editors.md").read_text(encoding="utf-8")


def test_every_front_matter_key_is_in_the_editors_table() -> None:
    documented = set(re.findall(r"^\| `(\w+)` \|", DOCS, re.M))
    assert set(FRONT_MATTER) <= documented


def test_every_service_field_is_in_the_editors_example() -> None:
    example = DOCS.split("## Services", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    written = set(re.findall(r"^(\w+):", example, re.M))
    assert set(SERVICE) - {"template", "updated"} <= written


def _check(yaml_lines: list[str], data: dict[str, object], lines: dict[tuple[str, ...], int]) -> list[str]:
    problems = Problems()
    check_fields(data, SERVICE, Located("s.yaml", lines, yaml_lines), ["pk", "intl"], problems)
    return [str(e) for e in problems.errors]


def test_region_values_are_checked_one_by_one_at_their_lines() -> None:
    source = ["name:", "  pk: Web", "  intl: 12", "features:", "  pk: [a]", "  default: b"]
    data = {"name": {"pk": "Web", "intl": 12}, "features": {"pk": ["a"], "default": "b"}}
    lines = {
        ("name",): 1,
        ("name", "pk"): 2,
        ("name", "intl"): 3,
        ("features",): 4,
        ("features", "pk"): 5,
        ("features", "default"): 6,
    }
    assert _check(source, data, lines) == [
        """s.yaml:3: 'name.intl' must be text, got a number (12); quote this line: intl: "12\"""",
        "s.yaml:6: 'features.default' must be a list ('- …' lines under it), got text ('b')",
    ]


def test_a_value_that_cannot_be_quoted_on_its_line_gets_the_general_fix() -> None:
    source = ["summary:", "  Fast: websites"]
    assert _check(source, {"summary": {"Fast": "websites"}}, {("summary",): 1, ("summary", "Fast"): 2}) == [
        "s.yaml:1: 'summary' must be text, got a mapping (a 'key: value' pair; the colon did that); "
        "write the value as text in quotes"
    ]
