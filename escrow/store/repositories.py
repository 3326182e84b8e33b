"""Queries live here; services call these and never write SQL of their own."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from escrow.domain import ledger
from escrow.domain.ledger import Balances, Entry, EntryKind, Ledger
from escrow.store.models import (
    ApiKey,
    ApprovalStep,
    Bank,
    Contract,
    Deposit,
    Developer,
    Freeze,
    Guarantee,
    IdempotencyRecord,
    JournalEntry,
    JournalLeg,
    NodeConfirmation,
    PaymentInstruction,
    PaymentNotice,
    Project,
    Refund,
    Release,
    ReleaseDocument,
    ReleasePayee,
    RulebookRecord,
    Statement,
    StoredDocument,
    SupervisedAccount,
    User,
    Voucher,
    WebSession,
)


class Repo:
    def __init__(self, session: Session):
        self.session = session

    def add(self, row):
        self.session.add(row)
        self.session.flush()
        return row


class Parties(Repo):
    """Banks, developers, users and API keys."""

    def bank_by_code(self, code: str) -> Bank | None:
        return self.session.scalar(select(Bank).where(Bank.code == code))

    def developer_by_code(self, credit_code: str) -> Developer | None:
        return self.session.scalar(select(Developer).where(Developer.credit_code == credit_code))

    def user_by_name(self, username: str) -> User | None:
        return self.session.scalar(select(User).where(User.username == username))

    def key_by_prefix(self, prefix: str) -> ApiKey | None:
        return self.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None)))


class Projects(Repo):
    def get(self, project_id: int) -> Project | None:
        return self.session.get(Project, project_id)

    def by_permit(self, permit_no: str) -> Project | None:
        return self.session.scalar(select(Project).where(Project.permit_no == permit_no))

    def account_for(self, project_id: int) -> SupervisedAccount | None:
        return self.session.scalar(
            select(SupervisedAccount).where(SupervisedAccount.project_id == project_id)
        )

    def account_by_no(self, account_no: str) -> SupervisedAccount | None:
        return self.session.scalar(
            select(SupervisedAccount).where(SupervisedAccount.account_no == account_no)
        )

    def lock_account(self, account_id: int) -> SupervisedAccount | None:
        """Serialise money-moving writes on one account: a row lock on PostgreSQL. On SQLite the write
        transaction (BEGIN IMMEDIATE) already holds the database's single write lock."""
        # populate_existing: the row read under the lock replaces any stale copy already in the session
        stmt = select(SupervisedAccount).where(SupervisedAccount.id == account_id)
        stmt = stmt.execution_options(populate_existing=True)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return self.session.scalar(stmt)

    def accounts_of_bank(self, bank_id: int) -> list[SupervisedAccount]:
        return list(
            self.session.scalars(
                select(SupervisedAccount)
                .where(SupervisedAccount.bank_id == bank_id)
                .order_by(SupervisedAccount.id)
            )
        )

    def confirmed_nodes(self, project_id: int) -> list[NodeConfirmation]:
        return list(
            self.session.scalars(
                select(NodeConfirmation)
                .where(NodeConfirmation.project_id == project_id)
                .order_by(NodeConfirmation.id)
            )
        )


