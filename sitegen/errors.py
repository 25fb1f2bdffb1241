"""The one exception family of sitegen, and the collection the CLI prints once.

Every problem names where it is (file and line, when known) and the key path
for configuration problems, so an editor can go straight to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class SitegenError(Exception):
    """A problem in the site's sources: config, content, catalog or templates."""

    def __init__(
        self, message: str, file: str | Path | None = None, line: int | None = None, key: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.key = key

    def __reduce__(self) -> tuple[type, tuple[str, str | None, int | None, str | None]]:
        # Pickled by worker processes and the build cache: keep where the problem is.
        return (self.__class__, (self.message, self.file, self.line, self.key))

    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        parts = [p for p in (self.location(), self.key) if p]
        parts.append(self.message)
        return ": ".join(parts)

    def sort_key(self) -> tuple[str, int, str]:
        return (self.file or "", self.line or 0, self.message)


class BuildFailed(SitegenError):
    """Raised with every problem found; the build wrote nothing to the output."""

    def __init__(self, errors: list[SitegenError], warnings: list[SitegenError] | None = None) -> None:
        self.errors = sorted(errors, key=SitegenError.sort_key)
        self.warnings = warnings or []
        n = len(self.errors)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found; nothing was written")


@dataclass
class Problems:
    """Collects errors and warnings so one run reports all of them together."""

    errors: list[SitegenError] = field(default_factory=list)
    warnings: list[SitegenError] = field(default_factory=list)

    def error(
        self, message: str, file: str | Path | None = None, line: int | None = None, key: str | None = None
    ) -> None:
        self.errors.append(SitegenError(message, file, line, key))

    def warn(
        self, message: str, file: str | Path | None = None, line: int | None = None, key: str | None = None
    ) -> None:
        self.warnings.append(SitegenError(message, file, line, key))

    def add(self, error: SitegenError) -> None:
        if isinstance(error, BuildFailed):
            self.errors.extend(error.errors)
            self.warnings.extend(error.warnings)
        else:
            self.errors.append(error)

    def extend(self, other: Problems) -> None:
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)

    def check(self, strict: bool = False, errors_only: bool = False) -> None:
        """Raise BuildFailed when there are errors (or warnings, when strict).

        ``errors_only``: a stage boundary; stop only for errors (listing warnings as ``strict`` says),
        so a warning never hides what later stages would find.
        """
        if errors_only and not self.errors:
            return
        errors = list(self.errors)
        if strict:
            errors += [
                SitegenError(f"{w.message} (a warning, fatal with --strict)", w.file, w.line, w.key)
                for w in self.warnings
            ]
        if errors:
            raise BuildFailed(unique(errors), [] if strict else unique(self.warnings))


def unique(problems: list[SitegenError]) -> list[SitegenError]:
    """Each problem once: the same mistake found in every region is reported once."""
    return list({str(e): e for e in problems}.values())
