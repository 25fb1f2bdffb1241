"""The CommonMark spec examples shipped with markdown-it-py, run against our engine.

`./dev test` fetches markdown-it-py's source distribution (the spec file is not
in the wheel) into .venv/commonmark-spec.md. Our engine adds heading ids,
Pygments highlighting and region-link markers on purpose; the test undoes
exactly those and then demands the spec's HTML.
"""

from __future__ import annotations

import html as htmllib
import os
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from sitegen.markdown import LINK_CLOSE, LINK_OPEN, engine, fill

SPEC = Path(
    os.environ.get(
        "SITEGEN_COMMONMARK_SPEC", Path(__file__).resolve().parents[2] / ".venv" / "commonmark-spec.md"
    )
)
# markdown-it-py's own known deviations (empty blockquotes, a reference inside a blockquote).
KNOWN_ENGINE_DEVIATIONS = {218, 239, 240}


def examples() -> list[tuple[int, str, str]]:
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} missing: run ./dev test, which downloads it")
    text = SPEC.read_text(encoding="utf-8")
    found = re.findall(r"^`{32} example\n(.*?)^\.\n(.*?)^`{32}$", text, re.M | re.S)
    return [(i, md.replace("→", "\t"), out.replace("→", "\t")) for i, (md, out) in enumerate(found, 1)]


def test_markdown_it_commonmark_preset_passes_the_spec() -> None:
    cases = examples()
    assert len(cases) > 600
    base = MarkdownIt("commonmark")
    failing = {i for i, md, expected in cases if base.render(md) != expected}
    assert failing == KNOWN_ENGINE_DEVIATIONS


def _undo_our_additions(md: MarkdownIt, source: str) -> str:
    env: dict[str, object] = {}
    out = md.render(source, env)
    links = env.get("links", [])
    out = re.sub(r'(<h[1-6]) id="[^"]*"', r"\1", out)

    def href(i: int) -> str:
        link = links[i]  # type: ignore[index]
        target = link.target + (f"#{link.fragment}" if link.fragment else "")
        return htmllib.escape(md.normalizeLink(target), quote=True)

    out = fill(out, LINK_OPEN, LINK_CLOSE, href)
    # Highlighted code: same text, Pygments spans and a class on <pre>.
    return re.sub(
        r'<pre class="highlight">(<code class="[^"]*">)(.*?)</code></pre>',
        lambda m: (
            "<pre>"
            + m.group(1)
            + htmllib.escape(htmllib.unescape(re.sub(r"<[^>]+>", "", m.group(2))), quote=False)
            + "</code></pre>"
        ),
        out,
        flags=re.S,
    )


def test_our_engine_passes_the_spec_apart_from_its_additions() -> None:
    md = engine()
    failing = [(i, src) for i, src, expected in examples() if _undo_our_additions(md, src) != expected]
    assert {i for i, _ in failing} <= KNOWN_ENGINE_DEVIATIONS, failing[:5]