class Journal(Repo):
    def post(self, account_id: int, entry: Entry) -> JournalEntry:
        """Append one balanced entry and its legs (the domain Entry has already checked the balance)."""
        row = JournalEntry(
            account_id=account_id,
            kind=entry.kind.value,
            booked_on=entry.booked_on,
            reference=entry.reference,
            amount_fen=sum(leg.amount_fen for leg in entry.legs if leg.amount_fen > 0),
        )
        self.add(row)
        self.session.add_all(
            JournalLeg(
                entry_id=row.id, account_id=account_id, ledger=leg.ledger.value, amount_fen=leg.amount_fen
            )
            for leg in entry.legs
        )
        self.session.flush()
        return row

    def balances(self, account_id: int) -> Balances:
        rows = self.session.execute(
            select(JournalLeg.ledger, func.sum(JournalLeg.amount_fen))
            .where(JournalLeg.account_id == account_id)
            .group_by(JournalLeg.ledger)
        )
        return Balances.from_ledger_sums({Ledger(name): int(total) for name, total in rows})

    def received_fen(self, account_id: int) -> int:
        """Money received for the project: deposits net of reversals and of unidentified money returned to
        its payer (for the guarantee precondition)."""
        received = self._kind_total(account_id, (EntryKind.DEPOSIT, EntryKind.DEPOSIT_SUSPENSE))
        return received - self._kind_total(account_id, (EntryKind.REVERSAL, EntryKind.SUSPENSE_RETURNED))

    def _kind_total(self, account_id: int, kinds: tuple[EntryKind, ...]) -> int:
        total = self.session.scalar(
            select(func.coalesce(func.sum(JournalEntry.amount_fen), 0)).where(
                JournalEntry.account_id == account_id, JournalEntry.kind.in_([k.value for k in kinds])
            )
        )
        return int(total or 0)

    def entries(self, account_id: int) -> list[Entry]:
        """The account's journal as domain entries, in booking order (for invariant checks)."""
        legs: dict[int, list[ledger.Leg]] = {}
        for leg in self.session.scalars(
            select(JournalLeg).where(JournalLeg.account_id == account_id).order_by(JournalLeg.id)
        ):
            legs.setdefault(leg.entry_id, []).append(ledger.Leg(Ledger(leg.ledger), leg.amount_fen))
        rows = self.session.scalars(
            select(JournalEntry).where(JournalEntry.account_id == account_id).order_by(JournalEntry.id)
        )
        return [Entry(EntryKind(r.kind), tuple(legs.get(r.id, ())), r.booked_on, r.reference) for r in rows]

    def totals_by_kind(self, start: date, end: date) -> dict[str, int]:
        rows = self.session.execute(
            select(JournalEntry.kind, func.sum(JournalEntry.amount_fen))
            .where(JournalEntry.booked_on >= start, JournalEntry.booked_on <= end)
            .group_by(JournalEntry.kind)
        )
        return {kind: int(total) for kind, total in rows}

    def cash_until(self, account_id: int, end: date) -> int:
        """The account's cash balance at the end of `end` (entries booked on or before it)."""
        total = self.session.scalar(
            select(func.coalesce(func.sum(JournalLeg.amount_fen), 0))
            .join(JournalEntry, JournalEntry.id == JournalLeg.entry_id)
            .where(
                JournalLeg.account_id == account_id,
                JournalLeg.ledger == Ledger.CASH.value,
                JournalEntry.booked_on <= end,
            )
        )
        return int(total or 0)

    def cash_total_until(self, end: date) -> int:
        total = self.session.scalar(
            select(func.coalesce(func.sum(JournalLeg.amount_fen), 0))
            .join(JournalEntry, JournalEntry.id == JournalLeg.entry_id)
            .where(JournalLeg.ledger == Ledger.CASH.value, JournalEntry.booked_on <= end)
        )
        return int(total or 0)

    def has_reference(self, account_id: int, reference: str) -> bool:
        """Whether an entry with this reference was already booked on the account."""
        return (
            self.session.scalar(
                select(JournalEntry.id)
                .where(JournalEntry.account_id == account_id, JournalEntry.reference == reference)
                .limit(1)
            )
            is not None
        )


class Holds(Repo):
    """What reduces the releasable amount besides retention: freezes, pending instructions, guarantees."""

    def frozen_fen(self, account_id: int) -> int:
        return self._sum(Freeze.amount_fen, Freeze.account_id == account_id, Freeze.status == "active")

    def pending_out_fen(self, account_id: int) -> int:
        # a pending return is unassigned money, already held back as suspense: counting it here too would
        # hold it back twice
        return self._sum(
            PaymentInstruction.amount_fen,
            PaymentInstruction.account_id == account_id,
            PaymentInstruction.status == "pending",
            PaymentInstruction.kind != "return",
        )

    def guarantee_fen(self, account_id: int, on: date) -> int:
        return self._sum(
            Guarantee.amount_fen,
            Guarantee.account_id == account_id,
            Guarantee.status == "accepted",
            Guarantee.expires_on >= on,
        )

    def _sum(self, column, *where) -> int:
        return int(self.session.scalar(select(func.coalesce(func.sum(column), 0)).where(*where)) or 0)


class Stats(Repo):
    def accounts_opened(self, start: date, end: date) -> tuple[int, int]:
        """(accounts opened in the period, their projects' pre-sale area in hundredths of m²)."""
        count, area = self.session.execute(
            select(func.count(SupervisedAccount.id), func.coalesce(func.sum(Project.presale_area_x100), 0))
            .join(Project, Project.id == SupervisedAccount.project_id)
            .where(SupervisedAccount.opened_on >= start, SupervisedAccount.opened_on <= end)
        ).one()
        return int(count), int(area)


