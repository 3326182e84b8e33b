"""Migration 0005 on both engines: cap terms stored before terms carried codes get the code and params the
domain gives the same term today, so the bureau's release page says an old release in Chinese again.

Each test starts from a database migrated only to 0004 (the revision before), stores caps the way the code
before 0005 did (terms of `term`, `value`, `rule` and the English `detail`), then upgrades to the head."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import JSON, DateTime, Engine, column, create_engine, insert, select, table, text, update
from sqlalchemy.engine import make_url

from escrow.domain.caps import Term
from escrow.services.refunds import available
from escrow.services.releases import cap_json
from escrow.store.db import make_engine
from escrow.store.migrate import alembic_config, upgrade
from escrow.store.models import ApprovalStep, Release
from tests.conftest import BACKENDS, PG_URL, project_body
from tests.http.test_api_releases import BOOK, release_body, site, steps  # noqa: F401 (fixtures)
from tests.unit.test_cap_words import cap_at as fresh_cap  # a cap the domain computes now

BEFORE = "0004"  # the revision before the backfill
RETENTION_ZH = "重点监管资金 ¥10,000,000.00 × 留存比例 70%（“主体结构完成二分之一”节点已确认）"
OLD_DETAIL = "key supervised amount 10000000.00 × (share 0.70 + surcharge 0.00) at node half_structure"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Overrides the conftest's: an empty database at the head (`engine`, `world`, `client` and `web` are
    built on it as usual); `ids` opens a project through the app, then takes the schema back to BEFORE."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        _migrate_to(url, "head")
        yield url
        return
    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"escrow_old_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _migrate_to(url, "head")
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _migrate_to(url: str, revision: str) -> None:
    engine = make_engine(url)
    upgrade(engine, revision)
    engine.dispose()


def backfill(engine: Engine) -> None:
    """Run 0005 over the rows as they are: the schema is at the head (the app writes the rows), so the
    version is set back to BEFORE, 0005 runs (it changes data only), and the version goes back to the head."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.stamp(cfg, BEFORE, purge=True)
        command.upgrade(cfg, "0005")
        command.stamp(cfg, "head", purge=True)


def old_format(cap: Any) -> Any:
    """A stored cap as the code before 0005 wrote it: its terms without `code` and `params`."""
    if isinstance(cap, dict):
        return {k: old_format(v) for k, v in cap.items() if k not in ("code", "params")}
    if isinstance(cap, list):
        return [old_format(v) for v in cap]
    return cap


def as_0005(cap: dict[str, Any]) -> dict[str, Any]:
    """A cap the domain computes now, with its terms coded as 0005 codes them (the codes of the day): the
    freeze term as `court_freezes` without params (0006 split it by exemption and overlap), the retention
    without the guarantee base (0006 added it)."""
    copied = json.loads(json.dumps(cap))
    for term in copied.get("explanation", copied)["terms"]:
        if term["term"] == "frozen":
            term["code"], term["params"] = "court_freezes", {}
        term.get("params", {}).pop("guarantee_share_of", None)
    return copied


def terms_of(stored: dict[str, Any]) -> list[Term]:
    holder = stored.get("explanation", stored)
    return [Term.from_json(t) for t in holder["terms"]]


def stored_caps(engine: Engine, model) -> dict[int, dict[str, Any]]:
    with engine.connect() as conn:
        return dict(conn.execute(select(model.id, model.cap).order_by(model.id)).all())


def make_old(engine: Engine) -> None:
    """Every stored cap back to the old format, as a database written before 0005 holds them."""
    stored = {model: stored_caps(engine, model) for model in (Release, ApprovalStep)}
    with engine.begin() as conn:
        for model, rows in stored.items():
            for row_id, cap in rows.items():
                conn.execute(update(model).where(model.id == row_id).values(cap=old_format(cap)))


# --- the page --------------------------------------------------------------------------------------------


@pytest.fixture
def old_release(engine, site, steps) -> dict[str, Any]:  # noqa: F811
    """A 3,000,000.00 release at half_structure (key amount 10,000,000.00, retention 7,000,000.00) with its
    first step taken, applied and reviewed through the real API; returns the caps it stored (new format)
    and then turns them into the old format."""
    release = steps.applied(release_body(site["project_id"]))
    assert steps.decide(release["release_id"], "reviewer").status_code == 201
    fresh = {model: stored_caps(engine, model) for model in (Release, ApprovalStep)}
    make_old(engine)
    return {"release_id": release["release_id"], "fresh": fresh}


def test_an_old_release_is_said_in_chinese_again_after_the_upgrade(web, engine, old_release):
    url = f"/releases/{old_release['release_id']}"
    # the review page's one cap table says each term in the words of the cap now, beside its figure at
    # application and now: the stored English never shows there, before the upgrade or after
    before = web("reviewer").get(url).text
    assert RETENTION_ZH in before and OLD_DETAIL not in before

    backfill(engine)

    for model, fresh in old_release["fresh"].items():
        migrated = stored_caps(engine, model)
        expected = {row_id: as_0005(cap) for row_id, cap in fresh.items()}
        assert migrated == expected  # byte for byte what the code stored, in the codes of 0005
        for row_id, cap in expected.items():
            assert terms_of(migrated[row_id]) == terms_of(cap)
    after = web("reviewer").get(url).text
    assert RETENTION_ZH in after and OLD_DETAIL not in after
    english = web("reviewer").get(url + "?lang=en").text
    assert "Key supervised amount ¥10,000,000.00 × 70% retained" in english


