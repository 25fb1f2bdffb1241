"""The encoded variants of one image file, and their cache in ``.sitegen-cache/images/``.

Pillow reads the file, turns it the right way up (EXIF orientation) and encodes it again at
each configured width no wider than itself, in its own format (JPEG, or PNG for PNG and GIF) and
as WebP; an animated image is kept as it is (resizing would keep only its first frame). A cache
entry is a folder written beside its final name and renamed, so a half-written entry is never
read; a missing or damaged one just means encoding again.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from sitegen.images import Settings

FORMATS = "JPEG, PNG, WebP or GIF"


class Unreadable(Exception):
    pass


Encoded = tuple[int, int, list[tuple[tuple[int, int, str], bytes]]]  # width, height, [(w, h, mime), bytes]
Named = tuple[int, int, list[tuple[tuple[int, int, str], tuple[str, bytes]]]]

_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


def encode(path: Path, settings: Settings) -> Encoded:
    """Every variant of one image file; raises Unreadable with the reason in words."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            kind = opened.format
            if kind not in ("JPEG", "PNG", "WEBP", "GIF"):
                raise Unreadable(f"it is a {kind} file, not {FORMATS}")
            animated = getattr(opened, "is_animated", False)
            opened.load()
            if animated:  # resizing would keep only the first frame: published as it is
                data = path.read_bytes()
                mime = f"image/{kind.lower()}"
                return opened.width, opened.height, [((opened.width, opened.height, mime), data)]
            image = ImageOps.exif_transpose(opened)
    except UnidentifiedImageError:
        raise Unreadable(f"not a {FORMATS} image, or a damaged one") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise Unreadable(f"damaged or unreadable image ({exc})") from None
    width, height = image.size
    own = {"JPEG": "image/jpeg", "WEBP": "image/webp"}.get(kind, "image/png")
    largest = max(settings.widths)
    widths = sorted({w for w in settings.widths if w < width} | {min(width, largest)})
    out: list[tuple[tuple[int, int, str], bytes]] = []
    mimes = [own] if own == "image/webp" else [own, "image/webp"]
    for mime in mimes:
        for w in widths:
            h = max(1, round(height * w / width))
            sized = image if w == width else image.resize((w, h), Image.Resampling.LANCZOS)
            out.append(((w, h, mime), save_as(sized, mime, settings.quality)))
    return width, height, out


def save_as(image: PILImage.Image, mime: str, quality: int) -> bytes:
    buf = io.BytesIO()
    if mime == "image/jpeg":
        image.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True, progressive=True)
    elif mime == "image/png":
        image.save(buf, "PNG", optimize=True)
    else:
        has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
        image.convert("RGBA" if has_alpha else "RGB").save(buf, "WEBP", quality=quality, method=4)
    return buf.getvalue()


def name_variants(made: Encoded, stem: str, short: str) -> Named:
    width, height, files = made
    named = [
        ((w, h, mime), (f"assets/img/{stem}.{w}.{short}.{_EXT[mime]}", data)) for (w, h, mime), data in files
    ]
    return width, height, named


def load_cached(folder: Path, stem: str, short: str) -> Named | None:
    """The variants kept in ``folder``, or None when it is missing or incomplete."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        files = [
            ((w, h, mime), (f"assets/img/{stem}.{w}.{short}.{_EXT[mime]}", (folder / name).read_bytes()))
            for w, h, mime, name in meta["variants"]
        ]
        return int(meta["width"]), int(meta["height"]), files
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_cached(folder: Path, named: Named) -> None:
    """Keep the variants (written beside, then renamed: a half-written entry is never read)."""
    width, height, files = named
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        listed = []
        for i, ((w, h, mime), (_, data)) in enumerate(files):
            name = f"{i}.{_EXT[mime]}"
            (tmp / name).write_bytes(data)
            listed.append([w, h, mime, name])
        meta = {"width": width, "height": height, "variants": listed}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.rename(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # the cache is an optimisation: the build goes on


def pillow_version() -> str:
    from PIL import __version__

    return __version__
