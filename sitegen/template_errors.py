"""Messages for mistakes found while rendering: one wording per kind, each naming file and line.

Jinja2 reports an error with its own wording and, for a compiled template, a line only in the
rewritten traceback; these helpers find the line and template file, and turn the exception into
a `SitegenError` that says what to do.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from jinja2.exceptions import SecurityError

from sitegen.errors import SitegenError
from sitegen.pages import Page
from sitegen.regions import NotText

# Said after an undefined name in content: where such values come from.
_DEFINE_IT = "check the spelling, or define it in site.yaml"


class PageError(Exception):
    """Carries a SitegenError out of a template callback (``price()`` called with a wrong id)."""

    def __init__(self, error: SitegenError) -> None:
        super().__init__(str(error))
        self.error = error


def content_error(exc: BaseException, page: Page) -> SitegenError:
    """An error raised while rendering a page's Markdown source (a page with Jinja statements)."""
    if isinstance(exc, PageError):
        return exc.error
    line = getattr(exc, "lineno", None) or template_line(exc)
    file_line = page.body_line + line - 1 if line else None
    if isinstance(exc, NotText):
        return SitegenError(f"a value shown here {exc}", page.file, file_line)
    if isinstance(exc, SecurityError):
        return SitegenError(unsafe_message(exc, None), page.file, file_line)
    if isinstance(exc, jinja2.UndefinedError):
        return SitegenError(f"{undefined_message(exc)}; {_DEFINE_IT}", page.file, file_line)
    message = getattr(exc, "message", None) or str(exc)
    if "end of comment" in message:
        message += " ('{#' starts a hidden note that must end with '#}'; an id goes at the end of a '#' heading line)"
    return SitegenError(f"template error: {message}", page.file, file_line)


def expression_error(exc: Exception, source: str, page: Page, line: int) -> SitegenError:
    """An error raised by one ``{{ … }}`` in content, on ``line`` of the page's body."""
    file_line = page.body_line + line - 1
    if isinstance(exc, PageError):
        return SitegenError(exc.error.message, page.file, file_line)
    if isinstance(exc, NotText):
        return SitegenError(f"{source} {exc}", page.file, file_line)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return SitegenError(f"template syntax error in {source}: {exc.message}", page.file, file_line)
    if isinstance(exc, SecurityError):
        return SitegenError(unsafe_message(exc, source), page.file, file_line)
    return SitegenError(f"{undefined_message(exc)} in {source}; {_DEFINE_IT}", page.file, file_line)


def syntax_error(exc: jinja2.TemplateSyntaxError, name: str, root: Path) -> SitegenError:
    """A theme template that does not parse, named by its file relative to the site."""
    return SitegenError(
        f"template syntax error: {(exc.message or '').rstrip('.')}; fix the template",
        relative(exc.filename, root) or name,
        exc.lineno,
    )


def layout_error(exc: jinja2.TemplateError, file: str, fallback: str | None, root: Path) -> SitegenError:
    """An error raised while a theme template renders ``file``, named by template file and line."""
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, jinja2.UndefinedError):
        message += "; check the spelling, or test it first: {% if name is defined %}"
    where = template_file(exc) or fallback
    return SitegenError(f"while rendering {file}: {message}", relative(where, root), template_line(exc))


def relative(path: str | None, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return path


def template_line(exc: BaseException) -> int | None:
    """Line of the innermost template frame in a Jinja2-rewritten traceback."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(".html") or code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def template_file(exc: BaseException) -> str | None:
    tb = exc.__traceback__
    name = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".html"):
            name = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return name


def unsafe_message(exc: SecurityError, source: str | None) -> str:
    where = f" in {source}" if source else ""
    return f"not allowed in content{where}: {str(exc.message or exc).rstrip('.')}; use only site, region, page and the catalog"


def undefined_message(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    m = re.match(r"'(\w+)' is undefined", message)
    if m:
        return f"undefined name '{m.group(1)}'"
    m = re.match(r"'(.+?)' has no attribute '(\w+)'", message)
    if m:
        return f"undefined value '{m.group(2)}'"
    return f"undefined value: {message}"
