"""One imported bank statement explained to the bureau (`/statements/{statement_id}`): each line with what it
matched in the books or why not, the deposits of our books it did not show, the balances compared, the
difference, and whether releases are paused because of it and what resolves that. The outcomes are codes of
escrow.services.statements; this says them in sentences from the catalog (documents.po). Read only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from escrow.catalog.caps import amount_text
from escrow.catalog.words import ENTRY_KINDS, named
from escrow.services import statements
from escrow.services.statements import LineExplained, StatementExplained
from escrow.web.shell import pages
from escrow.web.shell.filters import long_date
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

OUTCOMES = {
    statements.MATCHED: N_("Matched in our books."),
    statements.SUSPENSE: N_(
        "In the bank's statement, not in our books: booked to suspense until it is assigned to a contract or"
        " returned to its payer."
    ),
    statements.NOT_IN_BOOKS: N_(
        "In the bank's statement, not in our books: nothing in the books explains it."
    ),
}
MATCHED_VOUCHER = N_("Matched the deposit with voucher %(voucher)s in our books.")
MATCHED_DEPOSIT = N_("Matched deposit %(deposit)s in our books.")
MATCHED_RELEASE = N_("Matched the bank's payment of release %(id)s.")
MATCHED_REFUND = N_("Matched the bank's payment of refund %(id)s.")
MATCHED_PAYMENT = N_("Matched a payment the bank made on our instruction.")
MATCHED_OWN = N_("Matched in our books as: %(kind)s.")
AMOUNT_DIFFERS = N_(
    "The amount differs by ¥%(difference)s: the statement says ¥%(stated)s, our books ¥%(books)s under the"
    " same reference."
)
BOOKS_ONLY = N_("In our books, not in the statement.")
BOOKS_ONLY_DIFFERS = N_("The statement shows its reference with another amount, on line %(line)s.")
PAUSED = N_(
    "Releases of this project are paused: this statement, the account's latest, does not reconcile with the"
    " books."
)
RESOLVES = N_(
    "They resume when a later statement from the bank reconciles: settle each difference explained above"
    " (assign or return the money in suspense, have a wrong amount corrected), then the bank's next"
    " statement clears it."
)
SUPERSEDED = N_("A later statement, of %(date)s, is the one releases follow; it is: %(status)s.")
RECONCILED = N_("This statement reconciles with the books: nothing in it pauses releases.")
NOT_STATED = N_("not stated")
STATUS = {
    "reconciled": N_("Reconciled"),
    "discrepancy": N_("Discrepancy"),
}


def line_in_words(_: Callable[..., str], line: LineExplained) -> str:
    """What a statement line is in our books, or why it is not, in the reader's language."""
    if line.outcome == statements.MATCHED_DEPOSIT:
        if line.voucher_no:
            return _(MATCHED_VOUCHER, voucher=line.voucher_no)
        return _(MATCHED_DEPOSIT, deposit=line.deposit_id)
    if line.outcome == statements.MATCHED_PAYMENT:
        if line.payment_kind == "release" and line.subject_id:
            return _(MATCHED_RELEASE, id=line.subject_id)
        if line.payment_kind == "refund" and line.subject_id:
            return _(MATCHED_REFUND, id=line.subject_id)
        return _(MATCHED_PAYMENT)
    if line.outcome == statements.MATCHED_OWN:
        return _(MATCHED_OWN, kind=named(_, ENTRY_KINDS, line.own_kind))
    if line.outcome == statements.AMOUNT_DIFFERS:
        return _(
            AMOUNT_DIFFERS,
            difference=amount_text(abs(line.difference)),
            stated=amount_text(line.amount),
            books=amount_text(line.books_amount),
        )
    return _(OUTCOMES.get(line.outcome, statements.NOT_IN_BOOKS))


def releases_in_words(_: Callable[..., str], found: StatementExplained, lang: str) -> list[str]:
    """Whether releases are paused because of the statement, and what resolves it."""
    if found.paused:
        return [_(PAUSED), _(RESOLVES)]
    if found.latest_on is not None:
        status = named(_, STATUS, found.latest_status)
        return [_(SUPERSEDED, date=long_date(found.latest_on, lang), status=status)]
    return [_(RECONCILED)]


def _page(request: Request, statement_id: int) -> dict[str, Any]:
    _ = pages.gettext(request)
    found = statements.explain(pages.ctx(request), statement_id)
    return {
        "s": found,
        "lines": [(line, line_in_words(_, line)) for line in found.lines],
        "books_only_words": _(BOOKS_ONLY),
        "differs_on": lambda line: _(BOOKS_ONLY_DIFFERS, line=line),
        "releases": releases_in_words(_, found, pages.language(request)),
        "not_stated": _(NOT_STATED),
    }


class StatementsController(Controller):
    path = "/statements"
    include_in_schema = False

    @get("/{statement_id:int}", guards=[requires("projects.view")], name="statement")
    async def page(self, request: Request, statement_id: FromPath[int]) -> Template:
        data = await pages.run(_page, request, statement_id)
        return pages.render(request, "bureau/statements/page.html", **data)


CONTROLLERS = [StatementsController]