class RulebookRecords(Repo):
    def all(self) -> dict[str, str]:
        return {r.rulebook_id: r.sha256 for r in self.session.scalars(select(RulebookRecord))}

    def record_first_use(self, rulebook_id: str, sha256: str) -> str:
        """Record the hash the first time a version is used; return the recorded hash."""
        existing = self.session.scalar(
            select(RulebookRecord).where(RulebookRecord.rulebook_id == rulebook_id)
        )
        if existing is not None:
            return existing.sha256
        self.add(RulebookRecord(rulebook_id=rulebook_id, sha256=sha256))
        return sha256


class Idempotency(Repo):
    def get(self, principal: str, key: str) -> IdempotencyRecord | None:
        return self.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
            )
        )


class Contracts(Repo):
    def by_no(self, contract_no: str) -> Contract | None:
        return self.session.scalar(select(Contract).where(Contract.contract_no == contract_no))

    def notices_total_fen(self, contract_id: int) -> int:
        """Open and paid notices of a contract (what the buyer has been asked to pay)."""
        return int(
            self.session.scalar(
                select(func.coalesce(func.sum(PaymentNotice.amount_fen), 0)).where(
                    PaymentNotice.contract_id == contract_id, PaymentNotice.status.in_(("open", "paid"))
                )
            )
            or 0
        )

    def notice_by_no(self, notice_no: str) -> PaymentNotice | None:
        return self.session.scalar(select(PaymentNotice).where(PaymentNotice.notice_no == notice_no))

    def paid_fen(self, contract_id: int) -> int:
        """Accepted, unreversed deposits on a contract."""
        return int(
            self.session.scalar(
                select(func.coalesce(func.sum(Deposit.amount_fen), 0)).where(
                    Deposit.contract_id == contract_id, Deposit.status.in_(("accepted", "assigned"))
                )
            )
            or 0
        )

    def paid_deposits(self, contract_id: int) -> list[Deposit]:
        """The accepted, unreversed deposits that make up `paid_fen`, in booking order."""
        return list(
            self.session.scalars(
                select(Deposit)
                .where(Deposit.contract_id == contract_id, Deposit.status.in_(("accepted", "assigned")))
                .order_by(Deposit.id)
            )
        )

    def notices_of(self, contract_id: int, status: str) -> list[PaymentNotice]:
        return list(
            self.session.scalars(
                select(PaymentNotice)
                .where(PaymentNotice.contract_id == contract_id, PaymentNotice.status == status)
                .order_by(PaymentNotice.id)
            )
        )

    def vouchers_of(self, contract_id: int) -> list[Voucher]:
        """Vouchers issued for deposits on a contract."""
        return list(
            self.session.scalars(
                select(Voucher)
                .join(Deposit, Deposit.id == Voucher.deposit_id)
                .where(Deposit.contract_id == contract_id)
                .order_by(Voucher.id)
            )
        )


class Deposits(Repo):
    def by_reference(self, bank_id: int, bank_reference: str) -> Deposit | None:
        return self.session.scalar(
            select(Deposit).where(Deposit.bank_id == bank_id, Deposit.bank_reference == bank_reference)
        )

    def voucher_for(self, deposit_id: int) -> Voucher | None:
        return self.session.scalar(select(Voucher).where(Voucher.deposit_id == deposit_id))

    def voucher_by_no(self, voucher_no: str) -> Voucher | None:
        return self.session.scalar(select(Voucher).where(Voucher.voucher_no == voucher_no))

    def get(self, deposit_id: int) -> Deposit | None:
        return self.session.get(Deposit, deposit_id) if _valid_id(deposit_id) else None

    def unassigned(self, account_id: int) -> list[Deposit]:
        """Money of the account still in suspense: waiting to be assigned, or to be returned to its payer."""
        return list(
            self.session.scalars(
                select(Deposit)
                .where(Deposit.account_id == account_id, Deposit.status.in_(("suspense", "returning")))
                .order_by(Deposit.id)
            )
        )


STATEMENT_LINE_COLUMNS = (
    "statement_id",
    "account_id",
    "line_no",
    "bank_reference",
    "booked_on",
    "amount_fen",
    "direction",
    "counterparty_name",
    "counterparty_account",
    "remittance",
    "match",
    "deposit_id",
)


