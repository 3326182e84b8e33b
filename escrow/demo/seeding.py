"""Seeding the planned city through the services, under a clock that walks the plan's dates.

Every row is written by the use case a bank, a developer or the bureau would call: banks, developers, users
and keys (`parties`), projects and node confirmations (`projects`), contracts and payment notices (`sales`),
deposits with their checks and vouchers (`deposits`), suspense money traced to its contract (`suspense`),
release applications, each approval step and the bank's payment (`releases`, `instructions`), and at the end
one statement per account that confirms the vouchers the bank has seen (`reconcile`). So the audit trail, the
rule book checks and the four-eyes chain are exactly those of real use.

Speed: the whole seed is one unit of work. `BatchContext` hands that open unit of work to every use case and
leaves the commit to the seed, so tens of thousands of use cases cost one transaction (and refusing midway
leaves the database as it was). Each project's year is replayed in date order: its sales (signing, notices,
payments, tracing) are events by day, and before a node is confirmed or a release is applied for, the events
up to that day are run, so that the cap the services compute is the account's cap on that day. The city is
about 50,000 use cases (contracts, notices and deposits above all); nearly all of its seeding time is the
store's work inside them (docs/BENCHMARKS.md).

The bank's statements: each account of the year gets its bank's end-of-day statement for each of the last
DAILY_STATEMENTS working days (the first shows every line up to it), so that every account reconciles and
the end-of-day check finds none missing; the earlier projects' accounts had one at the end of their year.

The earlier projects (`Seeder.earlier`) are seeded first, their year before the period. The epilogue
(`Seeder.epilogue`, after the year's projects and their incidents) carries them on: what they left with the
bureau is approved and paid from `settle_on`, the bureau orders the change of supervising bank
(`lifecycle.change_bank`) and the old bank executes the transfer (the new bank confirms the new agreement and
sends its statements); the remaining nodes of the project carried to its end are confirmed, the bureau orders
the closure (`lifecycle.close`) and the bank executes it; and today the newest projects open with their
buildings and agreement number (`projects`), their bank confirms the agreement (`agreements`), contracts
naming their building are signed and first payments arrive, the inspector confirms each building's nodes,
and the first files its fund demand plan, which the bureau approves (`fund_plans`). The incidents
(`Seeder.incidents`): refunds go through their project's year as events (`refunds`: cancelled, approved
along the chain, paid by the bank), the court freeze is recorded by its bank (`freezes`) and the guarantee
registered by the bureau (`guarantees`) on the first account whose balance has reached its key amount.

In bulk (`Seeder(..., in_bulk=True)`, the scales 10x and province) the sales — contracts, payment notices and
deposits — go to `escrow.services.bulk.BulkSales`, which builds the very rows their use cases write and writes
them in batches; before any other use case (opening an account, a node, a release and its steps, an
instruction executed, suspense money assigned, a statement, the epilogue) `Seeder.sync` writes what is
buffered, so that use case sees the books as if every sale had gone through its own.

Only `today` is the demo's: the services stamp `created_at`, `decided_at` and the audit events with the wall
clock, so those show when the seed ran, not the simulated day.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from escrow.demo.city import (
    APPROVAL_COMMENTS,
    BANKS,
    BUREAU_USERS,
    DEVELOPER_USER,
    DOCUMENTS,
    EVIDENCE,
    LENDERS,
)
from escrow.demo.plan import (
    BankChange,
    CityPlan,
    Closure,
    Contract,
    Epilogue,
    Incidents,
    NodePlan,
    Payment,
    Project,
    ReleasePlan,
    Stray,
    account_name,
    round_yuan,
)
from escrow.domain.approvals import fund_plan_chain
from escrow.domain.money import from_fen, to_fen
from escrow.domain.principal import SYSTEM, Principal
from escrow.feeds import ParsedStatement, StatementLine
from escrow.services import (
    agreements,
    bulk,
    deposits,
    freezes,
    fund_plans,
    guarantees,
    instructions,
    lifecycle,
    parties,
    projects,
    reconcile,
    refunds,
    releases,
    sales,
    suspense,
)
from escrow.services.approvals import Decision, Refused
from escrow.services.context import Context

STATEMENT_LAG = timedelta(
    days=2
)  # the earlier projects' last statement of their year: two days before its end
DAILY_STATEMENTS = 10  # working days: the year's accounts have a statement for each of the last ten
RELEASE_AT_LEAST_FEN = 1_000_000_00  # a developer does not apply for less than ¥1,000,000


class Clock:
    """The simulated day: the services' idea of today while the year is replayed."""

    def __init__(self, day: date):
        self.day = day

    def __call__(self) -> date:
        return self.day


