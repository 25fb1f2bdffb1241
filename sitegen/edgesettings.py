"""The edge handlers' settings for a site folder, for the staff commands (`retention`, `rights`).

The site is built in memory (nothing written) and its ``site.json`` read by the
edge's own loader, so the staff commands see exactly what the deployed handlers see.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.settings import Settings


@contextmanager
def edge_settings(root: Path) -> Iterator[Settings]:
    """Raises SitegenError (BuildFailed) when the site does not build."""
    from edge.settings import load_settings
    from sitegen.build import BuildOptions, build

    result = build(BuildOptions(root=root, write=False))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        (data / "site.json").write_bytes(result.files["_edge/site.json"])
        yield load_settings(
            data_dir=data, local_dir=os.environ.get("SITEGEN_LOCAL_DIR") or root / ".sitegen-local"
        )
