#!/usr/bin/env python3
"""The host's build command (Netlify, Vercel, CI): production build into dist/.

Runs from a fresh clone without installing the package: the repository root
is put on sys.path. Extra arguments are passed to `sitegen build`.

On a host's preview deploy the build names the preview's own address instead of
production (``--base-url``): Netlify's deploy previews and branch deploys
(``CONTEXT`` deploy-preview / branch-deploy, address in ``DEPLOY_PRIME_URL``) and
Vercel's preview deployments (``VERCEL_ENV=preview``, address in
``VERCEL_BRANCH_URL``, else ``VERCEL_URL``, both without a scheme). An explicit
``--base-url`` or ``SITEGEN_BASE_URL`` wins.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

NETLIFY_PREVIEWS = ("deploy-preview", "branch-deploy")


def preview_origin(env: Mapping[str, str]) -> str | None:
    """The address of the host's preview deploy being built, or None for production and elsewhere."""
    if env.get("NETLIFY") == "true" and env.get("CONTEXT") in NETLIFY_PREVIEWS:
        return env.get("DEPLOY_PRIME_URL") or None
    if env.get("VERCEL") == "1" and env.get("VERCEL_ENV") == "preview":
        host = env.get("VERCEL_BRANCH_URL") or env.get("VERCEL_URL")
        return f"https://{host}" if host else None
    return None


def arguments(argv: list[str], env: Mapping[str, str]) -> list[str]:
    """The `sitegen build` command line for this environment."""
    args = ["build", "--root", str(ROOT), *argv]
    explicit = env.get("SITEGEN_BASE_URL") or any(
        a == "--base-url" or a.startswith("--base-url=") for a in argv
    )
    origin = None if explicit else preview_origin(env)
    if origin:
        args += ["--base-url", origin]
    return args


if __name__ == "__main__":
    from sitegen.cli import main

    sys.exit(main(arguments(sys.argv[1:], os.environ)))
