"""`/bank`: what a supervising bank's staff may read of their own bank, nothing more and nothing of another
bank (escrow.services.bank_portal scopes every read; another bank's account is 404). No page here writes:
the bank acts through its API key."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from escrow.services import bank_portal
from escrow.web.shell import pages, sessions
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

# Stored codes as bank staff read them (the same words as the bureau's pages).
LABELS = {
    "account": {"active": N_("Active"), "frozen": N_("Frozen"), "closed": N_("Closed")},
    "reconciliation": {
        "reconciled": N_("Reconciled"),
        "discrepancy": N_("Discrepancy"),
        "pending": N_("No statement yet"),
    },
    "freeze": {"active": N_("In force"), "lifted": N_("Lifted")},
    "instruction": {
        "release": N_("Release"),
        "refund": N_("Refund"),
        "return": N_("Return to payer"),
        "closure": N_("Closure"),
        "transfer": N_("Change of supervising bank"),
    },
}
BADGES = {"active": "good", "reconciled": "good", "frozen": "warn", "discrepancy": "bad", "closed": ""}


def _render(request: Request, template: str, **context) -> Response:
    return pages.render(request, template, labels=LABELS, badges=BADGES, **context)


class BankPortalController(Controller):
    path = "/bank"
    include_in_schema = False
    guards = [requires("bank.view")]

    @get("/", name="bank-accounts")
    async def accounts(self, request: Request) -> Response:
        found = await pages.run(bank_portal.accounts_of, pages.ctx(request), sessions.principal(request))
        return _render(request, "bank/accounts.html", accounts=found)

    @get("/accounts/{account_no:str}", name="bank-account")
    async def account(self, request: Request, account_no: FromPath[str]) -> Response:
        found = await pages.run(
            bank_portal.account, pages.ctx(request), sessions.principal(request), account_no
        )
        return _render(request, "bank/account.html", view=found)

    @get("/instructions", name="bank-instructions")
    async def instructions(self, request: Request) -> Response:
        found = await pages.run(bank_portal.waiting, pages.ctx(request), sessions.principal(request))
        return _render(request, "bank/instructions.html", instructions=found)

    @get("/statements", name="bank-statements")
    async def statements(self, request: Request) -> Response:
        found = await pages.run(bank_portal.statements, pages.ctx(request), sessions.principal(request))
        return _render(request, "bank/statements.html", statements=found)

    @get("/freezes", name="bank-freezes")
    async def freezes(self, request: Request) -> Response:
        found = await pages.run(bank_portal.freezes, pages.ctx(request), sessions.principal(request))
        return _render(request, "bank/freezes.html", freezes=found)
