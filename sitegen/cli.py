"""Command line: parses arguments, calls the build, prints problems once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from sitegen import __version__, console, staffcli
from sitegen.console import verbosity_options
from sitegen.errors import SitegenError

if TYPE_CHECKING:
    from sitegen.progress import Progress


def _country(value: str | None) -> str | None:
    """--country: a two-letter ISO 3166 code, upper-cased; anything else is a usage error."""
    if value is None:
        return None
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise click.BadParameter(f"'{value}' is not a two-letter country code such as PK or US")
    return value.upper()


def _progress() -> Progress | None:
    from sitegen.progress import TerminalProgress

    if console.quiet() or not TerminalProgress.wanted():
        return None
    return TerminalProgress()


@click.group(cls=console.Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
@click.pass_context
def main(ctx: click.Context) -> None:
    """sitegen: one content tree, one pre-rendered static site per region."""
    if console.no_color_wanted():
        ctx.color = False  # inherited by every command's context; click strips styles


@main.command()
@click.option("--region", "regions", multiple=True, metavar="ID", help="Build only this region (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (default: dist/).")
@click.option("--drafts", is_flag=True, help="Also build pages with draft: true.")
@click.option(
    "--base-url",
    envvar="SITEGEN_BASE_URL",
    metavar="URL",
    help="Origin for canonical, hreflang, Open Graph and sitemap URLs instead of site.yaml's base_url "
    "(deploy previews); also read from SITEGEN_BASE_URL.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--dev", is_flag=True, help="Development build: portal dev login allowed, robots disallow all.")
@console.root_option
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for parsing and rendering (default: one per core).",
)
@click.option(
    "--no-cache", is_flag=True, help="Neither read nor write .sitegen-cache/ (a full, clean build)."
)
@verbosity_options
def build(
    regions: tuple[str, ...],
    out: Path | None,
    drafts: bool,
    base_url: str | None,
    strict: bool,
    dev: bool,
    root: Path,
    jobs: int | None,
    no_cache: bool,
) -> None:
    """Build every region of the site into dist/<region>/."""
    from sitegen.build import BuildOptions
    from sitegen.build import build as run

    options = BuildOptions(
        root=root,
        out=out,
        regions=list(regions) or None,
        drafts=drafts,
        base_url=base_url or None,
        strict=strict,
        production=not dev,
        progress=_progress(),
        jobs=jobs,
        cache=not no_cache,
        one_shot=True,
    )
    try:
        result = run(options)
    except SitegenError as exc:
        console.fail(exc)
    for warning in result.warnings:
        console.warning(warning)
    console.done(result.summary())
    console.detail(f"output: {result.out}")
    console.detail(
        f"sources read again: {result.parsed}; pages rendered: {result.rendered}, reused: {result.reused}"
    )


@main.command()
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@console.root_option
@verbosity_options
def check(strict: bool, root: Path) -> None:
    """Validate config, content, templates and links; write nothing."""
    from sitegen.build import BuildOptions
    from sitegen.build import build as run

    try:
        result = run(BuildOptions(root=root, strict=strict, write=False))
    except SitegenError as exc:
        console.fail(exc)
    for warning in result.warnings:
        console.warning(warning)
    console.done(f"ok: {sum(result.pages.values())} pages in {len(result.pages)} regions, no problems")
    for rid, count in result.pages.items():
        console.detail(f"  {rid}: {count} pages")


@main.command()
@click.argument("what", metavar="DIR|page|service")
@click.argument("name", required=False, metavar="[PATH|ID]")
@console.root_option
@verbosity_options
def new(what: str, name: str | None, root: Path) -> None:
    """Create a small working multi-region site in DIR; or, in the site at --root, a page
    (`new page about/team.md`) or a catalog service (`new service local-seo`) from a template."""
    from sitegen import scaffold

    if what in ("page", "service") and name is None:
        raise click.UsageError(
            f"sitegen new {what} needs a {'PATH' if what == 'page' else 'ID'}; "
            f"for a site in a folder called '{what}', write sitegen new ./{what}"
        )
    if what not in ("page", "service") and name is not None:
        raise click.UsageError(f"sitegen new DIR takes one folder, or use: sitegen new page|service {name}")
    try:
        if what == "page" and name is not None:
            made = scaffold.new_page(root, name)
        elif what == "service" and name is not None:
            made = scaffold.new_service(root, name)
        else:
            files = scaffold.create(Path(what))
            for path in files:
                console.detail(f"  {path}")
            console.done(f"created {what}/: cd {what} && sitegen build")
            return
    except SitegenError as exc:
        console.fail(exc)
    console.done(f"created {made}: edit it, then sitegen serve (or sitegen build)")


@main.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on; when the default is busy the next free one is used, a given one must be free.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--country",
    default=None,
    metavar="CC",
    callback=lambda ctx, param, value: _country(value),
    help="Pretend visitors come from this country (ISO code).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in the web browser.")
@click.option(
    "--drafts/--no-drafts",
    default=True,
    show_default=True,
    help="Show pages with draft: true (marked with a 'draft' badge).",
)
@console.root_option
@verbosity_options
@click.pass_context
def serve(
    ctx: click.Context,
    port: int,
    host: str,
    country: str | None,
    open_browser: bool,
    drafts: bool,
    root: Path,
) -> None:
    """Live preview of every region, with the edge handlers at /api/ (Ctrl-C stops it)."""
    from click.core import ParameterSource

    from sitegen import serve as server

    if not (root / "site.yaml").is_file():
        # Nothing to preview: serving the folder as it is would show files that are not a site.
        console.fail(
            SitegenError(
                "no site.yaml here: run sitegen in a site folder, or create one with `sitegen new DIR`",
                "site.yaml",
            )
        )
    options = server.ServeOptions(
        root=root,
        host=host,
        port=port,
        port_given=ctx.get_parameter_source("port") != ParameterSource.DEFAULT,
        country=country,
        open_browser=open_browser,
        drafts=drafts,
        log_requests=not console.quiet(),
        log_builds=not console.quiet(),
        server_log_level="info" if console.verbose() else "warning",
    )

    def log(line: str) -> None:
        click.echo(line, err=True)

    try:
        server.run(options, log=log, note=console.note)
    except SitegenError as exc:
        console.fail(exc)


@main.command()
@click.option("--page", "page", metavar="PATH", help="Only this page: its URL (/about/) or its source file.")
@click.option(
    "--regions",
    default="all",
    show_default=True,
    metavar="A,B|all",
    help="The regions to compare: two or more ids, comma-separated, or all.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for tools (schema: docs/editors.md).")
@click.option("--drafts", is_flag=True, help="Include pages with draft: true.")
@console.root_option
@verbosity_options
def diff(page: str | None, regions: str, as_json: bool, drafts: bool, root: Path) -> None:
    """What differs between regions, page by page: region-only pages and blocks, values, prices, links."""
    import json

    from sitegen import diffview, regiondiff

    wanted = None if regions.strip() == "all" else [r.strip() for r in regions.split(",") if r.strip()]
    try:
        report = regiondiff.diff_site(root, regions=wanted, page=page, drafts=drafts)
    except SitegenError as exc:
        console.fail(exc)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
        return
    for line in diffview.text_lines(report, verbose=console.verbose()):
        click.echo(line)
    console.info(report.summary())


@main.command("vercel-project")
@console.root_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Project folder to write (default: <root>/.vercel-project).",
)
@verbosity_options
def vercel_project(root: Path, out: Path | None) -> None:
    """Write the Vercel project (static site + /api function) for the build in <root>/dist."""
    from sitegen.vercelproject import assemble

    try:
        written = assemble(root / "dist", out or root / ".vercel-project")
    except SitegenError as exc:
        console.fail(exc)
    console.done(f"wrote {written}/: run `vercel build` there")


@main.command()
@click.option("--port", default=8080, show_default=True, help="Port to listen on.")
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")
@console.root_option
@verbosity_options
def edge(port: int, host: str, root: Path) -> None:
    """Run the edge handlers (/api/...) for production, e.g. behind Netlify's /api proxy; they read
    the build data in <root>/dist/_edge/."""
    from sitegen import edgeserver

    try:
        edgeserver.run(root / "dist" / "_edge", host, port, verbosity=console.verbosity())
    except SitegenError as exc:
        console.fail(exc)


@main.command("config-docs")
@verbosity_options
def config_docs() -> None:
    """Print the site.yaml reference (docs/configuration.md)."""
    from sitegen.config import schema_markdown

    click.echo(schema_markdown(), nl=False)


# The staff commands (retention, privacy requests) live with their helpers in sitegen/staffcli.py.
main.add_command(staffcli.retention)
main.add_command(staffcli.rights)

if __name__ == "__main__":
    main()
