"""Cache sections: what is written reads back; anything damaged or foreign reads as empty."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitegen import cache as cache_module
from sitegen.cache import BuildCache, FileState, digest


def test_round_trip_and_disabled(tmp_path: Path) -> None:
    c = BuildCache(tmp_path / "c")
    c.save("s", {"a": [1, 2, b"x"]})
    assert c.load("s") == {"a": [1, 2, b"x"]}
    assert c.load("missing") is None
    off = BuildCache(tmp_path / "off", enabled=False)
    off.save("s", 1)
    assert off.load("s") is None and not (tmp_path / "off").exists()


@pytest.mark.parametrize("damage", ["truncate", "flip", "magic", "empty"])
def test_damaged_sections_read_as_empty(tmp_path: Path, damage: str) -> None:
    c = BuildCache(tmp_path)
    c.save("s", list(range(1000)))
    path = c.path("s")
    data = path.read_bytes()
    if damage == "truncate":
        data = data[:-10]
    elif damage == "flip":
        data = data[:-5] + bytes([data[-5] ^ 1]) + data[-4:]
    elif damage == "magic":
        data = b"X" + data[1:]
    else:
        data = b""
    path.write_bytes(data)
    assert c.load("s") is None
    assert c.problems


def test_sections_of_another_version_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = BuildCache(tmp_path)
    c.save("s", "old")
    monkeypatch.setattr(cache_module, "_STAMP", b"9.9|(3, 99)|1")
    assert c.load("s") is None
    assert c.problems == ["s: written by another version"]


def test_file_state_trusts_a_stat_only_for_files_older_than_the_last_build(tmp_path: Path) -> None:
    f = tmp_path / "a.md"
    f.write_text("one", encoding="utf-8")
    st = f.stat()
    recorded = {str(f): (st.st_size, st.st_mtime_ns, st.st_ino, "not-the-real-hash")}
    # The last build started long after the file was written: the stat is trusted.
    later = FileState(recorded, started_ns=st.st_mtime_ns + 10 * cache_module.RACY_NS)
    assert later.hash_of(str(f), f, st) == ("not-the-real-hash", None)
    # It started within the racy window: the file is read and hashed.
    racy = FileState(recorded, started_ns=st.st_mtime_ns + 1)
    assert racy.hash_of(str(f), f, st) == (digest(b"one"), b"one")
    # A different inode (a file replaced by rename) is never trusted.
    other = {str(f): (st.st_size, st.st_mtime_ns, st.st_ino + 1, "x")}
    assert FileState(other, st.st_mtime_ns + 10 * cache_module.RACY_NS).hash_of(str(f), f, st)[0] == digest(
        b"one"
    )


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = BuildCache(tmp_path)
    c.save("s", "first")

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        c.save("s", "second")
    assert c.load("s") == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["s.bin"]
