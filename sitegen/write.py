"""The write stage: the output folder as the build leaves it.

Few re-rendered pages are held in memory and written in place over the last output (only files
that differ from what is on disk); many, or an output that cannot be updated in place, are
streamed into a staging folder that is swapped in whole. Either way nothing changes until every
page rendered and every link checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.cache import digest
from sitegen.changes import LastBuild, Stamp
from sitegen.errors import SitegenError
from sitegen.output import MANIFEST
from sitegen.staticfiles import foreign_files

if TYPE_CHECKING:
    from sitegen.build import BuildResult
    from sitegen.output import Output, Staging
    from sitegen.render_jobs import RenderOutcome

# Up to this many re-rendered pages are held in memory and written in place;
# more are streamed into a new output folder that is swapped in.
IN_PLACE = 200


def open_staging(out: Path, write: bool, to_render: int, last: LastBuild) -> Staging | None:
    """A new output folder to swap in when many pages change (or nothing can be updated in place)."""
    from sitegen.output import Staging

    if write and (to_render > IN_PLACE or not last.same_output or not (out / MANIFEST).is_file()):
        return Staging(out)
    return None


def write_output(
    out: Path,
    output: Output,
    outcome: RenderOutcome,
    staging: Staging | None,
    last: LastBuild,
    result: BuildResult,
) -> tuple[list[str], dict[str, str], dict[str, Stamp]]:
    """Swap the staging folder in, or update the old output in place.

    Returns every output file's name and digest, and the stamps of those left as they were
    (stat-ed once already, by ``last.intact``, so the saved state need not stat them again).
    """
    from sitegen.output import OutputFiles, check_ours, update

    names = [*output.names(), *outcome.rendered]
    kept: dict[str, Stamp] = {}
    digests = {rel: entry.digest for rel, entry in outcome.rendered.items()}
    digests.update(output.kept)  # left in the folder as they are, found intact
    digests.update(output.staged)  # in the staging folder already
    for rel, data in output.files.items():
        digests[rel] = digest(data)
    made_before: set[str] = set()  # the manifest an in-place update found
    if staging is not None:
        try:
            for rel in output.kept:
                if not staging.keep(rel):
                    raise SitegenError(f"could not carry {rel} over from the previous output", str(out))
            for rel, data in outcome.in_memory.items():
                staging.put(rel, data)
            for rel, data in output.files.items():
                staging.place(rel, data, digests[rel], last)
            for rel in outcome.rendered:
                if rel not in outcome.fresh and not staging.keep(rel):
                    raise SitegenError(f"could not carry {rel} over from the previous output", str(out))
            result.removed = staging.commit(names)
        except BaseException:
            staging.abort()
            raise
        result.written = staging.written
    else:
        # Written unless the file on disk is already exactly this (re-rendered pages too:
        # their output may be what was damaged).
        changed = {
            rel: data
            for files in (outcome.in_memory, output.files)
            for rel, data in files.items()
            if not last.intact(rel, digests[rel])
        }
        made_before = check_ours(out)
        result.removed = update(out, changed, names, made_before)
        result.written = len(changed)
        # Every other file was found intact (last.intact) by this build: its stamp stands.
        previous = last.state.outputs if last.state is not None else {}
        kept = {rel: previous[rel] for rel in names if rel not in changed and rel in previous}
    result.files = OutputFiles(out, names)
    # Listed before the update, in a child; or carried over into the swapped-in folder.
    found = last.foreign(names, made_before) if staging is None else staging.carried
    result.kept = foreign_files(out, names, MANIFEST) if found is None else sorted(found)
    return names, digests, kept
