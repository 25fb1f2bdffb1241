"""axe-core (the npm package ``./dev test`` installs, never a copy in the repository) in a Playwright page.

The source is run with ``page.evaluate``, which goes through the DevTools protocol and so also works on
pages whose Content-Security-Policy forbids every script but their own (``add_script_tag`` would be
refused there); the page's policy stays enforced for everything else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = frozenset({"serious", "critical"})

_RUN = """async (selector) => {
  const result = await axe.run(selector ? document.querySelector(selector) : document,
                               {resultTypes: ['violations']});
  return result.violations;
}"""


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def violations(page: Any, selector: str | None = None) -> list[dict[str, Any]]:
    """axe's serious and critical violations in ``page`` (in ``selector``'s element if given)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())
    found: list[dict[str, Any]] = page.evaluate(_RUN, selector)
    return [v for v in found if v.get("impact") in BLOCKING]


def describe(where: str, found: list[dict[str, Any]]) -> list[str]:
    """One line per offending element: where, rule id, impact, target, axe's summary."""
    lines = []
    for violation in found:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node.get("target", []))
            lines.append(
                f"{where}: {violation['id']} ({violation['impact']}) at {target}: {violation['help']}"
            )
    return lines