@dataclass
class BatchContext(Context):
    """A context whose use cases all work in one open unit of work, committed by the seed."""

    batch: Any = None  # the open unit of work

    def reading(self) -> Any:
        return nullcontext(self.batch)

    @contextmanager
    def writing(self) -> Iterator[Any]:
        yield self.batch

    def commit(self, uow: Any, view: Any) -> Any:
        return view


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str
    display_name: str
    developer: str | None = None  # credit code, for developer staff


@dataclass
class Cast:
    """Who acts in the seed, as the principals the services know."""

    banks: list[Principal]
    bank_codes: list[str]
    developers: list[Principal]
    users: dict[str, Principal]  # bureau users by role
    logins: list[Login]
    api_keys: dict[str, str]  # shell variable name (ADMIN_KEY, BANK_HSB_KEY, …) → plaintext key
    key_owners: dict[str, str]  # the same names → whose key it is, in words


@dataclass
class Tally:
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "contracts",
                "notices",
                "deposits",
                "vouchers",
                "journal_entries",
                "suspense_deposits",
                "releases_executed",
                "releases_submitted",
                "refunds_executed",
            ),
            0,
        )
    )

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] += n


def user_principal(user: Any) -> Principal:
    return Principal("user", user.id, user.username, role=user.role, user_id=user.id)


def create_cast(uow: Any, plan: CityPlan) -> Cast:
    """Banks, developers, the bureau's users, the developer's sales login, and an API key for every bank,
    every bureau user and the first developer (named as the shell variables the README's tour uses)."""
    banks = [parties.create_bank(uow, code=code, name=name, actor=SYSTEM) for code, name, _, _ in BANKS]
    developers = []
    for d in plan.developers:
        dev = parties.create_developer(
            uow, credit_code_value=d.credit_code, name=d.name, credit_grade=d.grade, actor=SYSTEM
        )
        developers.append(Principal("developer", dev.id, dev.name, developer_id=dev.id))
    users, logins, keys, owners = {}, [], {}, {}
    for username, role, display, password in BUREAU_USERS:
        user = parties.create_user(
            uow, username=username, role=role, password=password, display_name=display, actor=SYSTEM
        )
        users[role] = user_principal(user)
        logins.append(Login(username, password, role, display))
        keys[f"{role.upper()}_KEY"] = parties.create_api_key(uow, username=username, actor=SYSTEM).plaintext
        owners[f"{role.upper()}_KEY"] = f"user {username}, {display}"
    first = plan.developers[0]
    username, password = DEVELOPER_USER
    parties.create_user(
        uow,
        username=username,
        role="developer",
        password=password,
        display_name=f"{first.name}销售部",
        developer_code=first.credit_code,
        actor=SYSTEM,
    )
    logins.append(Login(username, password, "developer", f"{first.name}销售部", developer=first.credit_code))
    for bank in banks:
        name = f"BANK_{bank.code}_KEY"
        keys[name] = parties.create_api_key(uow, bank_code=bank.code, actor=SYSTEM).plaintext
        owners[name] = f"bank {bank.code}, {bank.name}"
    developer_key = parties.create_api_key(uow, developer_code=first.credit_code, actor=SYSTEM)
    keys["DEVELOPER_KEY"] = developer_key.plaintext
    owners["DEVELOPER_KEY"] = f"developer {first.credit_code}, {first.name}"
    return Cast(
        banks=[Principal("bank", b.id, b.name, bank_id=b.id) for b in banks],
        bank_codes=[b.code for b in banks],
        developers=developers,
        users=users,
        logins=logins,
        api_keys=keys,
        key_owners=owners,
    )


