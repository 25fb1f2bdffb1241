"""Code highlighting: Pygments, with CSS classes only (a strict CSP allows no inline styles).

A fenced block with a language the lexers know is highlighted once per distinct (code, language)
in a process; ``highlight.css`` is the stylesheet for the classes, published as a hashed asset.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def _highlight_cached(code: str, lang: str) -> str | None:
    # Pygments is imported on first use: a build with no code blocks to convert never pays for it.
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang, stripall=False)
    except ClassNotFound:
        return None
    return str(highlight(code, lexer, HtmlFormatter(nowrap=True)))


def highlight_code(code: str, lang: str, attrs: str) -> str:
    """Pygments highlighting with CSS classes (no inline styles: strict CSP)."""
    lang = (lang or "").strip().split()[0] if lang else ""
    if not lang:
        return ""
    body = _highlight_cached(code, lang.lower())
    if body is None:
        return ""
    return f'<pre class="highlight"><code class="language-{lang}">{body}</code></pre>'


@lru_cache(maxsize=1)
def highlight_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style="default").get_style_defs(".highlight"))
