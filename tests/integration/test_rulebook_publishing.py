"""Rule book versions through the running system: projects are pinned by permit date, a version's hash is
recorded at first use, and the service refuses to start when a published version was edited or removed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from escrow.app import StartupRefused, create_app
from escrow.config import Settings
from escrow.store.db import UnitOfWork
from escrow.store.models import RulebookRecord
from tests.conftest import REPO, project_body

FIXTURES = REPO / "tests" / "fixtures" / "rules"


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(FIXTURES, target)
    return target


@pytest.fixture
def settings(db_url: str, rules_dir: Path) -> Settings:  # overrides conftest: two Hengshui versions
    return Settings.from_env({"ESCROW_DATABASE_URL": db_url, "ESCROW_RULES_DIR": str(rules_dir)})


def _open(client, world, n: int, permit_date: str):
    body = project_body(permit_no=f"P-{n}", account_no=f"62220000{n:04d}", permit_date=permit_date)
    return client.post("/api/v1/projects", json=body, headers=world.headers("admin", f"open-{n}"))


@pytest.mark.parametrize(
    ("permit_date", "expected"),
    [("2025-06-30", "hengshui@2024.1"), ("2025-07-01", "hengshui@2025.1"), ("2026-03-01", "hengshui@2025.1")],
)
def test_a_project_is_pinned_to_the_version_in_force_on_its_permit_date(client, world, permit_date, expected):
    r = _open(client, world, 1, permit_date)
    assert r.status_code == 201, r.text
    assert r.json()["rulebook"] == expected
    # the cap is explained under the pinned version's own numbers
    assert r.json()["account"]["cap"]["explanation"]["rulebook"] == expected


def test_the_hash_is_recorded_at_first_use_only(client, world, engine, rules_dir):
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.session.scalars(select(RulebookRecord)).all() == []
    assert _open(client, world, 1, "2025-03-01").status_code == 201
    assert _open(client, world, 2, "2025-04-01").status_code == 201
    with UnitOfWork(engine, readonly=True) as uow:
        records = uow.session.scalars(select(RulebookRecord)).all()
    assert [(r.rulebook_id, r.sha256) for r in records] == [
        (
            "hengshui@2024.1",
            hashlib.sha256((rules_dir / "hengshui" / "2024.1.toml").read_bytes()).hexdigest(),
        )
    ]


def test_an_unpublished_version_may_still_be_edited(client, world, settings, engine, rules_dir, today):
    assert _open(client, world, 1, "2025-03-01").status_code == 201  # publishes 2024.1 only
    draft = rules_dir / "hengshui" / "2025.1.toml"
    draft.write_text(draft.read_text(encoding="utf-8").replace('"0.60"', '"0.65"'), encoding="utf-8")
    assert create_app(settings, engine=engine, today=lambda: today) is not None


def test_the_service_refuses_to_start_when_a_published_version_was_edited(
    client, world, settings, engine, rules_dir
):
    assert _open(client, world, 1, "2025-03-01").status_code == 201
    published = rules_dir / "hengshui" / "2024.1.toml"
    published.write_text(published.read_text(encoding="utf-8").replace('"0.45"', '"0.40"'), encoding="utf-8")
    with pytest.raises(StartupRefused, match=r"2024\.1\.toml: published version hengshui@2024\.1 was edited"):
        create_app(settings, engine=engine)


def test_the_service_refuses_to_start_when_a_published_version_was_removed(
    client, world, settings, engine, rules_dir
):
    assert _open(client, world, 1, "2025-08-01").status_code == 201  # publishes 2025.1
    (rules_dir / "hengshui" / "2025.1.toml").unlink()
    with pytest.raises(StartupRefused, match=r"hengshui@2025\.1: published version is missing"):
        create_app(settings, engine=engine)


def test_the_cli_names_the_edited_file_in_one_line(client, world, settings, rules_dir, monkeypatch, capsys):
    from escrow.cli import main

    assert _open(client, world, 1, "2025-03-01").status_code == 201
    published = rules_dir / "hengshui" / "2024.1.toml"
    published.write_bytes(published.read_bytes() + b"\n# a harmless-looking comment\n")
    monkeypatch.setenv("ESCROW_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ESCROW_RULES_DIR", str(rules_dir))
    assert main(["rules", "check"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "2024.1.toml" in err[0] and "was edited" in err[0]
