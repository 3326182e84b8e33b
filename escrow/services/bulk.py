"""Sales booked in bulk: contracts, payment notices and deposits written in batches (the big demo cities).

`BulkSales` offers the three high-volume use cases of `sales` and `deposits` — `register`, `issue`, `post` —
inside the caller's unit of work, and builds exactly the rows they write: the same checks (the rule book's
deposit checks over the same facts), the same views in the audit events, the same numbers (a notice's
`TZ<day><id>`, a voucher's `PZ<value date><id>`), the same journal entry and legs, the same claim of the
entry by the deposit's event, the same maintained sums. Only the writing differs: the rows are buffered and
written by `flush` (escrow.store.bulk: COPY on PostgreSQL, executemany on SQLite).

What the use cases read from the database is kept in memory instead, per contract and notice (what was
asked and paid) and per account (its cash and what it has received); so the caller must `flush` before any
other use case runs on the same books (a node confirmed, a release, a statement), and tell `forget` which
notice another use case has paid against (suspense money assigned), whose facts are then read afresh. After
a flush every account's sums are read afresh on its next deposit (a release has paid money out meanwhile).

The demo's seed (escrow.demo.seeding) is the caller; `tests/integration/test_demo_bulk.py` proves a city
seeded this way has the rows a city seeded through the use cases has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from escrow.domain import checks, dates, ledger, money
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.identifiers import identifier_problem
from escrow.domain.identity import id_problem
from escrow.domain.money import from_fen, hundredths, to_fen
from escrow.domain.principal import Principal
from escrow.services import deposits, sales
from escrow.services.context import Context
from escrow.services.views import wire
from escrow.store import audit
from escrow.store.bulk import BulkRows
from escrow.store.db import UnitOfWork
from escrow.store.models import Bank, utcnow


@dataclass
class _Account:
    account: Any  # SupervisedAccount
    project: Any  # Project
    bank_code: str
    bank_name: str
    book: Any  # RuleBook
    cash_fen: int | None = None  # None: read afresh on the next deposit
    received_fen: int = 0


@dataclass
class _Contract:
    id: int
    contract_no: str
    account_id: int
    buyer_name: str
    total_fen: int
    status: str
    asked_fen: int  # open and paid notices
    paid_fen: int  # accepted and assigned deposits


@dataclass
class _Notice:
    id: int
    notice_no: str
    contract: _Contract
    account_no: str
    kind: str
    amount_fen: int
    status: str
    paid_fen: int


class BulkSales:
    def __init__(self, uow: UnitOfWork, ctx: Context):
        self.uow, self.ctx = uow, ctx
        self.rows = BulkRows(uow.session)
        self.by_permit: dict[str, _Account] = {}
        self.by_account_no: dict[str, _Account] = {}
        self.by_account_id: dict[int, _Account] = {}
        self.contracts: dict[str, _Contract] = {}
        self.notices: dict[str, _Notice] = {}
        self.written = 0

    def reserve(self, *, contracts: int, notices: int, deposits: int) -> None:
        """Ids for at most this many sales, reserved at once where the engine allows (escrow.store.bulk)."""
        self.rows.reserve(
            {
                "contracts": max(1, contracts),
                "payment_notices": max(1, notices),
                "deposits": max(1, deposits),
                "vouchers": max(1, deposits),
                "journal_legs": max(1, 2 * deposits),  # a deposit's entry has two legs
            }
        )

    # -- what the use cases would read -------------------------------------------------------------------

    def _account_of_project(self, permit_no: str) -> _Account:
        found = self.by_permit.get(permit_no)
        if found is None:
            project = self.uow.projects.by_permit(permit_no)
            if project is None:
                raise NotFound(f"no project with permit {permit_no}")
            found = self._load(project, self.uow.projects.account_for(project.id))
        return found

    def _account(self, account_no: str) -> _Account:
        found = self.by_account_no.get(account_no)
        if found is None:
            account = self.uow.projects.account_by_no(account_no)
            if account is None:
                raise NotFound(f"no supervised account {account_no}")
            found = self._load(self.uow.projects.get(account.project_id), account)
        return found

    def _load(self, project: Any, account: Any) -> _Account:
        bank = self.uow.session.get(Bank, account.bank_id)
        found = _Account(account, project, bank.code, bank.name, self.ctx.rulebook(project.rulebook_id))
        self.by_permit[project.permit_no] = found
        self.by_account_no[account.account_no] = found
        self.by_account_id[account.id] = found
        return found

    def _contract(self, contract_no: str) -> _Contract:
        found = self.contracts.get(contract_no)
        if found is None:
            row = self.uow.contracts.by_no(contract_no)
            if row is None:
                raise NotFound(f"no contract {contract_no}")
            found = _Contract(
                row.id,
                row.contract_no,
                row.account_id,
                row.buyer_name,
                row.total_price_fen,
                row.status,
                self.uow.contracts.notices_total_fen(row.id),
                self.uow.contracts.paid_fen(row.id),
            )
            self.contracts[contract_no] = found
        return found

    def _notice(self, notice_no: str) -> _Notice | None:
        found = self.notices.get(notice_no)
        if found is None:
            facts = self.uow.deposits.notice_facts(notice_no)
            if facts is None:
                return None
            n = facts.notice
            contract = self._contract(facts.contract.contract_no)
            found = _Notice(
                n.id, n.notice_no, contract, facts.notice_account_no, n.kind, n.amount_fen, n.status,
                facts.notice_paid_fen,
            )  # fmt: skip
            self.notices[notice_no] = found
        return found

    def forget(self, notice_no: str, contract_no: str) -> None:
        """Another use case has booked against this notice and its contract (suspense money assigned): the
        notice is read afresh when next paid, the contract's sums at once (its other notices share it)."""
        self.notices.pop(notice_no, None)
        contract = self.contracts.get(contract_no)
        if contract is not None:
            contract.asked_fen = self.uow.contracts.notices_total_fen(contract.id)
            contract.paid_fen = self.uow.contracts.paid_fen(contract.id)

    def flush(self, *, caps_only: bool = False) -> None:
        """Write what is buffered (escrow.store.bulk); the accounts' sums are read afresh after it.
        `caps_only`: before a use case that reads of the sales only the maintained sums (a cap: node
        confirmations, release applications and approvals, which move no money): only the sums are written
        where the engine allows (`BulkRows.flush_sums`), the rows wait for the next full flush."""
        if caps_only and self.rows.flush_sums():
            return
        self.written += self.rows.flush()
        for state in self.by_account_no.values():
            state.cash_fen = None

    # -- the three use cases -----------------------------------------------------------------------------

    def register(self, cmd: sales.RegisterContract, actor: Principal) -> dict[str, Any]:
        """`sales.register_contract`, buffered."""
        for name in ("permit_no", "contract_no"):
            refused = identifier_problem(getattr(cmd, name))
            if refused is not None:
                raise InvalidInput(f"{name} {refused.message}", errors=[FieldError(name, refused.message)])
        state = self._account_of_project(cmd.permit_no)
        project, account = state.project, state.account
        if actor.developer_id is None or actor.developer_id != project.developer_id:
            raise NotFound(f"no project with permit {cmd.permit_no}")
        problem = id_problem(cmd.buyer_id_no)
        if problem:
            raise InvalidInput(f"buyer_id_no {problem}", errors=[FieldError("buyer_id_no", problem)])
        if cmd.signed_on > self.ctx.today() or cmd.signed_on < project.permit_date:
            raise InvalidInput(f"contract {cmd.contract_no}: signed_on {cmd.signed_on} out of range")
        building_id = None
        if cmd.building is not None:
            building = self.uow.projects.building(project.id, cmd.building)
            if building is None:
                raise InvalidInput(f"no building {cmd.building} in project {project.id}")
            building_id = building.id
        if cmd.contract_no in self.contracts:
            raise Conflict(f"contract {cmd.contract_no} is already registered")
        row = self.rows.add(
            "contracts",
            {
                "id": self.rows.next_id("contracts"),
                "project_id": project.id,
                "account_id": account.id,
                "building_id": building_id,
                "contract_no": cmd.contract_no,
                "buyer_name": cmd.buyer_name,
                "buyer_id_no": cmd.buyer_id_no.strip().upper(),
                "unit": cmd.unit,
                "area_x100": hundredths(cmd.area_m2, what="the area"),
                "total_price_fen": to_fen(cmd.total_price),
                "signed_on": cmd.signed_on,
                "status": "signed",
                "created_at": utcnow(),
            },
        )
        self.contracts[cmd.contract_no] = _Contract(
            row["id"], cmd.contract_no, account.id, cmd.buyer_name, row["total_price_fen"], "signed", 0, 0
        )
        view = sales.contract_view(SimpleNamespace(**row), project, account.account_no, cmd.building)
        self._event(actor, "contract.registered", "contract", cmd.contract_no, account.id, after=wire(view))
        return wire(view)

    def issue(self, cmd: sales.IssueNotice, actor: Principal) -> dict[str, Any]:
        """`sales.issue_notice`, buffered."""
        contract = self._contract(cmd.contract_no)
        state = self.by_account_id.get(contract.account_id) or self._account_by_id(contract.account_id)
        if actor.developer_id is None or actor.developer_id != state.project.developer_id:
            raise NotFound(f"no contract {cmd.contract_no}")
        if contract.status != "signed":
            raise InvalidInput(f"contract {contract.contract_no} is {contract.status}")
        if cmd.kind not in sales.NOTICE_KINDS:
            raise InvalidInput("unknown notice kind", errors=[FieldError.one_of("kind", sales.NOTICE_KINDS)])
        amount_fen = to_fen(cmd.amount)
        if contract.asked_fen + amount_fen > contract.total_fen:
            raise InvalidInput(
                f"notices would total more than the contract price of {contract.contract_no}",
                rule="notices_within_contract_price",
            )
        contract.asked_fen += amount_fen
        notice_id = self.rows.next_id("payment_notices")
        notice_no = sales.notice_number(self.ctx.today(), notice_id)
        self.rows.add(
            "payment_notices",
            {
                "id": notice_id,
                "notice_no": notice_no,
                "contract_id": contract.id,
                "account_id": contract.account_id,
                "kind": cmd.kind,
                "amount_fen": amount_fen,
                "due_on": cmd.due_on,
                "status": "open",
                "created_at": utcnow(),
            },
        )
        account = state.account
        self.notices[notice_no] = _Notice(
            notice_id, notice_no, contract, account.account_no, cmd.kind, amount_fen, "open", 0
        )
        view = sales.NoticeView(
            notice_no=notice_no,
            contract_no=contract.contract_no,
            kind=cmd.kind,
            amount=from_fen(amount_fen),
            due_on=cmd.due_on,
            account_no=account.account_no,
            account_name=account.account_name,
            bank_code=state.bank_code,
            bank_name=state.bank_name,
            status="open",
            reissued_from=None,  # issued now, after the account opened: never re-issued
        )
        self._event(actor, "notice.issued", "notice", notice_no, contract.account_id, after=wire(view))
        return wire(view)

    def _account_by_id(self, account_id: int) -> _Account:
        return self._account(self.uow.projects.account(account_id).account_no)

    def post(self, cmd: deposits.PostDeposit, actor: Principal) -> deposits.DepositView:
        """`deposits.post`, buffered (a bank reference is booked once: the caller's references are new)."""
        state = self._account(cmd.account_no)
        account, book = state.account, state.book
        if actor.bank_id != account.bank_id:
            raise NotFound(f"no supervised account {cmd.account_no}")
        if account.status == "closed":
            raise Conflict(f"account {account.account_no} is closed", rule="account_open")
        today = self.ctx.today()
        dates.check_within_account_life("value_date", cmd.value_date, account.opened_on, today)
        if cmd.kind not in deposits.KINDS or cmd.channel not in deposits.CHANNELS:
            raise InvalidInput("unknown kind or channel")
        money.check_amount(cmd.amount)
        fen = to_fen(cmd.amount)
        if state.cash_fen is None:
            state.cash_fen = self.uow.journal.balances(account.id).cash
            state.received_fen = self.uow.journal.received_fen(account.id)
        money.check_account_total(
            "amount", balance_fen=state.cash_fen, received_fen=state.received_fen, adding_fen=fen
        )
        state.cash_fen += fen
        state.received_fen += fen
        payment = deposits.payment_of(cmd.notice_no, cmd.amount, cmd.payer_name, cmd.value_date, cmd.channel)
        notice = self._notice(cmd.notice_no) if cmd.notice_no else None
        contract = notice.contract if notice else None
        facts = checks.DepositFacts(
            account_no=account.account_no,
            amount=payment.amount,
            payer_name=payment.payer_name,
            value_date=payment.value_date,
            today=today,
            notice_given=bool(payment.notice_no),
            notice_account_no=notice.account_no if notice else None,
            notice_status=notice.status if notice else None,
            notice_amount=from_fen(notice.amount_fen) if notice else None,
            notice_kind=notice.kind if notice else None,
            buyer_name=contract.buyer_name if contract else None,
            contract_status=contract.status if contract else None,
            contract_price=from_fen(contract.total_fen) if contract else None,
            paid_so_far=from_fen(contract.paid_fen if contract else 0),
            bank_reference_seen=False,
            payer_is_lender=payment.by_lender,
            payer_is_fund_centre=payment.by_fund_centre,
            notice_paid=from_fen(notice.paid_fen if notice else 0),
        )
        results, blocked = deposits.run_checks(book, facts)
        accepted = not blocked
        deposit = self.rows.add(
            "deposits",
            {
                "id": self.rows.next_id("deposits"),
                "account_id": account.id,
                "bank_id": actor.bank_id,
                "bank_reference": cmd.bank_reference,
                "amount_fen": fen,
                "payer_name": cmd.payer_name,
                "payer_account": cmd.payer_account,
                "notice_id": notice.id if notice else None,
                "contract_id": contract.id if contract else None,
                "kind": cmd.kind,
                "channel": cmd.channel,
                "value_date": cmd.value_date,
                "status": "accepted" if accepted else "suspense",
                "checks": results,
                "rulebook_id": book.id,
                "created_at": utcnow(),
            },
        )
        entry = ledger.deposit(
            fen, suspense=not accepted, booked_on=cmd.value_date, reference=f"deposit:{deposit['id']}"
        )
        claim = self._journal(account.id, entry)
        voucher = None
        if accepted:
            if notice is not None:
                notice.paid_fen += fen
                if checks.notice_settled(notice.kind, from_fen(notice.amount_fen), from_fen(notice.paid_fen)):
                    notice.status = "paid"
                    self.rows.notice_paid(notice.id)
            if contract is not None:
                contract.paid_fen += fen
            voucher_id = self.rows.next_id("vouchers")
            voucher = self.rows.add(
                "vouchers",
                {
                    "id": voucher_id,
                    "voucher_no": deposits.voucher_number(cmd.value_date, voucher_id),
                    "deposit_id": deposit["id"],
                    "account_id": account.id,
                    "verification_code": deposits.new_verification_code(),
                    "status": "issued",
                    "receipt_no": None,
                    "issued_at": utcnow(),
                },
            )
        view = deposits.view_of(
            SimpleNamespace(**deposit), account.account_no, SimpleNamespace(**voucher) if voucher else None
        )
        self._event(
            actor,
            f"deposit.{deposit['status']}",
            "deposit",
            deposit["id"],
            account.id,
            after={k: v for k, v in wire(view).items() if k != "voucher"},
            details={"voucher_no": view.voucher.voucher_no if view.voucher else None},
            claims=[claim],
        )
        return view

    # -- rows every use case writes ----------------------------------------------------------------------

    def _journal(self, account_id: int, entry: ledger.Entry) -> list[Any]:
        """The entry and its legs (`Journal.post`), added to the maintained sums; its claim by the event."""
        row = self.rows.add(
            "journal_entries",
            {
                "id": self.rows.next_id("journal_entries"),
                "account_id": account_id,
                "kind": entry.kind.value,
                "booked_on": entry.booked_on,
                "reference": entry.reference,
                "amount_fen": entry.amount_fen,
                "created_at": utcnow(),
            },
        )
        legs = [
            self.rows.add(
                "journal_legs",
                {
                    "id": self.rows.next_id("journal_legs"),
                    "entry_id": row["id"],
                    "account_id": account_id,
                    "ledger": leg.ledger.value,
                    "amount_fen": leg.amount_fen,
                },
            )
            for leg in entry.legs
        ]
        sums = {name.value: fen for name, fen in ledger.ledger_sums(entry.legs).items()}
        self.rows.add_to_sums(account_id, sums, entry.kind.value, row["amount_fen"])
        return [row["id"], audit.entry_digest(audit.entry_record(row, legs))]

    def _event(
        self,
        actor: Principal,
        action: str,
        subject_type: str,
        subject_id: str | int,
        account_id: int,
        *,
        after: Any,
        details: dict[str, Any] | None = None,
        claims: list[list[Any]] | None = None,
    ) -> None:
        """The event `audit.record` would write (the same body, chained to the same head)."""
        stored = json.loads(audit.canonical(details or {}))
        if claims:
            stored[audit.JOURNAL_KEY] = claims
        self.rows.event(
            {
                "occurred_at": utcnow().replace(microsecond=0),
                "actor": actor.ref,
                "action": action,
                "subject_type": subject_type,
                "subject_id": str(subject_id),
                "account_id": account_id,
                "before_digest": None,
                "after_digest": audit.digest(after),
                "details": stored,
            }
        )
