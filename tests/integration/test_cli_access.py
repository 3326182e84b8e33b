"""`escrow user disable|enable` and `escrow api-key revoke`: through the admin pages' use cases, audited,
and an unknown user or key (or one already revoked) is one readable line and exit 1."""

from __future__ import annotations

import io
import sys

import pytest
from sqlalchemy import select

from escrow.cli import main
from escrow.store.db import UnitOfWork
from escrow.store.models import ApiKey, AuditEvent, User, WebSession
from tests.conftest import REPO
from tests.integration.test_cli import _one_line_error
from tests.web import PASSWORD, sign_in

STATS = "/api/v1/stats?from=2025-01-01&to=2025-12-31"


@pytest.fixture
def cli(db_url, monkeypatch):
    """The CLI in-process against the test database (as tests/integration/test_cli.py runs it)."""
    monkeypatch.setenv("ESCROW_DATABASE_URL", db_url)
    monkeypatch.setenv("ESCROW_RULES_DIR", str(REPO / "rules"))

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        return main(list(argv)), out.getvalue(), err.getvalue()

    return run


def _key(cli, username: str) -> str:
    return cli("api-key", "create", "--user", username)[1].strip().splitlines()[-1]


def _actions(engine, action: str) -> list[tuple[str, str]]:
    with UnitOfWork(engine, readonly=True) as uow:
        rows = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        return [(row.actor, row.subject_id) for row in rows]


def test_user_disable_ends_sessions_stops_keys_and_enable_brings_them_back(cli, client, users, engine):
    key = _key(cli, "auditor")
    sign_in(client, "auditor")
    assert client.get(STATS, headers={"Authorization": f"Bearer {key}"}).status_code == 200

    code, out, err = cli("user", "disable", "auditor")
    assert (code, err) == (0, "") and "auditor" in out and "disabled" in out
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalar(select(User).where(User.username == "auditor")).active is False
        assert uow.session.scalars(select(WebSession)).all() == []  # the session ended at once
    assert client.get(STATS, headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert client.get("/projects", follow_redirects=False).headers["location"].startswith("/login")
    assert _actions(engine, "user.disabled") == [("operator:0", "auditor")]

    code, out, _ = cli("user", "enable", "auditor")
    assert code == 0 and "enabled" in out
    assert client.get(STATS, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    sign_in(client, "auditor", PASSWORD)
    assert _actions(engine, "user.enabled") == [("operator:0", "auditor")]


def test_user_disable_and_enable_of_an_unknown_user(cli):
    for verb in ("disable", "enable"):
        code, out, err = cli("user", verb, "nobody")
        assert code == 1 and out == ""
        _one_line_error(err, "no user named nobody")


def test_api_key_revoke_by_prefix_number_or_whole_key(cli, client, world, engine):
    keys = [_key(cli, "auditor") for _ in range(3)]
    with UnitOfWork(engine, readonly=True) as uow:
        rows = {row.prefix: row.id for row in uow.session.scalars(select(ApiKey))}
    prefixes = [key.split("_")[1] for key in keys]
    refs = [prefixes[0], str(rows[prefixes[1]]), keys[2]]
    for key, ref, prefix in zip(keys, refs, prefixes, strict=True):
        assert client.get(STATS, headers={"Authorization": f"Bearer {key}"}).status_code == 200
        code, out, err = cli("api-key", "revoke", ref)
        assert (code, err) == (0, "") and prefix in out and "revoked" in out
        assert client.get(STATS, headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert sorted(subject for _, subject in _actions(engine, "api_key.revoked")) == sorted(prefixes)

    code, _, err = cli("api-key", "revoke", prefixes[0])
    assert code == 1
    _one_line_error(err, prefixes[0], "already revoked")
    for unknown in ("zzzzzzzz", "999999", "esk_zzzzzzzz_whatever"):
        code, _, err = cli("api-key", "revoke", unknown)
        assert code == 1
        _one_line_error(err, "no API key")
