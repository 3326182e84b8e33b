"""Bureau endpoints: opening projects, confirming nodes, city figures (CONTRACT.md §3, Bureau), and bank
guarantees (保函, CONTRACT.md §8)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from escrow.api import responses as R
from escrow.api.deps import Id, query_date, require_bureau, services
from escrow.api.idempotency import idempotent
from escrow.api.paging import paged
from escrow.api.routes import KeyedController, list_route, read_route, write_route
from escrow.api.schemas import (
    BankChangeIn,
    ClosureIn,
    GuaranteeIn,
    NewBuildingIn,
    NodeConfirmationIn,
    ProjectIn,
)
from escrow.domain.paging import Page
from escrow.domain.principal import Principal
from escrow.services import guarantees, instructions, lifecycle, projects, stats


class BureauController(KeyedController):
    tags = ["bureau"]

    @write_route(
        "/projects",
        "Open a project and its supervised account",
        "The project, its supervised account and nodes",
        (403,),
    )
    @idempotent
    def open_project(
        self, request: Request, data: JSONBody[ProjectIn], principal: NamedDependency[Principal]
    ) -> projects.ProjectView:
        require_bureau(principal, "admin")
        cmd = projects.OpenProject(
            developer_credit_code=data.developer_credit_code,
            name=data.name,
            permit_no=data.permit_no,
            permit_date=data.permit_date,
            presale_area_m2=data.presale_area_m2,
            finish=data.finish,
            bank_code=data.bank_code,
            account_no=data.account_no,
            account_name=data.account_name,
            supervised_amount=Decimal(data.supervised_amount) if data.supervised_amount else None,
            jurisdiction=data.jurisdiction,
            opened_on=data.opened_on,
            buildings=tuple(
                projects.NewBuilding(b.code, b.name, Decimal(b.presale_area_m2)) for b in data.buildings or ()
            ),
            agreement_no=data.agreement_no,
        )
        return projects.register(services(request), cmd, principal)

    @write_route(
        "/projects/{project_id:int}/buildings",
        "Add a building with a new permit area",
        "The project with its buildings; the key supervised amount grows by the formula for the new area",
        (403, 404, 409),
        operation_id="addBuilding",
    )
    @idempotent
    def add_building(
        self,
        request: Request,
        project_id: Id,
        data: JSONBody[NewBuildingIn],
        principal: NamedDependency[Principal],
    ) -> projects.ProjectView:
        require_bureau(principal, "admin")
        building = projects.NewBuilding(data.code, data.name, Decimal(data.presale_area_m2))
        cmd = projects.AddBuilding(project_id, building, data.permit_no)
        return projects.add_building(services(request), cmd, principal)

    @read_route(
        "/projects/{project_id:int}", "A project, its account, nodes and release cap", "The project", (404,)
    )
    def project(
        self, request: Request, project_id: Id, principal: NamedDependency[Principal]
    ) -> projects.ProjectView:
        return projects.get(services(request), project_id, principal)

    @write_route(
        "/projects/{project_id:int}/nodes/{node_code:str}/confirmation",
        "Confirm that construction reached a node (inspectors)",
        "The node is confirmed; the release cap before and after",
    )
    @idempotent
    def confirm_node(
        self,
        request: Request,
        project_id: Id,
        node_code: FromPath[str],
        data: JSONBody[NodeConfirmationIn],
        principal: NamedDependency[Principal],
    ) -> projects.NodeConfirmationView:
        require_bureau(principal, "inspector")
        cmd = projects.ConfirmNode(
            project_id=project_id,
            node_code=node_code,
            reached_on=data.reached_on,
            evidence=tuple(projects.Evidence(**e.model_dump()) for e in data.evidence),
        )
        return projects.confirm(services(request), cmd, principal)

    @write_route(
        "/projects/{project_id:int}/buildings/{code:str}/nodes/{node_code:str}/confirmation",
        "Confirm that construction of one building reached a node (inspectors)",
        "The node is confirmed for the building; the release cap before and after",
        operation_id="confirmBuildingNode",
    )
    @idempotent
    def confirm_building_node(
        self,
        request: Request,
        project_id: Id,
        code: FromPath[str],
        node_code: FromPath[str],
        data: JSONBody[NodeConfirmationIn],
        principal: NamedDependency[Principal],
    ) -> projects.NodeConfirmationView:
        require_bureau(principal, "inspector")
        cmd = projects.ConfirmNode(
            project_id=project_id,
            node_code=node_code,
            reached_on=data.reached_on,
            evidence=tuple(projects.Evidence(**e.model_dump()) for e in data.evidence),
            building=code,
        )
        return projects.confirm(services(request), cmd, principal)

    @read_route(
        "/stats",
        "City figures for a period",
        errors=(400, 403, 422),
        success={200: (R.CityStats, "The period's figures")},
    )
    def stats(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        start: Annotated[str, QueryParameter(name="from", description="first day, YYYY-MM-DD")],
        end: Annotated[str, QueryParameter(name="to", description="last day, YYYY-MM-DD")],
    ) -> dict[str, Any]:
        require_bureau(principal)
        period = (query_date(start, "from"), query_date(end, "to"))
        return stats.for_period(services(request), *period)

    @write_route(
        "/projects/{project_id:int}/guarantees",
        "Register a bank guarantee (保函) standing in for part of the retention (bureau admins)",
        "The guarantee and the project's release cap after it",
        (403, 404, 409),
        description=(
            "Refused (422, naming the rule) while the account's balance is below the key supervised amount "
            "(`guarantee.requires_full_amount`), or when the guarantees valid on the same days plus this one "
            "would stand in for more than the rule book's share (`guarantee.max_share`: of the required "
            "retention — at least 70% stays in cash — or, under hengshui@2024.1, of the key amount); also "
            "when valid_until is not after valid_from or already past, or the account is closed. The same "
            "guarantee_no twice on the account: 409."
        ),
    )
    @idempotent
    def register_guarantee(
        self,
        request: Request,
        project_id: Id,
        data: JSONBody[GuaranteeIn],
        principal: NamedDependency[Principal],
    ) -> guarantees.GuaranteeChange:
        require_bureau(principal, "admin")
        cmd = data.to(guarantees.RegisterGuarantee, project_id=project_id, amount=Decimal(data.amount))
        return guarantees.register(services(request), cmd, principal)

    @write_route(
        "/guarantees/{guarantee_id:int}/release",
        "Release a bank guarantee: it counts no more (bureau admins)",
        "The released guarantee and the project's release cap after it",
        (403, 404, 409),
    )
    @idempotent
    def release_guarantee(
        self, request: Request, guarantee_id: Id, principal: NamedDependency[Principal]
    ) -> guarantees.GuaranteeChange:
        require_bureau(principal, "admin")
        return guarantees.release(services(request), guarantee_id, principal)

    @list_route(
        "/projects/{project_id:int}/guarantees",
        "A project's bank guarantees (bureau users and the project's developer)",
        "The guarantees in the order registered; status expired once past valid_until",
    )
    def list_guarantees(
        self,
        request: Request,
        project_id: Id,
        principal: NamedDependency[Principal],
        page: NamedDependency[Page],
    ) -> Response[list[guarantees.GuaranteeView]]:
        return paged(request, guarantees.page_of_listing(services(request), project_id, principal, page))

    @write_route(
        "/projects/{project_id:int}/closure",
        "End supervision (解除监管): order the closing payout of the whole balance (bureau admins)",
        "The payment instruction of kind `closure`, waiting for the bank",
        (403, 404, 409),
        operation_id="closeAccount",
        description=(
            "Allowed once every node of the project's rule book is confirmed (in every building) and nothing "
            "is open: no unassigned money, no release or refund being decided or waiting for the bank, no "
            "pending instruction, no court freeze and no guarantee in force. Refused with `blockers` naming "
            "each (`lifecycle.<code>`): 422 when only nodes are missing, else 409; a second closure or a "
            "transfer waiting: 409. When the bank executes it the books pay out the balance and the account "
            "is `closed`; while it waits, releases, refunds, guarantees and deposits on the account answer "
            "409."
        ),
    )
    @idempotent
    def close_account(
        self,
        request: Request,
        project_id: Id,
        data: JSONBody[ClosureIn],
        principal: NamedDependency[Principal],
    ) -> instructions.ClosureInstruction:
        require_bureau(principal, "admin")
        payee = lifecycle.Payee(data.payee.name, data.payee.account_no, data.payee.bank_name)
        cmd = lifecycle.CloseAccount(project_id=project_id, payee=payee, reason=data.reason)
        return lifecycle.close(services(request), cmd, principal)

    @write_route(
        "/projects/{project_id:int}/bank-change",
        "Change the supervising bank: the whole balance moves to a new account (bureau admins)",
        "The payment instruction of kind `transfer`, waiting for the old bank",
        (403, 404, 409),
        operation_id="changeSupervisingBank",
        description=(
            "Refused (409, with `blockers`) while an instruction is pending or a release or refund is being "
            "decided, a court freeze is in force, money is unassigned, or a closure or transfer already "
            "waits; an account number already in use: 409. "
            "When the old bank executes it, the old account is `closed`, the new account (active, opened on "
            "the execution date) opens with the balance moved, and the contracts, guarantees in force and "
            "open payment notices move to it (the notices are re-issued naming it)."
        ),
    )
    @idempotent
    def change_bank(
        self,
        request: Request,
        project_id: Id,
        data: JSONBody[BankChangeIn],
        principal: NamedDependency[Principal],
    ) -> instructions.TransferInstruction:
        require_bureau(principal, "admin")
        cmd = lifecycle.ChangeBank(
            project_id=project_id,
            bank_code=data.bank_code,
            account_no=data.account_no,
            account_name=data.account_name,
            reason=data.reason,
        )
        return lifecycle.change_bank(services(request), cmd, principal)
