"""`sitegen serve` runs the edge app under the edge's own lifespan, as `uvicorn edge.app:app` does."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.devserver import Running

Start = Callable[..., AbstractContextManager[Running]]


class Recorder:
    """Edge apps whose lifespan records starting and stopping, and whose requests see the lifespan's state."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def factory(self, data_dir: Path, local_dir: Path) -> Starlette:
        number = len([e for e in self.events if e.startswith("made")]) + 1
        self.events.append(f"made {number}")

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[dict[str, int]]:
            self.events.append(f"start {number}")
            yield {"number": number}
            self.events.append(f"stop {number}")

        async def which(request: Request) -> JSONResponse:
            return JSONResponse({"number": request.state.number})

        return Starlette(routes=[Route("/api/which", which)], lifespan=lifespan)


def test_the_edge_starts_before_its_first_request_and_stops_at_shutdown(start: Start) -> None:
    recorder = Recorder()
    with start(edge_factory=recorder.factory) as run:
        assert recorder.events == ["made 1"]  # not started before anything asks for it
        assert run.client.get("/api/which").json() == {
            "number": 1
        }  # the lifespan's state reached the request
        assert run.client.get("/api/which").json() == {"number": 1}
        assert recorder.events == ["made 1", "start 1"]  # started once
    assert recorder.events == ["made 1", "start 1", "stop 1"]


def test_a_rebuild_with_new_edge_data_stops_the_old_app_before_starting_the_new(
    start: Start, site: Path
) -> None:
    recorder = Recorder()
    with start(edge_factory=recorder.factory) as run:
        assert run.client.get("/api/which").json() == {"number": 1}
        yaml = site / "site.yaml"
        yaml.write_text(yaml.read_text().replace("title: Mini", "title: Mini two"))
        assert run.dev.rebuild("site.yaml")
        assert run.client.get("/api/which").json() == {"number": 2}
        assert recorder.events == ["made 1", "start 1", "made 2", "stop 1", "start 2"]
    assert recorder.events[-1] == "stop 2"


def test_an_edge_whose_startup_fails_answers_503_with_the_reason(start: Start) -> None:
    @contextlib.asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    with start(edge_factory=lambda data, local: Starlette(lifespan=broken)) as run:
        answer = run.client.get("/api/health")
        assert answer.status_code == 503
        assert "no database" in answer.json()["error"]
