"""The staff commands: `sitegen retention` and `sitegen rights …` (registered on the CLI in cli.py).

They run the edge's own retention and privacy-request code (edge/retention.py, edge/rights.py)
with the edge settings of this site, built in memory; a refusal prints one line and exits 1.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sitegen import console
from sitegen.errors import SitegenError

if TYPE_CHECKING:
    from edge.settings import Settings


@contextmanager
def _edge_settings(root: Path) -> Iterator[Settings]:
    """The edge's settings for this site (built in memory); a site that does not build stops here."""
    from sitegen.edgesettings import edge_settings

    with ExitStack() as stack:
        try:
            settings = stack.enter_context(edge_settings(root))
        except SitegenError as exc:
            console.fail(exc)
        yield settings


@contextmanager
def _staff_errors() -> Iterator[None]:
    """A refused staff command prints one line and exits 1 (no traceback)."""
    from edge.retention import RetentionError
    from edge.rights import RightsError

    try:
        yield
    except (RetentionError, RightsError) as exc:
        console.error(str(exc))
        sys.exit(1)


@click.command()
@click.option(
    "--require-supabase", is_flag=True, help="Fail unless Supabase was reached with the service-role key."
)
@console.root_option
@console.verbosity_options
def retention(require_supabase: bool, root: Path) -> None:
    """Delete personal data past the retention periods in site.yaml (local store or Supabase)."""
    from edge import retention as edge_retention

    with _edge_settings(root) as settings, _staff_errors():
        results = edge_retention.run(settings)
        for line in results:
            console.info(str(line))
        if require_supabase:
            edge_retention.require_supabase(results)


@click.group()
def rights() -> None:
    """Carry out privacy requests: list, show (dry run), erase, answer (docs/privacy.md)."""


@rights.command("list")
@console.root_option
@console.verbosity_options
def rights_list(root: Path) -> None:
    """Open requests from the portal, oldest first."""
    from edge import rights as edge_rights

    with _edge_settings(root) as settings, _staff_errors():
        click.echo("\n".join(edge_rights.list_lines(edge_rights.backend(settings))))


@rights.command("show")
@click.argument("email")
@console.root_option
@console.verbosity_options
def rights_show(email: str, root: Path) -> None:
    """What is held for EMAIL: what `erase` would delete (changes nothing)."""
    from edge import rights as edge_rights

    with _edge_settings(root) as settings, _staff_errors():
        click.echo("\n".join(edge_rights.backend(settings).subject(email).lines()))


@rights.command("erase")
@click.argument("email", required=False)
@click.option("--request", "request_id", metavar="ID", help="The open request this carries out.")
@click.option(
    "--kind", type=click.Choice(["deletion", "objection", "withdrawal"]), help="Why (default: the request's)."
)
@click.option("--dry-run", is_flag=True, help="Only show what would be erased.")
@console.root_option
@console.verbosity_options
def rights_erase(
    email: str | None, request_id: str | None, kind: str | None, dry_run: bool, root: Path
) -> None:
    """Erase everything held for EMAIL (or the sender of --request ID) and log the outcome."""
    from edge import rights as edge_rights

    with _edge_settings(root) as settings, _staff_errors():
        backend = edge_rights.backend(settings)
        click.echo("\n".join(edge_rights.erase_lines(backend, email, request_id, kind, dry_run)))


@rights.command("answer")
@click.argument("request_id", metavar="ID")
@click.argument("outcome", type=click.Choice(["done", "refused"]))
@console.root_option
@console.verbosity_options
def rights_answer(request_id: str, outcome: str, root: Path) -> None:
    """Close a request that erases nothing (access, correction) or that is refused."""
    from edge import rights as edge_rights

    with _edge_settings(root) as settings, _staff_errors():
        edge_rights.backend(settings).answer(request_id, outcome)
    console.done(f"request {request_id}: {outcome}")
