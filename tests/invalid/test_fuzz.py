"""Fuzzing `sitegen build` with broken sources: it fails cleanly or publishes exactly right.

Each example takes a small valid site (already built, so dist/ and the cache
exist), breaks one thing in one file, and builds. The build must either exit
1, naming the file (and line) of every problem, with dist/ byte for byte as
before; or exit 0 with no raw ``:::`` line and no text written for another
region on any page or in the search data. Never a traceback.

One mistake per example: with one, no valid source can move text between
regions (an inserted block line always unbalances the blocks), so "another
region's text" has a fixed meaning. Derandomized (a fixed sequence of
examples) and bounded, so CI runs the same cases every time in well under a
minute.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen.cli import main
from sitegen.leakguard import raw_block_lines
from tests.support.sitefactory import write_site

PK_ONLY, ELSEWHERE = "zebrapkonly", "yakelsewhere"
FILES = {
    "content/index.md": f"""---
title: Home
description: A small site.
menu: main
---
Welcome to everyone.

::: region pk
Call us today, {PK_ONLY} customers.

```text
::: region pk   (inside code: literal)
```
:::

::: region not pk
Book a call in your time zone, {ELSEWHERE} friends.

::: region intl
Invoices in dollars for {ELSEWHERE} clients.
:::
:::

## Our team

Read [about us](about.md#who-we-are) or write to [us](mailto:{{{{ site.contact.email }}}}).
""",
    "content/about.md": """---
title: About
updated: 2026-06-17
---
## Who we are

We build websites.
""",
    "content/services/web.yaml": f"""id: web
name: Web Development
summary: Fast websites.
order: 1
price:
  pk: {{amount: 80000, currency: PKR, unit: project, from: true}}
  intl: {{amount: 900, currency: USD}}
features:
  - Design
  - "Search basics: titles"
faq:
  - q: How long?
    a: Four weeks.
body: |
  Intro.

  ::: region pk
  Karachi team, {PK_ONLY} rates.
  :::
""",
}
NAMES = sorted(FILES)

BLOCK_LINES = [
    ":::",
    "::: region pk",
    "::: region not pk",
    "::: region intl pk",
    "::: regoin pk",
    "::: Region PK",
    ":::region pk",
    "::: region pk, intl",
    "::::",
    "::: region",
    "::: note",
    "  ::: region intl",
    "> ::: region pk",
    "    :::",
]
YAML_VALUES = [
    "12",
    "[a, b]",
    "{a: b}",
    "true",
    "2026-06-17",
    "2026-13-45",
    "null",
    "Basics: titles",
    "'x'",
    "~",
]
ERROR = re.compile(r"^error: (?:content|site\.yaml|templates|themes|dist)[^\s:]*(?::\d+)?: ")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "site"
    write_site(root, dict(FILES))
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return root


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@st.composite
def mistakes(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file, its new bytes) with one mistake in it."""
    name = draw(st.sampled_from([*NAMES, "site.yaml"]))
    text = (FILES.get(name) or "").encode()
    kind = draw(st.sampled_from(["truncate", "block line", "yaml value", "bytes"]))
    if name == "site.yaml":
        kind = draw(st.sampled_from(["truncate", "bytes", "yaml value"]))
        text = b""  # filled from the built site by the test
    lines = text.split(b"\n")
    if kind == "truncate":
        return name, b"\0truncate" + str(draw(st.integers(0, 4000))).encode()
    if kind == "block line":
        at = draw(st.integers(0, len(lines)))
        line = draw(st.sampled_from(BLOCK_LINES)).encode()
        if name.endswith(".yaml"):
            line = b"  " + line  # inside the service's body
        return name, b"\n".join([*lines[:at], line, *lines[at:]])
    if kind == "yaml value":
        return name, b"\0yaml" + draw(st.sampled_from(YAML_VALUES)).encode() + b"\0" + str(
            draw(st.integers(0, 99))
        ).encode()
    junk = draw(st.binary(min_size=1, max_size=8))
    return name, b"\0bytes" + str(draw(st.integers(0, 4000))).encode() + b"\0" + junk


def _apply(path: Path, mistake: bytes) -> None:
    """The mistakes that need the file's current bytes (site.yaml is not in FILES)."""
    data = path.read_bytes()
    if mistake.startswith(b"\0truncate"):
        path.write_bytes(data[: int(mistake[9:]) % (len(data) + 1)])
    elif mistake.startswith(b"\0yaml"):
        value, n = mistake[5:].split(b"\0")
        lines = data.split(b"\n")
        keyed = [i for i, line in enumerate(lines) if re.match(rb"^\s*(- )?[\w-]+: \S", line)]
        if keyed:
            i = keyed[int(n) % len(keyed)]
            head = re.match(rb"^(\s*(?:- )?[\w-]+: )", lines[i])
            assert head is not None
            lines[i] = head.group(1) + value
        path.write_bytes(b"\n".join(lines))
    elif mistake.startswith(b"\0bytes"):
        at, junk = mistake[6:].split(b"\0", 1)
        pos = int(at) % (len(data) + 1)
        path.write_bytes(data[:pos] + junk + data[pos:])
    else:
        path.write_bytes(mistake)


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mistake=mistakes())
def test_broken_sources_fail_cleanly_or_build_exactly(built: Path, mistake: tuple[str, bytes]) -> None:
    name, data = mistake
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        shutil.copytree(built, root, symlinks=True)
        before = _snapshot(root / "dist")
        _apply(root / name, data)
        result = CliRunner().invoke(main, ["build", "--root", str(root), "--jobs", "1"])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert "Traceback" not in result.output
        if result.exit_code != 0:
            assert result.exit_code == 1, result.output
            errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
            assert errors, result.output
            assert all(ERROR.match(line) for line in errors), result.output
            assert _snapshot(root / "dist") == before
            return
        for rel, content in _snapshot(root / "dist").items():
            if not rel.endswith((".html", ".json")):
                continue
            text = content.decode("utf-8")
            if rel.endswith(".html"):
                assert raw_block_lines(text) == [], rel
            region = rel.split("/")[0] if not rel.startswith("_edge/") else rel.rsplit("/", 1)[-1][:-5]
            if region == "intl":
                assert PK_ONLY not in text, rel
            if region == "pk":
                assert ELSEWHERE not in text, rel