class Seeder:
    """Replays the plan through the services, one project at a time."""

    def __init__(
        self, uow: Any, ctx: BatchContext, clock: Clock, plan: CityPlan, cast: Cast, *, in_bulk: bool = False
    ):
        self.uow, self.ctx, self.clock, self.plan, self.cast = uow, ctx, clock, plan, cast
        # the sales (contracts, notices, deposits) buffered, written in batches; None: through the use cases
        self.bulk = bulk.BulkSales(uow, ctx) if in_bulk else None
        self.cal = plan.calendar
        if self.bulk is not None:
            e = plan.epilogue
            sold = [c for p in (*e.earlier, *plan.projects, *e.projects) for c in p.contracts]
            paid = sum(1 for c in sold for pay in c.payments if pay.paid_on is not None)
            strays = sum(len(p.strays) for p in plan.projects)
            self.bulk.reserve(
                contracts=len(sold), notices=sum(len(c.payments) for c in sold), deposits=paid + strays
            )
        self.tally = Tally()
        self.bank_seq: dict[int, itertools.count] = {}
        self.years: list[_ProjectYear] = []  # the two earlier projects, carried on by the epilogue
        self.happened: dict[str, Any] = {}  # the incidents, for the summary

    def sync(self, *, caps_only: bool = False) -> None:
        """Before any other use case: the sales buffered so far are written, so that it sees the books as
        if each had gone through its use case. `caps_only`: the use case reads of the sales only what a cap
        is computed from (a node confirmed, a release applied for or approved): the maintained sums are
        written, the rest may wait (escrow.services.bulk)."""
        if self.bulk is not None:
            self.bulk.flush(caps_only=caps_only)

    def bank_reference(self, bank: int, day: date) -> str:
        seq = self.bank_seq.setdefault(bank, itertools.count(1))
        return f"{self.cast.bank_codes[bank]}{day:%Y%m%d}{next(seq):07d}"

    def open(self, p: Project) -> tuple[int, str]:
        """The project with its supervised account, pinned to the rule book in force on its permit date:
        (project id, rule book id)."""
        self.clock.day = p.opened_on
        self.sync()
        view = projects.open_project(
            self.uow,
            self.ctx,
            projects.OpenProject(
                developer_credit_code=self.plan.developers[p.developer].credit_code,
                name=p.name,
                permit_no=p.permit_no,
                permit_date=p.permit_date,
                presale_area_m2=Decimal(p.area_x100) / 100,
                finish=p.finish,
                bank_code=self.cast.bank_codes[p.bank],
                account_no=p.account_no,
                account_name=account_name(self.plan, p),
                opened_on=p.opened_on,
                buildings=tuple(
                    projects.NewBuilding(b.code, b.name, Decimal(b.area_x100) / 100) for b in p.buildings
                ),
                agreement_no=p.agreement_no,
            ),
            self.cast.users["admin"],
        )
        return view["project_id"], view["rulebook"]

    def run(self, p: Project, opened: tuple[int, str]) -> _ProjectYear:
        self.clock.day = p.opened_on
        year = _ProjectYear(self, p, *opened)
        year.run()
        return year

    def earlier(self, projects: tuple[Project, ...]) -> None:
        """The two earlier projects' year, before the period; the epilogue carries them on."""
        self.years = [self.run(p, self.open(p)) for p in projects]

    def incidents(self, inc: Incidents, project_ids: list[int]) -> None:
        """At the period's end: a court freezes part of one account (its bank records the order), and the
        bureau has registered a guarantee on another, which expires soon."""
        frozen = self.plan.projects[inc.freeze_project]
        self.sync()
        self.clock.day = self.cal.today
        freezes.place(
            self.ctx,
            freezes.PlaceFreeze(
                account_no=frozen.account_no,
                authority="衡水市桃城区人民法院",
                order_no=inc.freeze_order_no,
                amount=from_fen(inc.freeze_fen),
                ordered_on=self.cal.today - timedelta(days=2),
            ),
            self.cast.banks[frozen.bank],
        )
        self.happened["frozen"] = (frozen.name, str(from_fen(inc.freeze_fen)))
        self.clock.day = inc.guarantee_from
        for index in inc.guarantee_candidates:
            p = self.plan.projects[index]
            if self._guarantee(inc, p, project_ids[index]):
                self.happened["guarantee"] = (p.name, inc.guarantee_until.isoformat())
                return

    def _guarantee(self, inc: Incidents, p: Project, project_id: int) -> bool:
        """Register most of what a guarantee may stand in for; False where the rule refuses one (the
        balance has not reached the key amount). A refusal writes nothing."""
        guarantee = partial(
            guarantees.RegisterGuarantee,
            project_id=project_id,
            guarantee_no=f"BH{inc.guarantee_from:%Y%m%d}{p.number:04d}",
            issuer=BANKS[(p.bank + 1) % len(BANKS)][1],
            valid_from=inc.guarantee_from,
            valid_until=inc.guarantee_until,
        )
        try:  # asked for more than the rule allows, the refusal says the limit
            guarantees.register(self.ctx, guarantee(amount=Decimal(10**9)), self.cast.users["admin"])
        except Refused as refused:
            if "limit" not in refused.facts:
                return False
            amount = round_yuan(to_fen(Decimal(refused.facts["limit"])) * 8 // 10, 10_000)
            guarantees.register(self.ctx, guarantee(amount=from_fen(amount)), self.cast.users["admin"])
        return True

    # -- the epilogue: the earlier projects' end, and today's new projects ------------------------------

    def epilogue(self, e: Epilogue) -> dict[str, Any]:
        """The epilogue (see the module's docstring); returns what it made, for the summary."""
        closing, moving = self.years[e.closure.project], self.years[e.bank_change.project]
        self.sync()
        self.clock.day = self.cal.settle_on
        closing.settle()
        moving.settle()
        old_account, new_account = moving.change_bank(e.bank_change)
        closing.close(e.closure)
        made, rulebook = [], ""
        for p in e.projects:
            self.clock.day = self.cal.today
            opened = self.open(p)
            rulebook = opened[1]
            _ProjectYear(self, p, *opened).opening_day()
            made.append(p.name)
        return {
            "closed": (closing.p.name, closing.p.account_no),
            "moved": (moving.p.name, old_account, new_account),
            "new_projects": made,
            "rulebook": rulebook,
            **self.happened,
        }


class _ProjectYear:
    """One project's year: sales as events by day, nodes and releases in between, a statement at the end."""

    def __init__(self, seeder: Seeder, p: Project, project_id: int, rulebook_id: str):
        self.s, self.p, self.project_id = seeder, p, project_id
        self.book = seeder.ctx.rulebook(rulebook_id)
        self.uow, self.ctx, self.clock, self.tally = seeder.uow, seeder.ctx, seeder.clock, seeder.tally
        self.developer = seeder.cast.developers[p.developer]
        self.bank = seeder.cast.banks[p.bank]
        self.events = self._sales_events()
        self.position = 0
        self.notices: dict[int, str] = {}  # id(payment) → notice number
        self.deposit_ids: dict[int, int] = {}  # id(payment) → deposit id
        self.bank_lines: list[StatementLine] = []  # what the bank's statement will show
        self.confirmed: set[str] = set()  # node codes confirmed (a project without buildings)
        self.open_releases: list[tuple[int, list[Any]]] = []  # (release id, its steps) at the year's end

    # -- the calendar ------------------------------------------------------------------------------------

    def _sales_events(self) -> list[tuple[date, int, int, Callable[[], None]]]:
        """(day, phase, order, action): on one day contracts are signed before notices are issued before
        money arrives; within a phase, in the plan's order."""
        events = []
        order = itertools.count()
        if not self.p.buildings:  # the bank confirms the tri-party agreement a few days after opening
            confirmed_on = self.p.opened_on + timedelta(days=1 + self.p.number % 3)
            events.append((confirmed_on, 0, next(order), self.confirm_agreement))
        for c in self.p.contracts:
            events.append((c.signed_on, 0, next(order), lambda c=c: self.sign(c)))
            for pay in c.payments:
                events.append((pay.notice_on, 1, next(order), lambda c=c, pay=pay: self.notice(c, pay)))
                if pay.paid_on is not None:
                    events.append((pay.paid_on, 2, next(order), lambda c=c, pay=pay: self.deposit(c, pay)))
                    if pay.assigned_on is not None:
                        events.append(
                            (pay.assigned_on, 2, next(order), lambda c=c, pay=pay: self.assign(c, pay))
                        )
            if c.cancelled_on is not None:
                events.append((c.cancelled_on, 3, next(order), lambda c=c: self.cancel(c)))
        for stray in self.p.strays:
            events.append((stray.paid_on, 2, next(order), lambda stray=stray: self.stray(stray)))
        events.sort(key=lambda e: e[:3])
        return events

    def advance(self, day: date) -> None:
        """Run every sales event up to `day`, each on its own day; then it is `day`."""
        while self.position < len(self.events) and self.events[self.position][0] <= day:
            on, _, _, action = self.events[self.position]
            self.clock.day = max(self.clock.day, on)
            action()
            self.position += 1
        self.clock.day = max(self.clock.day, day)

    def run(self) -> None:
        end = self.p.year_end
        for node in self.p.nodes:
            confirmed = max(node.confirmed_on, self.clock.day)  # not before the previous node's release
            if confirmed > end:
                break
            self.advance(confirmed)
            self.confirm(node)
            if node.release is not None:
                self.release(node, node.release, confirmed)
        self.advance(end)
        if end == self.s.cal.today:  # the period's year: the bank's statement of each of the last days
            days = working_days(end - timedelta(days=1), DAILY_STATEMENTS)
            days = [day for day in days if day >= self.p.opened_on]
            self.statements(self.p.account_no, self.bank, self.bank_lines, days)
        else:
            self.statements(self.p.account_no, self.bank, self.bank_lines, [end - STATEMENT_LAG])

    # -- after the year ----------------------------------------------------------------------------------

    def settle(self) -> None:
        """The releases still with the bureau at the year's end: each step approves a day apart, then the
        bank pays."""
        for release_id, steps in self.open_releases:
            for step in steps:
                self.clock.day += timedelta(days=1)
                comments = APPROVAL_COMMENTS.get(step.role, ("同意",))
                self.s.sync()
                view = releases.decide(
                    self.ctx, release_id, Decision("approve", comments[0]), self.s.cast.users[step.role]
                )
            self.clock.day += timedelta(days=1)
            self._execute(view.instruction.instruction_id, self.p.bank)
        self.open_releases = []

    def _execute(self, instruction_id: int, bank: int) -> str:
        """The bank pays the instruction today; returns its reference."""
        self.s.sync()
        reference = self.s.bank_reference(bank, self.clock.day)
        instructions.execute_in(
            self.uow,
            self.ctx,
            instruction_id,
            instructions.Execute(bank_reference=reference, executed_on=self.clock.day),
            self.s.cast.banks[bank],
        )
        return reference

    def change_bank(self, change: BankChange) -> tuple[str, str]:
        """The bureau orders the move to the new bank; the old bank executes the transfer days later:
        (old account number, new account number)."""
        self.clock.day = max(self.clock.day, self.s.cal.bank_change_on)
        self.s.sync()
        ordered = lifecycle.change_bank(
            self.ctx,
            lifecycle.ChangeBank(
                project_id=self.project_id,
                bank_code=self.s.cast.bank_codes[change.bank],
                account_no=change.account_no,
                account_name=account_name(self.s.plan, self.p),
                reason=change.reason,
            ),
            self.s.cast.users["admin"],
        )
        self.clock.day += timedelta(days=change.executes_after)
        reference = self._execute(ordered.instruction_id, self.p.bank)
        # the new account's bank shows the balance moved in, then a statement each working day
        moved_in = _line(reference, self.clock.day, to_fen(ordered.amount), "credit", self.p.name, "")
        new_bank = self.s.cast.banks[change.bank]
        agreements.confirm(
            self.ctx,
            agreements.ConfirmAgreement(change.account_no, f"{self.p.agreement_no}-变更", self.clock.day),
            new_bank,
        )
        days = working_days(self.s.cal.today - timedelta(days=1), DAILY_STATEMENTS)
        self.statements(change.account_no, new_bank, [moved_in], days)
        return self.p.account_no, change.account_no

    def close(self, closure: Closure) -> None:
        """The nodes the year did not confirm, each on its day of 2026; then the closure, ordered by the
        bureau and executed by the bank."""
        for node in closure.nodes:
            if node.code not in self.confirmed:
                self.clock.day = max(self.clock.day, node.confirmed_on)
                self.confirm(node)
        self.clock.day += timedelta(days=5)
        self.s.sync()
        ordered = lifecycle.close(
            self.ctx,
            lifecycle.CloseAccount(
                project_id=self.project_id,
                payee=lifecycle.Payee(closure.payee_name, closure.payee_account_no, closure.payee_bank_name),
                reason=closure.reason,
            ),
            self.s.cast.users["admin"],
        )
        self.clock.day += timedelta(days=2)
        self._execute(ordered.instruction_id, self.p.bank)

    def confirm_agreement(self) -> None:
        """The bank confirms the tri-party agreement named at opening."""
        self.s.sync()
        agreements.confirm(
            self.ctx,
            agreements.ConfirmAgreement(self.p.account_no, self.p.agreement_no, self.p.opened_on),
            self.bank,
        )

    def opening_day(self) -> None:
        """A new project's first day: the bank confirms the agreement, the first contracts are signed and
        paid, and the inspector confirms each building's nodes."""
        self.confirm_agreement()
        today = self.s.cal.today
        self.advance(today)
        for b in self.p.buildings:
            for code in b.nodes:
                self.confirm(NodePlan(code, today, today, None), building=b.code)
        if self.p.fund_plan:
            self.fund_plan()

    def fund_plan(self) -> None:
        """The developer files its fund demand plan; the bureau's chain approves it."""
        self.s.sync()
        view = fund_plans.file(
            self.ctx,
            fund_plans.FilePlan(
                project_id=self.project_id,
                items=tuple(
                    fund_plans.ItemIn(i.node_code, i.month, i.role, from_fen(i.amount_fen), i.building)
                    for i in self.p.fund_plan
                ),
                note="按楼栋、节点编制的资金需求计划",
            ),
            self.developer,
        )
        for step in fund_plan_chain(self.book):
            comments = APPROVAL_COMMENTS.get(step.role, ("同意",))
            view = fund_plans.decide(
                self.ctx, view.plan_id, Decision("approve", comments[0]), self.s.cast.users[step.role]
            )

    # -- sales -------------------------------------------------------------------------------------------

    def sign(self, c: Contract) -> None:
        register = (
            self.s.bulk.register if self.s.bulk else partial(sales.register_contract, self.uow, self.ctx)
        )
        register(
            sales.RegisterContract(
                permit_no=self.p.permit_no,
                contract_no=c.contract_no,
                buyer_name=c.buyer_name,
                buyer_id_no=c.buyer_id_no,
                unit=c.unit,
                area_m2=Decimal(c.area_x100) / 100,
                total_price=from_fen(c.total_fen),
                signed_on=c.signed_on,
                building=c.building,
            ),
            self.developer,
        )
        self.tally.add("contracts")

    def notice(self, c: Contract, pay: Payment) -> None:
        issue = self.s.bulk.issue if self.s.bulk else partial(sales.issue_notice, self.uow, self.ctx)
        view = issue(
            sales.IssueNotice(c.contract_no, pay.kind, from_fen(pay.amount_fen), pay.due_on),
            self.developer,
        )
        self.notices[id(pay)] = view["notice_no"]
        self.tally.add("notices")

    def deposit(self, c: Contract, pay: Payment) -> None:
        """The buyer (or the lender) pays; without the notice number the money goes to suspense."""
        traced_later = pay.assigned_on is not None
        payer = LENDERS[pay.lender][0] if pay.lender is not None else c.buyer_name
        view = self._post(
            pay.paid_on,
            pay.amount_fen,
            payer,
            pay.payer_account,
            None if traced_later else self.notices[id(pay)],
            pay.kind,
            pay.channel,
        )
        if (view.status == "suspense") != traced_later:
            raise RuntimeError(f"demo deposit {view.bank_reference}: checks {view.checks} disagree")
        self.deposit_ids[id(pay)] = view.deposit_id

    def assign(self, c: Contract, pay: Payment) -> None:
        """A reviewer traces the suspense money to its contract; the checks pass and a voucher is issued."""
        self.s.sync()
        suspense.assign(
            self.uow,
            self.ctx,
            self.deposit_ids[id(pay)],
            suspense.AssignToContract(c.contract_no, self.notices[id(pay)]),
            self.s.cast.users["reviewer"],
        )
        if self.s.bulk is not None:  # the notice and its contract are paid now: read afresh
            self.s.bulk.forget(self.notices[id(pay)], c.contract_no)
        self.tally.add("vouchers")
        self.tally.add("journal_entries")

    def cancel(self, c: Contract) -> None:
        """The buyer withdraws (退房): the developer cancels the contract, the bureau's chain approves the
        refund of what was paid, and the bank pays it back."""
        self.s.sync()
        view = refunds.cancel(
            self.ctx,
            refunds.CancelContract(c.contract_no, "购房人申请退房，双方协商解除合同"),
            self.developer,
        )
        if view.refund_id is None:
            return
        while view.next_step is not None:
            self.clock.day += timedelta(days=1)
            comments = APPROVAL_COMMENTS.get(view.next_step.role, ("同意",))
            view = refunds.decide(
                self.ctx,
                view.refund_id,
                Decision("approve", comments[0]),
                self.s.cast.users[view.next_step.role],
            )
        self.clock.day += timedelta(days=1)
        reference = self._execute(view.instruction.instruction_id, self.p.bank)
        self.bank_lines.append(
            _line(reference, self.clock.day, to_fen(view.amount), "debit", c.buyer_name, "")
        )
        self.tally.add("refunds_executed")

    def stray(self, stray: Stray) -> None:
        self._post(
            stray.paid_on, stray.amount_fen, stray.payer_name, stray.payer_account, None, "other", "transfer"
        )

    def _post(
        self,
        day: date,
        amount_fen: int,
        payer: str,
        payer_account: str,
        notice_no: str | None,
        kind: str,
        channel: str,
    ) -> deposits.DepositView:
        reference = self.s.bank_reference(self.p.bank, day)
        post = self.s.bulk.post if self.s.bulk else partial(deposits.post, self.uow, self.ctx)
        view = post(
            deposits.PostDeposit(
                account_no=self.p.account_no,
                bank_reference=reference,
                amount=from_fen(amount_fen),
                payer_name=payer,
                payer_account=payer_account,
                notice_no=notice_no,
                kind=kind,
                channel=channel,
                value_date=day,
            ),
            self.bank,
        )
        self.tally.add("deposits")
        self.tally.add("journal_entries")
        self.tally.add("vouchers" if view.voucher else "suspense_deposits")
        self.bank_lines.append(_line(reference, day, amount_fen, "credit", payer, payer_account))
        return view

    # -- nodes and releases ------------------------------------------------------------------------------

    def confirm(self, node: NodePlan, building: str | None = None) -> None:
        where = f"{self.p.permit_no}/{building}" if building else self.p.permit_no
        evidence = tuple(
            projects.Evidence(
                kind=kind,
                description=EVIDENCE.get(kind, kind),
                filename=f"{EVIDENCE.get(kind, kind)}.pdf",
                sha256=hashlib.sha256(f"{where}/{node.code}/{kind}".encode()).hexdigest(),
            )
            for kind in self.book.node(node.code).evidence
        )
        self.s.sync(caps_only=True)
        projects.confirm_node(
            self.uow,
            self.ctx,
            projects.ConfirmNode(self.project_id, node.code, node.reached_on, evidence, building),
            self.s.cast.users["inspector"],
        )
        if building is None:
            self.confirmed.add(node.code)

    def release(self, node: NodePlan, plan: ReleasePlan, confirmed: date) -> None:
        """The developer applies for a share of what is releasable; the chain approves; the bank pays."""
        applied = confirmed + timedelta(days=plan.applies_after)
        if applied > self.p.year_end:
            return
        self.advance(applied)
        self.s.sync(caps_only=True)
        amount_fen = round_yuan(to_fen(self._releasable()) * plan.share_permille // 1000, 10_000)
        if amount_fen < RELEASE_AT_LEAST_FEN:
            return
        book = self.book
        name_zh = book.node(node.code).name_zh
        payees = _split(amount_fen, plan)
        view = releases.apply(
            self.ctx,
            releases.ApplyRelease(
                project_id=self.project_id,
                node_code=node.code,
                amount=from_fen(amount_fen),
                purpose=f"{name_zh}节点资金拨付：支付总包工程进度款、材料款"
                + ("及设备款" if len(payees) == 3 else ""),
                payees=payees,
                documents=tuple(
                    releases.Document(
                        kind=kind,
                        filename=f"{DOCUMENTS.get(kind, kind)}.pdf",
                        sha256=hashlib.sha256(
                            f"{self.p.name} {name_zh} {DOCUMENTS.get(kind, kind)} {applied}".encode()
                        ).hexdigest(),
                    )
                    for kind in book.release.required_documents
                ),
            ),
            self.developer,
        )
        steps = book.approval_steps_for(from_fen(amount_fen))
        days, day = [], applied
        for i in range(len(steps)):
            day = day + timedelta(days=plan.step_gaps[i % len(plan.step_gaps)])
            days.append(day)
        executed_on = day + timedelta(days=plan.executes_after)
        if executed_on > self.p.year_end:  # still with the bureau when its year ends
            self.tally.add("releases_submitted")
            self.open_releases.append((view.release_id, steps))
            return
        for i, (step, day) in enumerate(zip(steps, days, strict=True)):
            self.advance(day)
            self.s.sync(caps_only=True)
            comments = APPROVAL_COMMENTS.get(step.role, ("同意",))
            view = releases.decide(
                self.ctx,
                view.release_id,
                Decision("approve", comments[plan.comments[i % len(plan.comments)] % len(comments)]),
                self.s.cast.users[step.role],
            )
        self.advance(executed_on)
        self.s.sync()
        reference = self.s.bank_reference(self.p.bank, executed_on)
        instructions.execute_in(
            self.uow,
            self.ctx,
            view.instruction.instruction_id,
            instructions.Execute(bank_reference=reference, executed_on=executed_on),
            self.bank,
        )
        self.bank_lines.append(_line(reference, executed_on, amount_fen, "debit", payees[0].name, ""))
        self.tally.add("releases_executed")
        self.tally.add("journal_entries")

    def _releasable(self) -> Decimal:
        """What the developer could apply for today."""
        return releases.releasable(self.ctx, self.project_id)

    # -- the bank's statements --------------------------------------------------------------------------

    def statements(
        self, account_no: str, bank: Principal, lines: list[StatementLine], days: list[date]
    ) -> None:
        """The bank's end-of-day statements for `days` (ascending): the first shows every line up to it, each
        next one the lines booked since, its opening balance the last one's closing. Matching them confirms
        the buyers' vouchers, and the account reconciles on each day."""
        if not days:
            return
        parsed, opening, since = [], Decimal("0.00"), date.min
        for day in days:
            shown = sorted(
                (line for line in lines if since < line.booked_on <= day), key=lambda x: x.booked_on
            )
            numbered = [replace(line, line_no=i) for i, line in enumerate(shown, start=1)]
            closing = opening + sum((line.signed_amount for line in numbered), Decimal("0.00"))
            parsed.append(ParsedStatement("json", account_no, "CNY", day, opening, closing, numbered))
            opening, since = closing, day
        self.s.sync()
        reconcile.import_statements(self.uow, self.ctx, parsed, "json", bank)


def working_days(until: date, count: int) -> list[date]:
    """The last `count` weekdays on or before `until`, oldest first (the statement check's working days)."""
    days: list[date] = []
    day = until
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def _line(
    reference: str, day: date, amount_fen: int, direction: str, name: str, account: str
) -> StatementLine:
    return StatementLine(0, reference, day, from_fen(amount_fen), direction, name, account, "")


def _split(amount_fen: int, plan: ReleasePlan) -> tuple[releases.Payee, ...]:
    """The general contractor takes most; equipment an eighth where it is paid; materials the rest."""
    shares = {"construction": amount_fen * plan.construction_percent // 100 // 100 * 100}
    if any(p.role == "equipment" for p in plan.payees):
        shares["equipment"] = round_yuan(amount_fen // 8, 1)
    shares["materials"] = amount_fen - sum(shares.values())
    return tuple(
        releases.Payee(p.name, p.account_no, p.bank_name, p.role, from_fen(shares[p.role]))
        for p in plan.payees
    )
