"""`escrow demo`: seed a Hengshui-like demo city into an empty database, as of the day it is seeded.

`city` reproduces the figures the revised Hengshui measures were reported with after their first year:
191 supervised accounts opened, 1.40 million m² of pre-sale area and ¥7.285 billion deposited, all inside the
365 days that end on the day the demo is seeded, so that the dashboard's default period (the last 12 months)
and `GET /api/v1/stats` for those days report them. `small` seeds six projects for a quick look. `10x` is ten
times the city (1,910 accounts, 14.0 million m², ¥72.85 billion, its own seed) and `province` a province of
20,000 projects (area and deposits scaled by 20000/191: about 2 million deposits): their sales — contracts,
payment notices, deposits with their journal entries, vouchers and audit events — are written in batches
(`escrow.services.bulk`: COPY on PostgreSQL, executemany on SQLite) while everything else goes through the use
cases as for the city; `city` and `small` seed every sale through the use cases (`seed(..., bulk=True)` seeds
them in bulk too, and the tests prove both ways write the same rows).

Besides the year's projects every scale has two earlier projects, permitted in the year before the period,
whose supervision ends in it (one account closed, one moved to another bank), and the newest projects,
opened today under the rule book in force today and supervised by building (escrow.demo.plan). The newest
count in the period's figures; the earlier ones opened before it.

The package: `city` (the fixed data a city is made of), `plan` (the city drawn in memory from a seed and a
day, pure), `seeding` (the plan replayed through the services under a clock that walks its dates, the sales
in bulk for the big scales), `summary` (what is printed).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any, TextIO

from escrow.config import Settings
from escrow.demo.city import BANKS
from escrow.demo.plan import REFERENCE_DAY, SCALES, Scale, plan_city
from escrow.demo.seeding import BatchContext, Clock, Login, Seeder, Tally, create_cast
from escrow.demo.summary import DemoResult, write
from escrow.domain.errors import Conflict
from escrow.errors import CliError
from escrow.rulebooks import load_dir
from escrow.services import stats
from escrow.services.context import Context

__all__ = ["REFERENCE_DAY", "SCALES", "DemoResult", "Login", "Scale", "check_day", "check_scale", "seed"]

EMPTY_ONLY = "the demo seeds only an empty database (point ESCROW_DATABASE_URL at a new one"


def check_scale(scale: str) -> Scale:
    """The scale by its name, or the one line that says which there are."""
    if scale not in SCALES:
        raise CliError(f"unknown demo scale {scale!r} (known: {', '.join(SCALES)})")
    return SCALES[scale]


def check_day(today: date) -> date:
    """The day the demo is seeded as of, or the one line that says why it cannot be."""
    if today < REFERENCE_DAY:
        raise CliError(
            f"the demo is seeded as of {REFERENCE_DAY} or later (its newest projects are supervised by "
            f"building under the rule book in force from then), not {today}"
        )
    return today


def seed(
    engine: Any,
    settings: Settings,
    *,
    scale: str | Scale = "small",
    out: TextIO,
    bulk: bool | None = None,
    today: date | None = None,
) -> DemoResult:
    """Seed the demo city into an empty database, print what it made and how to log in, and return it.
    `engine` is the database's, as `services.database.open_database` gives it. `scale`: a name of SCALES
    (or a Scale itself, for tests); `bulk`: the sales through the bulk path (None: as the scale says);
    `today`: the day the city is seeded as of (None: today's date; the tests pass REFERENCE_DAY)."""
    chosen = check_scale(scale) if isinstance(scale, str) else scale
    in_bulk = chosen.bulk if bulk is None else bulk
    started = time.perf_counter()
    plan = plan_city(chosen, check_day(today or date.today()))
    cal = plan.calendar
    clock = Clock(cal.earlier_end - timedelta(days=364))
    ctx = Context(settings=settings, rulebooks=load_dir(settings.rules_dir), today=clock, engine=engine)
    with ctx.writing() as uow:
        batch = BatchContext(
            settings=settings, rulebooks=ctx.rulebooks, today=clock, engine=engine, batch=uow
        )
        _refuse_unless_empty(uow)
        try:
            cast = create_cast(uow, plan)
        except Conflict as exc:
            raise CliError(f"the database already has what the demo makes ({exc}); {EMPTY_ONLY})") from None
        seeder = Seeder(uow, batch, clock, plan, cast, in_bulk=in_bulk)
        seeder.earlier(plan.epilogue.earlier)
        seeder.tally = Tally()  # the summary's counts are the period's year
        opened = [seeder.open(p) for p in plan.projects]  # project ids in the plan's order
        for p, project in zip(plan.projects, opened, strict=True):
            seeder.run(p, project)
        seeder.incidents(plan.incidents, [project_id for project_id, _ in opened])
        year_counts = dict(seeder.tally.counts)
        after = seeder.epilogue(plan.epilogue)
        seeder.sync()
        uow.commit()
    with ctx.reading() as uow:
        figures = stats.city_stats(uow, cal.period_start, cal.period_end)
    first = plan.developers[0]
    result = DemoResult(
        scale=chosen.name,
        period=(cal.period_start, cal.period_end),
        figures=figures,
        logins=cast.logins,
        api_keys=cast.api_keys,
        key_owners=cast.key_owners,
        database_url=settings.database_url,
        bank_code=cast.bank_codes[0],
        developer_code=first.credit_code,
        bank_name=BANKS[0][1],
        developer_name=first.name,
        counts={"projects": len(plan.projects) + len(plan.epilogue.projects), **year_counts},
        seconds=time.perf_counter() - started,
        epilogue=after,
    )
    write(result, out)
    return result


def _refuse_unless_empty(uow: Any) -> None:
    """A city seeded into a database with projects would mix two worlds: refuse before changing anything."""
    ever = stats.city_stats(uow, date.min, date.max)["accounts_opened"]
    if ever:
        raise CliError(
            f"the database already has {ever} project(s); {EMPTY_ONLY}, e.g. sqlite:///escrow-demo.db)"
        )