class Statements(Repo):
    def insert_lines(self, rows: list[tuple]) -> None:
        """Insert statement lines (tuples in STATEMENT_LINE_COLUMNS order) with the driver's executemany:
        SQLAlchemy's per-row parameter processing would cost more than the insert itself."""
        connection = self.session.connection()
        sqlite = connection.dialect.name == "sqlite"
        mark = "?" if sqlite else "%s"
        sql = (
            f"INSERT INTO statement_lines ({', '.join(STATEMENT_LINE_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(STATEMENT_LINE_COLUMNS))})"
        )
        if sqlite:  # SQLAlchemy keeps dates in SQLite as ISO text; do the same
            rows = [(*r[:4], r[4].isoformat(), *r[5:]) for r in rows]
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def latest(self, account_id: int) -> Statement | None:
        return self.session.scalar(
            select(Statement)
            .where(Statement.account_id == account_id)
            .order_by(Statement.statement_date.desc(), Statement.id.desc())
            .limit(1)
        )


def advisory_lock(session: Session, key: int) -> None:
    """A transaction-scoped lock on PostgreSQL; SQLite's write transaction is already exclusive."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


MAX_ID = (
    2**31 - 1
)  # primary keys are INTEGER: a larger id from a URL cannot exist (and PostgreSQL refuses it)


def _valid_id(value: int) -> bool:
    return 0 < value <= MAX_ID


class Releases(Repo):
    """Release applications with their payees, documents and approval steps."""

    def get(self, release_id: int) -> Release | None:
        return self.session.get(Release, release_id) if _valid_id(release_id) else None

    def payees(self, release_id: int) -> list[ReleasePayee]:
        return list(
            self.session.scalars(
                select(ReleasePayee).where(ReleasePayee.release_id == release_id).order_by(ReleasePayee.id)
            )
        )

    def documents(self, release_id: int) -> list[ReleaseDocument]:
        return list(
            self.session.scalars(
                select(ReleaseDocument)
                .where(ReleaseDocument.release_id == release_id)
                .order_by(ReleaseDocument.id)
            )
        )

    def steps(self, release_id: int) -> list[ApprovalStep]:
        return list(
            self.session.scalars(
                select(ApprovalStep)
                .where(ApprovalStep.release_id == release_id)
                .order_by(ApprovalStep.step_no)
            )
        )

    def listing(
        self, *, developer_id: int | None = None, status: str | None = None, limit: int = 200
    ) -> list[Release]:
        stmt = select(Release)
        if developer_id is not None:
            stmt = stmt.where(Release.developer_id == developer_id)
        if status is not None:
            stmt = stmt.where(Release.status == status)
        return list(self.session.scalars(stmt.order_by(Release.id.desc()).limit(limit)))

    def search(
        self, *, status: str | None = None, project_id: int | None = None, offset: int = 0, limit: int = 20
    ) -> tuple[list[tuple[Release, str, str]], int]:
        """One page of releases, newest first, with the project's and the developer's names; and the total."""
        where = []
        if status is not None:
            where.append(Release.status == status)
        if project_id is not None:
            where.append(Release.project_id == project_id)
        total = self.session.scalar(select(func.count()).select_from(Release).where(*where)) or 0
        rows = self.session.execute(
            select(Release, Project.name, Developer.name)
            .join(Project, Project.id == Release.project_id)
            .join(Developer, Developer.id == Release.developer_id)
            .where(*where)
            .order_by(Release.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        return [(r, p, d) for r, p, d in rows], total

    def steps_taken(self, release_ids: list[int]) -> dict[int, int]:
        """How many approval steps each release has behind it."""
        if not release_ids:
            return {}
        rows = self.session.execute(
            select(ApprovalStep.release_id, func.count())
            .where(ApprovalStep.release_id.in_(release_ids))
            .group_by(ApprovalStep.release_id)
        ).all()
        return {release_id: n for release_id, n in rows}

    def projects_with_releases(self) -> list[tuple[int, str]]:
        """(project id, name) of every project that has a release application, for the list's filter."""
        rows = self.session.execute(
            select(Project.id, Project.name)
            .where(Project.id.in_(select(Release.project_id)))
            .order_by(Project.name)
        ).all()
        return [(i, n) for i, n in rows]


