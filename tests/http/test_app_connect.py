"""An app of `escrow.app.build_app` connected to one database and then to another (`connect`), as the tests'
`app` fixture does for every test: it answers from the second database only, with its own rate limits, and
the first connection's report runner is stopped."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from escrow.api.public import LIMIT_STATE
from escrow.api.reports import RUNNER_STATE
from escrow.app import build_app, connect
from escrow.store.db import make_engine
from tests.conftest import fresh_database, make_world, project_body, settings_for


def test_an_app_connected_again_answers_from_its_new_database_only(request, db_url, engine, today, tmp_path):
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    first = make_world(engine)
    app = build_app(settings_for(db_url))
    connect(app, settings_for(db_url), engine=engine, today=lambda: today)
    with TestClient(app) as client:
        opened = client.post("/api/v1/projects", json=project_body(), headers=first.headers("admin", "open"))
        assert opened.status_code == 201, opened.text
    first_runner, first_limit = app.state[RUNNER_STATE], app.state[LIMIT_STATE]
    first_pool = first_runner._executor()  # as the first report asked for would start it
    with fresh_database(request, backend, tmp_path / "second.db") as second_url:
        second_engine = make_engine(second_url)
        try:
            second = make_world(second_engine)
            connect(app, settings_for(second_url), engine=second_engine, today=lambda: today)
            assert app.state.runtime.engine is second_engine
            assert app.state[RUNNER_STATE] is not first_runner and app.state[LIMIT_STATE] is not first_limit
            with pytest.raises(RuntimeError, match="after shutdown"):  # stopped, not left running
                first_pool.submit(int)
            with TestClient(app) as client:
                project = f"/api/v1/projects/{opened.json()['project_id']}"
                # the first database's key means nothing here, and its project is not here
                assert client.get(project, headers=first.headers("admin")).status_code == 401
                assert client.get(project, headers=second.headers("admin")).status_code == 404
                again = client.post(
                    "/api/v1/projects", json=project_body(), headers=second.headers("admin", "open")
                )
                assert again.status_code == 201, again.text  # the same Idempotency-Key: not the first's
        finally:
            second_engine.dispose()
