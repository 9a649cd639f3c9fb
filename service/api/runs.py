"""Score runs over the API: list them, read one, start a full run (202, poll the location)."""
from __future__ import annotations

import datetime as dt

from flask import Response, json, request, url_for
from pydantic import Field

from .. import scoring
from ..access import requires
from ..app import runtime
from ..auth.trail import audited
from ..reads import NotFound
from ..scoring.background import RunLocked, start_run
from . import bp, schemas
from .problems import Conflict
from .spec import JSON, Query, documented, parse_query
from .spec import Response as Doc

__all__ = ["RunsQuery", "StartRunQuery"]


class RunsQuery(Query):
    limit: int = Field(20, ge=1, le=500)


class StartRunQuery(Query):
    as_of: dt.date | None = Field(None, description="score as of this date (default: today)")


@bp.get("/score-runs")
@requires("analyst")
@documented("Score runs", tags=("score runs",), params=RunsQuery, errors=(400,),
            description="Recent runs, newest first, whatever their status; exactly one is published.",
            responses={200: Doc("runs", schemas.ScoreRunList)})
def list_runs() -> Response:
    q = parse_query(RunsQuery, request.args)
    store = runtime().store
    body = {"published": scoring.published_run(store), "runs": scoring.list_runs(store, q.limit)}
    return Response(json.dumps(body), mimetype=JSON)


@bp.get("/score-runs/<int:run_id>")
@requires("analyst")
@documented("One score run", tags=("score runs",), errors=(404,),
            description="Model version and hash, as-of date, input counts, timings and status of one run.",
            responses={200: Doc("the run", schemas.ScoreRun)})
def get_run(run_id: int) -> Response:
    run = scoring.get_run(runtime().store, run_id)
    if run is None:
        raise NotFound(f"no score run with id {run_id}")
    return Response(json.dumps(run), mimetype=JSON)


@bp.post("/score-runs")
@requires("admin")
@audited("score.run", "score-runs")
@documented("Start a full score run", tags=("score runs",), params=StartRunQuery, errors=(400, 409),
            description="Starts a run in the background and answers 202 with the run's location to poll; 409 "
                        "while another run is in progress. The run publishes atomically when it is done.",
            responses={202: Doc("the run started", schemas.RunStarted, (JSON,), ("Location",))})
def start_score_run() -> tuple[Response, int]:
    q = parse_query(StartRunQuery, request.args)
    rt = runtime()
    try:
        run_id = start_run(rt.store, rt.settings, as_of=q.as_of, index=rt.park_index)
    except RunLocked as exc:
        raise Conflict(str(exc)) from None
    resp = Response(json.dumps({"run_id": run_id, "status": "running" if run_id is not None else "finished"}),
                    mimetype=JSON)
    if run_id is not None:
        resp.headers["Location"] = url_for("api.get_run", run_id=run_id)
    return resp, 202