class Refunds(Repo):
    """Refunds of cancelled contracts and their approval steps."""

    def get(self, refund_id: int) -> Refund | None:
        return self.session.get(Refund, refund_id) if _valid_id(refund_id) else None

    def for_contract(self, contract_id: int) -> Refund | None:
        return self.session.scalar(
            select(Refund).where(Refund.contract_id == contract_id).order_by(Refund.id.desc()).limit(1)
        )

    def steps(self, refund_id: int) -> list[ApprovalStep]:
        return list(
            self.session.scalars(
                select(ApprovalStep).where(ApprovalStep.refund_id == refund_id).order_by(ApprovalStep.step_no)
            )
        )

    def listing(self, *, status: str | None = None, offset: int = 0, limit: int = 20) -> list[Refund]:
        """Newest first, one page of them."""
        stmt = select(Refund)
        if status is not None:
            stmt = stmt.where(Refund.status == status)
        return list(self.session.scalars(stmt.order_by(Refund.id.desc()).offset(offset).limit(limit)))

    def count(self, *, status: str | None = None) -> int:
        stmt = select(func.count(Refund.id))
        if status is not None:
            stmt = stmt.where(Refund.status == status)
        return int(self.session.scalar(stmt) or 0)


class Instructions(Repo):
    """Payment instructions: approved releases and refunds for the supervising bank to pay."""

    def get(self, instruction_id: int) -> PaymentInstruction | None:
        return self.session.get(PaymentInstruction, instruction_id) if _valid_id(instruction_id) else None

    def for_release(self, release_id: int) -> PaymentInstruction | None:
        return self.session.scalar(
            select(PaymentInstruction).where(PaymentInstruction.release_id == release_id)
        )

    def for_refund(self, refund_id: int) -> PaymentInstruction | None:
        return self.session.scalar(
            select(PaymentInstruction).where(PaymentInstruction.refund_id == refund_id)
        )

    def for_deposit(self, deposit_id: int) -> PaymentInstruction | None:
        """The return of an unassigned deposit to its payer."""
        return self.session.scalar(
            select(PaymentInstruction).where(PaymentInstruction.deposit_id == deposit_id)
        )

    def of_bank(self, bank_id: int, status: str | None = None) -> list[PaymentInstruction]:
        stmt = (
            select(PaymentInstruction)
            .join(SupervisedAccount, SupervisedAccount.id == PaymentInstruction.account_id)
            .where(SupervisedAccount.bank_id == bank_id)
        )
        if status is not None:
            stmt = stmt.where(PaymentInstruction.status == status)
        return list(self.session.scalars(stmt.order_by(PaymentInstruction.id)))

    def executed_with_reference(self, bank_id: int, bank_reference: str) -> PaymentInstruction | None:
        return self.session.scalar(
            select(PaymentInstruction)
            .join(SupervisedAccount, SupervisedAccount.id == PaymentInstruction.account_id)
            .where(SupervisedAccount.bank_id == bank_id, PaymentInstruction.bank_reference == bank_reference)
            .limit(1)
        )


class Freezes(Repo):
    """Court freezes of supervised accounts."""

    def get(self, freeze_id: int) -> Freeze | None:
        return self.session.get(Freeze, freeze_id) if _valid_id(freeze_id) else None

    def by_order(self, account_id: int, order_no: str) -> Freeze | None:
        return self.session.scalar(
            select(Freeze).where(Freeze.account_id == account_id, Freeze.order_no == order_no)
        )

    def active(self, account_id: int) -> list[Freeze]:
        return list(
            self.session.scalars(
                select(Freeze)
                .where(Freeze.account_id == account_id, Freeze.status == "active")
                .order_by(Freeze.id)
            )
        )


class WebSessions(Repo):
    """Server-side sessions of the web UI, keyed by the SHA-256 of the cookie's random id."""

    def get(self, key: str) -> WebSession | None:
        return self.session.get(WebSession, key)

    def delete(self, key: str) -> None:
        self.session.execute(delete(WebSession).where(WebSession.key == key))

    def delete_for_user(self, user_id: int) -> None:
        """Every session of one user (sign-out everywhere when an account is locked or disabled)."""
        self.session.execute(delete(WebSession).where(WebSession.user_id == user_id))

    def purge(self, before) -> int:
        return self.session.execute(delete(WebSession).where(WebSession.expires_at < before)).rowcount


