"""``{% shared %}…{% endshared %}``: a part of a layout rendered once per region, not once per page.

A theme wraps in it what every page of a region shows alike (the footer, the chat launcher): the
first page of each region renders the part, the others reuse those bytes. What the part may read
is checked, not trusted: the first time each part renders, every name it reads (and every name a
template it includes reads) must be one of ``REGION_NAMES``, a global, or a module the
template imported without the context (whose macros cannot see the page). A name that may differ
between pages of a region (``page``, ``content``, ``url_for``, a ``{% set %}`` or loop variable, a macro of the template
itself) is an error naming the template and line, so a wrong part is never copied across pages.
"""

from __future__ import annotations

from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.environment import TemplateModule
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2.runtime import Context

# What a layout's context holds that is the same for every page of a region (see
# template_context.TemplateContext.layout_context).
REGION_NAMES = frozenset(
    {
        "site",
        "region",
        "regions",
        "services",
        "service",
        "menus",
        "asset",
        "build_date",
        "home_url",
        "section_pages",
        "production",
        "has_page",
    }
)


class SharedExtension(Extension):
    """The ``shared`` tag (see the module's docstring). One per environment, and one environment
    per build (per worker process), so a part is never reused across builds."""

    tags = {"shared"}

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        self.parts: dict[tuple[str, int, str], Any] = {}  # (template, line, region id) -> output
        self.checked: set[tuple[str, int]] = set()

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endshared",), drop_needle=True)
        part = nodes.Template(body, lineno=lineno)
        part.set_environment(self.environment)
        names = sorted(meta.find_undeclared_variables(part))
        includes: list[str] = []
        for template, line in _with_context(part):
            if template is None:
                parser.fail(
                    "{% shared %} may include only a template named by a literal string, so what "
                    "it reads can be checked",
                    line,
                )
            includes.append(template)
        args = [
            nodes.Const(parser.name or ""),
            nodes.Const(lineno),
            nodes.Const(names),
            nodes.Const(includes),
            nodes.ContextReference(),
        ]
        return nodes.CallBlock(self.call_method("_render", args), [], [], body).set_lineno(lineno)

    def _render(
        self, name: str, lineno: int, names: list[str], includes: list[str], context: Context, caller: Any
    ) -> Any:
        region = context.get("region")
        rid = getattr(region, "id", None)
        if not isinstance(rid, str):
            return caller()  # no region (a template rendered outside a page): nothing to share
        if (name, lineno) not in self.checked:
            self._check(name, lineno, names, includes, context)
            self.checked.add((name, lineno))
        key = (name, lineno, rid)
        if key not in self.parts:
            self.parts[key] = caller()
        return self.parts[key]

    def _check(self, name: str, lineno: int, names: list[str], includes: list[str], context: Context) -> None:
        where = f"{{% shared %}} at {name}:{lineno}"
        for used in names:
            if (
                used in REGION_NAMES
                or used in self.environment.globals
                or self._without_context(context, used)
            ):
                continue
            raise jinja2.TemplateRuntimeError(
                f"{where} reads '{used}', which may differ between pages of a region; a shared part "
                f"may read only {', '.join(sorted(REGION_NAMES))} and modules imported without the "
                "context ({% import ... as name %}). Move what uses it out of the shared part"
            )
        seen: set[str] = set()
        todo = list(includes)
        while todo:
            included = todo.pop()
            if included in seen:
                continue
            seen.add(included)
            try:
                source, _, _ = self.environment.loader.get_source(self.environment, included)  # type: ignore[union-attr]
            except jinja2.TemplateNotFound:
                continue  # `ignore missing`, or reported where the include renders
            tree = self.environment.parse(source, included)
            for used in sorted(meta.find_undeclared_variables(tree)):
                if used in REGION_NAMES or used in self.environment.globals:
                    continue
                raise jinja2.TemplateRuntimeError(
                    f"{where} includes {included}, which reads '{used}': that may differ between "
                    "pages of a region. Move the include out of the shared part"
                )
            for template, _ in _with_context(tree):
                if template is None:
                    raise jinja2.TemplateRuntimeError(
                        f"{where} includes {included}, which includes a template named by an "
                        "expression: what it reads cannot be checked"
                    )
                todo.append(template)

    def _without_context(self, context: Context, name: str) -> bool:
        """``name`` is a module imported without the context: Jinja2's one cached module of that
        template, whose macros cannot see the page. A module imported ``with context`` is made
        anew for each page and its macros can read it, so it is not one."""
        value = context.resolve_or_missing(name)
        if not isinstance(value, TemplateModule) or value.__name__ is None:
            return False
        try:
            return value is self.environment.get_template(value.__name__).module
        except jinja2.TemplateError:
            return False


def _with_context(tree: nodes.Node) -> list[tuple[str | None, int]]:
    """The templates ``tree`` includes or imports with the context (None: named by an expression),
    with their lines: the ones that can read what the page's context holds."""
    found: list[tuple[str | None, int]] = []
    for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport)):
        assert isinstance(node, (nodes.Include, nodes.Import, nodes.FromImport))
        if isinstance(node, nodes.Include) or node.with_context:
            template = node.template
            literal = isinstance(template, nodes.Const) and isinstance(template.value, str)
            found.append((template.value if literal else None, node.lineno))  # type: ignore[attr-defined]
    return found
