"""What the command line prints: how much (-q / -v) and whether in colour.

Every command takes ``-q/--quiet`` (only problems, and the data a command exists
to print) and ``-v/--verbose`` (also the details behind its summary). Colour is
used on a terminal only: click strips styles from a stream that is not one, and
``NO_COLOR`` (https://no-color.org) turns them off everywhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from sitegen.errors import BuildFailed, SitegenError

QUIET, NORMAL, VERBOSE = -1, 0, 1
_KEY = "sitegen.verbosity"

F = TypeVar("F", bound=Callable[..., Any])


# The exit status when whoever reads the output stops early (`sitegen diff | head -1`): 128 + SIGPIPE,
# what a shell reports for cat, grep or git in the same place.
CLOSED_OUTPUT = 141


class Group(click.Group):
    """The command group: a closed standard output ends the command quietly with CLOSED_OUTPUT.

    (click itself would exit 1, indistinguishable from a failure.)
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # what is still buffered fails here, not in the interpreter's exit
            return result
        except BrokenPipeError:
            # Nothing more can reach the reader: later writes, and the flush at exit, go nowhere.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(CLOSED_OUTPUT)


def no_color_wanted() -> bool:
    """NO_COLOR set to anything but the empty string turns colour off."""
    return bool(os.environ.get("NO_COLOR"))


def _set(level: int) -> Callable[[click.Context, click.Parameter, bool], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            ctx.meta[_KEY] = level

    return callback


_OPTIONS = (
    ("-q", "--quiet", QUIET, "Print only problems (and what the command exists to print)."),
    ("-v", "--verbose", VERBOSE, "Also print the details behind the summary."),
)


def verbosity_options(command: F) -> F:
    """Add -q/--quiet and -v/--verbose to a command (they set the verbosity, not a parameter)."""
    for short, long, level, text in reversed(_OPTIONS):
        option = click.option(short, long, is_flag=True, expose_value=False, callback=_set(level), help=text)
        command = option(command)
    return command


def verbosity() -> int:
    ctx = click.get_current_context(silent=True)
    return int(ctx.meta.get(_KEY, NORMAL)) if ctx is not None else NORMAL


def quiet() -> bool:
    return verbosity() == QUIET


def verbose() -> bool:
    return verbosity() == VERBOSE


def info(text: str) -> None:
    """A line of normal output (not with -q)."""
    if verbosity() > QUIET:
        click.echo(text)


def done(text: str) -> None:
    """A success summary: normal output, green on a terminal."""
    if verbosity() > QUIET:
        click.echo(click.style(text, fg="green"))


def detail(text: str) -> None:
    """A line only -v prints."""
    if verbosity() >= VERBOSE:
        click.echo(click.style(text, dim=True))


def warning(problem: SitegenError | str) -> None:
    click.echo(click.style("warning:", fg="yellow", bold=True) + f" {problem}", err=True)


def error(problem: SitegenError | str) -> None:
    click.echo(click.style("error:", fg="red", bold=True) + f" {problem}", err=True)


def note(text: str) -> None:
    """A line about the run itself (a port taken, the server stopped), on stderr; not with -q."""
    if verbosity() > QUIET:
        click.echo(text, err=True)


def fail(exc: SitegenError) -> NoReturn:
    """Print a failed command's problems (each once, warnings first) and exit with its code."""
    errors = exc.errors if isinstance(exc, BuildFailed) else [exc]
    for problem in getattr(exc, "warnings", []):
        warning(problem)
    for problem in errors:
        error(problem)
    if isinstance(exc, BuildFailed):
        click.echo(f"{exc.message}", err=True)
    sys.exit(getattr(exc, "exit_code", 1))


# --root, on every command that reads a site.
root_option = click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    help="Site folder (default: here).",
)