class Documents(Repo):
    """Files uploaded through the web UI."""

    def get(self, document_id: int) -> StoredDocument | None:
        return self.session.get(StoredDocument, document_id) if _valid_id(document_id) else None

    def by_sha256_for_account(self, sha256: str, account_id: int) -> StoredDocument | None:
        """The latest stored file with this SHA-256 on this account (a release's document link)."""
        return self.session.scalar(
            select(StoredDocument)
            .where(StoredDocument.sha256 == sha256, StoredDocument.account_id == account_id)
            .order_by(StoredDocument.id.desc())
            .limit(1)
        )


class CapFigures(Repo):
    """The release-cap inputs of many accounts in a fixed number of queries, for city-wide views (the
    rule-book what-if) where a handful of queries per account would make the page slow."""

    CHUNK = 500  # ids per IN list: well inside every engine's parameter limit

    def live_projects(self, jurisdiction: str) -> list[tuple[Project, SupervisedAccount, str]]:
        """(project, account, developer name) of every project of the jurisdiction whose account is open."""
        rows = self.session.execute(
            select(Project, SupervisedAccount, Developer.name)
            .join(SupervisedAccount, SupervisedAccount.project_id == Project.id)
            .join(Developer, Developer.id == Project.developer_id)
            .where(Project.jurisdiction == jurisdiction, SupervisedAccount.status != "closed")
            .order_by(Project.id)
        )
        return [(p, a, name) for p, a, name in rows]

    def confirmed_nodes(self, project_ids: list[int]) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        for ids in self._chunks(project_ids):
            rows = self.session.execute(
                select(NodeConfirmation.project_id, NodeConfirmation.node_code).where(
                    NodeConfirmation.project_id.in_(ids)
                )
            )
            for project_id, code in rows:
                found.setdefault(project_id, set()).add(code)
        return found

    def balances(self, account_ids: list[int]) -> dict[int, Balances]:
        sums: dict[int, dict[Ledger, int]] = {}
        for ids in self._chunks(account_ids):
            rows = self.session.execute(
                select(JournalLeg.account_id, JournalLeg.ledger, func.sum(JournalLeg.amount_fen))
                .where(JournalLeg.account_id.in_(ids))
                .group_by(JournalLeg.account_id, JournalLeg.ledger)
            )
            for account_id, name, total in rows:
                sums.setdefault(account_id, {})[Ledger(name)] = int(total)
        return {a: Balances.from_ledger_sums(sums.get(a, {})) for a in account_ids}

    def received_fen(self, account_ids: list[int]) -> dict[int, int]:
        """As Journal.received_fen, per account."""
        plus = (EntryKind.DEPOSIT.value, EntryKind.DEPOSIT_SUSPENSE.value)
        minus = (EntryKind.REVERSAL.value, EntryKind.SUSPENSE_RETURNED.value)
        found = dict.fromkeys(account_ids, 0)
        for ids in self._chunks(account_ids):
            rows = self.session.execute(
                select(JournalEntry.account_id, JournalEntry.kind, func.sum(JournalEntry.amount_fen))
                .where(JournalEntry.account_id.in_(ids), JournalEntry.kind.in_(plus + minus))
                .group_by(JournalEntry.account_id, JournalEntry.kind)
            )
            for account_id, kind, total in rows:
                found[account_id] += int(total) if kind in plus else -int(total)
        return found

    def frozen_fen(self, account_ids: list[int]) -> dict[int, int]:
        return self._sums(account_ids, Freeze.account_id, Freeze.amount_fen, Freeze.status == "active")

    def pending_out_fen(self, account_ids: list[int]) -> dict[int, int]:
        return self._sums(
            account_ids,
            PaymentInstruction.account_id,
            PaymentInstruction.amount_fen,
            PaymentInstruction.status == "pending",
        )

    def guarantee_fen(self, account_ids: list[int], on: date) -> dict[int, int]:
        return self._sums(
            account_ids,
            Guarantee.account_id,
            Guarantee.amount_fen,
            Guarantee.status == "accepted",
            Guarantee.expires_on >= on,
        )

    def _sums(self, account_ids: list[int], key, column, *where) -> dict[int, int]:
        found = dict.fromkeys(account_ids, 0)
        for ids in self._chunks(account_ids):
            rows = self.session.execute(
                select(key, func.sum(column)).where(key.in_(ids), *where).group_by(key)
            )
            for account_id, total in rows:
                found[account_id] = int(total or 0)
        return found

    def _chunks(self, ids: list[int]) -> list[list[int]]:
        return [ids[i : i + self.CHUNK] for i in range(0, len(ids), self.CHUNK)]