# --- every kind of stored term -----------------------------------------------------------------------------

PAGED_STEPS = 1203  # more than two of the migration's pages of 500
WHEN = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def _release_row(ids: dict[str, int], cap: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": ids["project"],
        "account_id": ids["account"],
        "developer_id": ids["developer"],
        "node_code": "half_structure",
        "amount_fen": 100,
        "purpose": "old",
        "status": "submitted",
        "cap": cap,
        "rulebook_id": BOOK,
        "created_at": WHEN,
    }


# The releases table as it was before 0006 (no `kind`): the rows below are written the way the code then did.
OLD_RELEASES = table(
    "releases",
    column("id"),
    *(column(name) for name in ("project_id", "account_id", "developer_id", "node_code", "amount_fen")),
    *(column(name) for name in ("purpose", "status", "rulebook_id")),
    column("cap", JSON),
    column("created_at", DateTime(timezone=True)),
)


def _step_row(ids: dict[str, int], release_id: int, step_no: int, cap: dict[str, Any]) -> dict[str, Any]:
    return {
        "release_id": release_id,
        "account_id": ids["account"],
        "step_no": step_no,
        "role": "reviewer",
        "decided_by": ids["user"],
        "decision": "approve",
        "comment": "",
        "cap": cap,
        "rulebook_id": BOOK,
        "decided_at": WHEN,
    }


@pytest.fixture
def ids(client, world, engine) -> dict[str, int]:
    r = client.post("/api/v1/projects", json=project_body(), headers=world.headers("admin", "open-ids"))
    assert r.status_code == 201, r.text
    with engine.connect() as conn:
        project_id, developer_id = conn.execute(text("SELECT id, developer_id FROM projects")).one()
        account_id = conn.execute(text("SELECT id FROM supervised_accounts")).scalar_one()
        user_id = conn.execute(text("SELECT id FROM users WHERE username = 'reviewer'")).scalar_one()
    return {"project": project_id, "account": account_id, "developer": developer_id, "user": user_id}


def test_every_stored_term_gets_the_code_the_domain_gives_it_now(engine, ids):
    interpreted = {
        "at a node with the finish surcharge and a counted guarantee": as_0005(
            cap_json(fresh_cap("topped_out", finish="finished", guarantee="5000000.00"))
        ),
        "before the first node": as_0005(cap_json(fresh_cap(None))),
        "at the last node": as_0005(cap_json(fresh_cap("first_registration", finish="finished"))),
    }
    # before 0006 an accepted guarantee could wait for the deposits; its old detail said so, not how much
    waiting = as_0005(cap_json(fresh_cap("half_structure")))
    waiting["explanation"]["terms"][2]["detail"] += (
        ", guarantee not counted until deposits reach the key supervised amount"
    )
    strange = old_format(cap_json(fresh_cap("half_structure")))
    strange["explanation"]["terms"][2]["detail"] = "retention as the bureau computed it by hand"
    coded = cap_json(fresh_cap("half_structure"))
    coded["explanation"]["terms"][0]["params"] = {"kept": "as it was"}  # already coded: left alone
    refund_step = as_0005(available(fresh_cap("topped_out"))[1])
    with engine.begin() as conn:
        rows = [old_format(c) for c in interpreted.values()] + [old_format(waiting), strange, coded]
        release_ids = [
            conn.execute(
                insert(OLD_RELEASES).values(**_release_row(ids, c)).returning(OLD_RELEASES.c.id)
            ).scalar_one()
            for c in rows
        ]
        conn.execute(
            insert(ApprovalStep),
            [_step_row(ids, release_ids[0], n, old_format(refund_step)) for n in range(1, PAGED_STEPS + 1)],
        )

    backfill(engine)
    migrated = stored_caps(engine, Release)
    step_caps = stored_caps(engine, ApprovalStep)

    for release_id, fresh in zip(release_ids[:3], interpreted.values(), strict=True):
        assert terms_of(migrated[release_id]) == terms_of(fresh)
        assert migrated[release_id] == fresh
    # a waiting guarantee: the old detail does not say how much waited, so that term keeps its text only
    waiting_terms = terms_of(migrated[release_ids[3]])
    assert waiting_terms[2] == Term.from_json(old_format(waiting)["explanation"]["terms"][2])
    assert waiting_terms[2].code == "" and waiting_terms[2].retention is None
    assert [t for i, t in enumerate(waiting_terms) if i != 2] == [
        t for i, t in enumerate(terms_of(waiting)) if i != 2
    ]
    assert terms_of(migrated[release_ids[4]])[2] == Term.from_json(strange["explanation"]["terms"][2])
    assert migrated[release_ids[5]] == coded
    assert len(step_caps) == PAGED_STEPS
    assert all(cap == refund_step for cap in step_caps.values())

    # running it again changes nothing
    backfill(engine)
    assert stored_caps(engine, Release) == migrated
    assert stored_caps(engine, ApprovalStep) == step_caps
