"""Where the site's templates and static files come from: its own folders, then its theme's."""

from __future__ import annotations

from pathlib import Path

from sitegen.config import SiteConfig
from sitegen.errors import SitegenError

BUILTIN_THEMES = Path(__file__).resolve().parent.parent / "themes"


def theme_dir(config: SiteConfig) -> Path:
    """The site's own themes/<name>, else sitegen's built-in one."""
    for base in (config.root / "themes", BUILTIN_THEMES):
        candidate = base / config.theme
        if (candidate / "templates").is_dir():
            return candidate
    raise SitegenError(
        f"theme '{config.theme}' not found: looked in {config.root / 'themes'} and {BUILTIN_THEMES}",
        config.file.name,
        key="theme",
    )


def template_dirs(config: SiteConfig) -> list[Path]:
    dirs = [config.root / "templates", theme_dir(config) / "templates"]
    return [d for d in dirs if d.is_dir()]
