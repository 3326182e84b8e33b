"""Key supervised amount changes: the bureau changes a project's key supervised amount, decided with four eyes
(CONTRACT.md §8, services/amount_changes.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import JSONBody
from pydantic import Field, create_model

from escrow.api import responses as R
from escrow.api.deps import Id, require_bureau, services
from escrow.api.idempotency import idempotent
from escrow.api.releases import refused
from escrow.api.routes import KeyedController, read_route, write_route
from escrow.api.schemas import DecisionIn, SupervisedAmountChangeIn
from escrow.domain.approvals import Link
from escrow.domain.principal import Principal
from escrow.services import amount_changes, approvals
from escrow.services.views import wire

# `from` is a Python keyword: the model is made with create_model so that the field keeps its wire name.
SupervisedAmountChange = create_model(
    "SupervisedAmountChange",
    __base__=R.Out,
    __doc__="A change of a project's key supervised amount, with the caps before and after.",
    **{
        "change_id": (int, ...),
        "project_id": (int, ...),
        "project_name": (str, ...),
        "account_no": (str, ...),
        "status": (Literal["submitted", "approved", "rejected"], ...),
        "from": (R.Money, Field(description="the key supervised amount when the change was filed")),
        "to": (R.Money, Field(description="the key supervised amount once approved")),
        "reason": (str, ...),
        "applied_by": (str | None, ...),
        "cap": (
            dict[str, Any],
            Field(
                description="{before, after}: each {releasable, explanation, caps: {node, non_key}} under "
                "the key supervised amount of the day and the new one"
            ),
        ),
        "supervised_amount": (R.Money, Field(description="the project's key supervised amount now")),
        "rulebook": (R.RuleBookId, ...),
        "approval_chain": (list[Link], ...),
        "next_step": (Link | None, ...),
        "steps": (list[approvals.StepView], ...),
        "created_at": (str | None, ...),
        "applied_by_name": (str | None, Field(None, description="the applicant's display name")),
        "applied_by_role": (str | None, Field(None, description="the applicant's role")),
    },
)


def present(view: amount_changes.ChangeView) -> dict[str, Any]:
    """The change as answered: `from` and `to` (Python keywords) for `from_amount` and `to_amount`."""
    names = {"from_amount": "from", "to_amount": "to"}
    return {names.get(k, k): v for k, v in wire(view).items()}


class AmountChangeController(KeyedController):
    tags = ["bureau"]
    exception_handlers = {approvals.Refused: refused}

    @write_route(
        "/projects/{project_id:int}/supervised-amount",
        "Apply for a change of a project's key supervised amount (bureau admins; four eyes)",
        success={201: (SupervisedAmountChange, "Submitted for review, with the caps before and after")},
        errors=(403, 404, 409),
        operation_id="fileSupervisedAmountChange",
        description=(
            "Refused (422 `supervised_amount_change.pending_release_cap`) where a pending release "
            "(submitted, "
            "or approved and unpaid) would be above its cap with the new amount; a second open change of the "
            "same project: 409."
        ),
    )
    @idempotent(present=present)
    def file_change(
        self,
        request: Request,
        project_id: Id,
        data: JSONBody[SupervisedAmountChangeIn],
        principal: NamedDependency[Principal],
    ) -> dict[str, Any]:
        require_bureau(principal, *amount_changes.APPLICANT_ROLES)
        cmd = amount_changes.FileChange(project_id, Decimal(data.amount), data.reason)
        return present(amount_changes.file(services(request), cmd, principal))

    @read_route(
        "/supervised-amount-changes/{change_id:int}",
        "A key supervised amount change with its approval steps",
        success={200: (SupervisedAmountChange, "The change")},
        operation_id="getSupervisedAmountChange",
    )
    def change(
        self, request: Request, change_id: Id, principal: NamedDependency[Principal]
    ) -> dict[str, Any]:
        require_bureau(principal)
        return present(amount_changes.get(services(request), change_id, principal))

    @write_route(
        "/supervised-amount-changes/{change_id:int}/decisions",
        "Take the next step of a key supervised amount change's approval chain (reviewer, approver)",
        success={201: (SupervisedAmountChange, "The change after this step")},
        errors=(403, 404, 409),
        operation_id="decideSupervisedAmountChange",
    )
    @idempotent(present=present)
    def decide(
        self,
        request: Request,
        change_id: Id,
        data: JSONBody[DecisionIn],
        principal: NamedDependency[Principal],
    ) -> dict[str, Any]:
        require_bureau(principal)
        decision = approvals.Decision(data.decision, data.comment)
        view = amount_changes.decide(services(request), change_id, decision, principal)
        return present(view)
