"""Read queries of the developer portal (escrow.web.portal): a developer's projects, contracts, notices and
vouchers. Every query is scoped by the caller to one developer or one of its contracts; nothing writes.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select

from escrow.store.models import (
    Contract,
    Deposit,
    PaymentNotice,
    Project,
    Release,
    SupervisedAccount,
    Voucher,
)
from escrow.store.repos.base import Reads
from escrow.store.repos.projects import current_account_of_project

IN_PROGRESS = ("submitted", "approved")  # not yet decided, or approved and waiting for the bank


class PortalReads(Reads):
    def projects_of(self, developer_id: int) -> list[tuple[Project, SupervisedAccount]]:
        rows = self.session.execute(
            select(Project, SupervisedAccount)
            .join(SupervisedAccount, current_account_of_project())
            .where(Project.developer_id == developer_id)
            .order_by(Project.id)
        ).all()
        return [(p, a) for p, a in rows]

    def open_notices_by_project(self, developer_id: int) -> dict[int, int]:
        rows = self.session.execute(
            select(Contract.project_id, func.count())
            .join(PaymentNotice, PaymentNotice.contract_id == Contract.id)
            .join(Project, Project.id == Contract.project_id)
            .where(Project.developer_id == developer_id, PaymentNotice.status == "open")
            .group_by(Contract.project_id)
        ).all()
        return {project_id: n for project_id, n in rows}

    def releases_in_progress_by_project(self, developer_id: int) -> dict[int, int]:
        rows = self.session.execute(
            select(Release.project_id, func.count())
            .where(Release.developer_id == developer_id, Release.status.in_(IN_PROGRESS))
            .group_by(Release.project_id)
        ).all()
        return {project_id: n for project_id, n in rows}

    def contracts(
        self, developer_id: int, q: str = "", *, offset: int = 0, limit: int = 20
    ) -> tuple[list[tuple[Contract, Project]], int]:
        """One page of the developer's contracts, newest first, matching `q` in the contract no., the
        buyer's name or the unit; and how many match in all."""
        where = [Project.developer_id == developer_id]
        if q:
            where.append(
                or_(
                    Contract.contract_no.icontains(q, autoescape=True),
                    Contract.buyer_name.icontains(q, autoescape=True),
                    Contract.unit.icontains(q, autoescape=True),
                )
            )
        base = select(Contract, Project).join(Project, Project.id == Contract.project_id).where(*where)
        total = self.session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = self.session.execute(base.order_by(Contract.id.desc()).offset(offset).limit(limit)).all()
        return [(c, p) for c, p in rows], total

    def paid_by_contract(self, contract_ids: list[int]) -> dict[int, int]:
        """Accepted, unreversed deposits per contract (as Contracts.paid_fen, for a page of contracts)."""
        if not contract_ids:
            return {}
        rows = self.session.execute(
            select(Deposit.contract_id, func.sum(Deposit.amount_fen))
            .where(Deposit.contract_id.in_(contract_ids), Deposit.status.in_(("accepted", "assigned")))
            .group_by(Deposit.contract_id)
        ).all()
        return {contract_id: int(fen or 0) for contract_id, fen in rows}

    def contract(self, contract_id: int) -> Contract | None:
        """A contract by its id, unscoped: the caller checks it is the developer's (sales.own_contract)."""
        return self.session.get(Contract, contract_id)

    def notices_of(self, contract_id: int) -> list[PaymentNotice]:
        return self.all_of(PaymentNotice, PaymentNotice.contract_id == contract_id, order_by=PaymentNotice.id)

    def vouchers_of(self, contract_id: int) -> list[tuple[Voucher, Deposit]]:
        rows = self.session.execute(
            select(Voucher, Deposit)
            .join(Deposit, Deposit.id == Voucher.deposit_id)
            .where(Deposit.contract_id == contract_id)
            .order_by(Voucher.id)
        ).all()
        return [(v, d) for v, d in rows]
