"""Worker processes: a parallel build writes byte for byte what one process writes.

Run through the CLI in a subprocess (as developers and CI run it): forking the
test runner itself, which may have threads, is not what users do.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.sitefactory import tree

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from make_site import make_site  # noqa: E402


def sitegen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitegen.cli", "build", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )


def test_parallel_build_is_byte_identical_to_one_process(tmp_path: Path) -> None:
    site = tmp_path / "site"
    make_site(site, 450)  # above the thresholds for forking workers in both stages
    one = sitegen("--root", str(site), "--out", str(tmp_path / "one"), "--jobs", "1", "--no-cache")
    two = sitegen("--root", str(site), "--out", str(tmp_path / "two"), "--jobs", "2", "--no-cache")
    assert "2 processes" in two.stdout and "processes" not in one.stdout
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert len([n for n in tree(tmp_path / "two") if n.endswith(".html")]) > 900

    # An edit that re-renders every page (a template change), in parallel, with the cache.
    cached = sitegen("--root", str(site), "--out", str(tmp_path / "cached"), "--jobs", "2")
    assert "cache: 0 of" in cached.stdout
    templates = site / "templates"
    templates.mkdir()
    (templates / "page.html").write_text(
        (ROOT / "themes/default/templates/page.html").read_text(encoding="utf-8") + "{# edited #}\n",
        encoding="utf-8",
    )
    page = site / "content/pages/page-00007.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    again = sitegen("--root", str(site), "--out", str(tmp_path / "cached"), "--jobs", "2")
    assert "2 processes" in again.stdout
    sitegen("--root", str(site), "--out", str(tmp_path / "clean"), "--jobs", "1", "--no-cache")
    assert tree(tmp_path / "cached") == tree(tmp_path / "clean")


def test_no_change_build_checks_its_outputs_in_a_child_and_still_sees_every_change(tmp_path: Path) -> None:
    # With more than one job, a no-change build stats the outputs and lists the output folder in
    # a forked child while it stats the inputs: each kind of change must still be seen.
    site = tmp_path / "site"
    make_site(site, 30)
    out = tmp_path / "out"
    flags = ("--root", str(site), "--out", str(out), "--jobs", "2")
    sitegen(*flags)
    assert "0 files written" in sitegen(*flags).stdout
    (out / "by-hand.txt").write_text("copied in by hand\n", encoding="utf-8")
    (out / "north" / "extra").mkdir()
    (out / "north" / "extra" / "note.txt").write_text("also\n", encoding="utf-8")
    found = sitegen(*flags).stdout
    assert "0 files written" in found and "2 files in out/ not made by sitegen" in found, found
    assert "by-hand.txt, north/extra/note.txt" in found

    # An output changed behind the build's back: written again.
    page = next(out.glob("north/pages/*/index.html"))
    page.write_text("tampered", encoding="utf-8")
    rebuilt = sitegen(*flags).stdout
    assert " 1 files written" in rebuilt, rebuilt
    assert page.read_text(encoding="utf-8") != "tampered"

    # An input changed, and at the same time an output its pages do not touch: the scan the
    # children made serves the edit (which outputs are intact, which files no build made).
    sources = sorted((site / "content" / "pages").glob("*.md"))
    sources[0].write_text(sources[0].read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    other = out / "west" / "pages" / sources[-1].stem / "index.html"
    other.write_text("tampered", encoding="utf-8")
    edited = sitegen(*flags).stdout
    assert "cache: 71 of 74 pages unchanged" in edited, edited  # the edited page twice, the tampered one
    assert "2 files in out/ not made by sitegen" in edited, edited
    assert other.read_text(encoding="utf-8") != "tampered"
    sitegen("--root", str(site), "--out", str(tmp_path / "clean"), "--jobs", "1", "--no-cache")
    made = {k: v for k, v in tree(out).items() if not k.startswith(("by-hand", "north/extra"))}
    assert made == tree(tmp_path / "clean")


def test_work_set_aside_in_a_child_comes_back_or_is_done_here() -> None:
    script = """
import os
from sitegen import workers
parent = os.getpid()
assert workers.aside(os.getpid).result() != parent  # ran in a child

calls = []
def fails_in_the_child():
    calls.append(1)
    if os.getpid() != parent:
        raise RuntimeError("child fails")
    return "done here"
assert workers.aside(fails_in_the_child).result() == "done here"

def no_fork():
    raise OSError(11, "Resource temporarily unavailable")
real_fork, os.fork = os.fork, no_fork
assert workers.aside(os.getpid).result() == parent  # no child: done here
os.fork = real_fork

import signal, time
def interrupt(*_):
    raise KeyboardInterrupt
signal.signal(signal.SIGALRM, interrupt)
waited = workers.aside(lambda: time.sleep(30))
signal.setitimer(signal.ITIMER_REAL, 0.2)
try:
    waited.result()
    raise AssertionError("not interrupted")
except KeyboardInterrupt:
    pass
unrelated = os.pipe()  # may take the number of the pipe the interrupted read closed
waited.cancel()  # must neither close that fd nor leave the child running
os.fstat(unrelated[0]); os.fstat(unrelated[1])

slow = workers.aside(lambda: time.sleep(30))
started = time.monotonic()
slow.cancel()
assert time.monotonic() - started < 10
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_files_a_build_without_the_cache_made_are_not_reported_as_nobodys(tmp_path: Path) -> None:
    # The children's listing leaves out what the last cached build made; a build with --no-cache
    # into the same folder since can have made more (listed in the manifest). An in-place update
    # that removes such a file must not report it as a file no build made.
    site = tmp_path / "site"
    make_site(site, 30)
    out = tmp_path / "out"
    flags = ("--root", str(site), "--out", str(out), "--jobs", "2")
    sitegen(*flags)  # the cached state: 30 pages
    extra = site / "content" / "pages" / "extra-page.md"
    extra.write_text("---\ntitle: Extra\n---\nMade by the uncached build only.\n", encoding="utf-8")
    sitegen(*flags, "--no-cache")  # the folder now holds the extra page; the state does not know it
    extra.unlink()
    done = sitegen(*flags).stdout  # every page re-rendered (new inodes), in place (74 pages)
    assert "not made by sitegen" not in done, done
    assert not (out / "north" / "pages" / "extra-page").exists()
    sitegen("--root", str(site), "--out", str(tmp_path / "clean"), "--jobs", "1", "--no-cache")
    assert tree(out) == tree(tmp_path / "clean")
