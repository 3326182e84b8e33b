"""Codes the PDFs and the pages both name — statuses, payment kinds, payee roles, approval decisions, ledger
entries — as message ids of the one catalog, and the rule book's own names of its nodes and approval steps
(the cap's terms are said by escrow.catalog.caps). The PDFs (escrow.reports) print them in Chinese through
`gettext_for("zh")`; an id the web also says is the web's id, so both say the same words. An unknown code
stays a code.
"""

from __future__ import annotations

from escrow.catalog import N_, Gettext
from escrow.catalog.outcomes import NOTICE_STATUS
from escrow.domain.ledger import EntryKind
from escrow.domain.rulebook import ApprovalStep, RuleBook

NOTICE_KINDS = {
    "earnest": N_("Earnest money"),
    "down_payment": N_("Down payment"),
    "mortgage": N_("Mortgage loan"),
    "provident_fund_loan": N_("Provident fund loan"),
    "combination_loan": N_("Combination loan"),
    "full": N_("Full payment"),
    "other": N_("Other"),
}
CHANNELS = {
    "counter": N_("Paid at the counter"),
    "transfer": N_("Transfer"),
    "pos": N_("POS"),
    "mortgage": N_("Mortgage"),
    "provident_fund": N_("Provident fund"),
    "statement": N_("Booked from the bank statement"),
}
VOUCHER_STATUS = {
    "issued": N_("Paid in"),
    "confirmed": N_("Matched with the statement"),
    "receipted": N_("Receipt issued"),
    "reversed": N_("Reversed"),
    "refunded": N_("Refunded"),
}
RELEASE_STATUS = {
    "submitted": N_("Being approved"),
    "approved": N_("Approved, awaiting the bank's payment"),
    "rejected": N_("Not approved"),
    "executed": N_("Paid out to the payees"),
}
# A release's payment instruction, by whether the bank has executed it.
INSTRUCTION_STATUS = {True: N_("Paid out to the payees"), False: N_("Awaiting the bank's payment")}
ACCOUNT_STATUS = {"active": N_("Active"), "frozen": N_("Frozen"), "closed": N_("Closed")}
RECONCILIATION = {
    "reconciled": N_("Reconciled with the statement"),
    "discrepancy": N_("Differs from the statement"),
    "pending": N_("Awaiting the statement"),
}
FINISH = {"shell": N_("Shell housing"), "finished": N_("Finished interior")}
PAYEE_ROLES = {
    "construction": N_("Construction contractor"),
    "equipment": N_("Equipment vendor"),
    "materials": N_("Materials vendor"),
    "buyer": N_("Home buyer"),
    "lender": N_("Lending bank"),
    "developer": N_("Developer's own settlement account"),
    "payee": N_("Payee of the closing payout"),
    "new_account": N_("The project's new supervised account"),
}
# What a release pays out: key supervised funds at a confirmed node, or money received beyond the key
# supervised amount (非重点监管资金, national opinion 2022), without a node.
RELEASE_KINDS = {"node": N_("Node release"), "non_key": N_("Non-key fund release")}
# A person's role, as the pages and the release form name an approver.
ROLE_NAMES = {
    "admin": N_("Administrator"),
    "reviewer": N_("Reviewer"),
    "approver": N_("Approver"),
    "director": N_("Director"),
    "inspector": N_("Node inspector"),
    "auditor": N_("Auditor"),
    "developer": N_("Developer staff"),
    "bank": N_("Bank staff"),
}
DECISIONS = {"approve": N_("Approve"), "reject": N_("Do not approve")}
# Evidence and document kinds named in the rule books, in words; a kind a later rule book adds shows as its
# code until it gets a name here.
EVIDENCE_KINDS = {
    "construction_progress_report": N_("Construction progress report"),
    "supervision_engineer_confirmation": N_("Supervising engineer's confirmation"),
    "topping_out_acceptance": N_("Topping-out acceptance record"),
    "completion_acceptance_report": N_("Completion acceptance report"),
    "completion_filing_certificate": N_("Completion acceptance filing certificate"),
    "first_registration_certificate": N_("First real-estate registration certificate"),
    "wage_arrears_statement": N_("Statement that no wages are owed to workers"),
}
DOCUMENTS = {
    "wage_arrears_statement": N_("Statement that no migrant workers' wages are owed"),
    "fund_use_statement": N_("Statement of the use of the funds"),
}
ENTRY_KINDS = {
    EntryKind.DEPOSIT: N_("Buyer's payment"),
    EntryKind.DEPOSIT_SUSPENSE: N_("Payment of an unknown payer"),
    EntryKind.REVERSAL: N_("Reversal"),
    EntryKind.SUSPENSE_ASSIGNED: N_("Unknown payment claimed"),
    EntryKind.SUSPENSE_RETURNED: N_("Unknown payment returned"),
    EntryKind.RELEASE: N_("Release at a node"),
    EntryKind.REFUND: N_("Refund on cancellation"),
    EntryKind.INTEREST: N_("Interest"),
    EntryKind.COURT_DEDUCTION: N_("Court deduction"),
    EntryKind.FEE: N_("Bank fee"),
    EntryKind.CLOSURE: N_("Closing payout (supervision ended)"),
    EntryKind.TRANSFER_OUT: N_("Moved to the new supervising bank"),
    EntryKind.TRANSFER_IN: N_("Moved from the previous supervising bank"),
}
__all__ = ["NOTICE_STATUS"]  # a notice's status, as a check's sentence also names it


def named(_: Gettext, names: dict[str, str], key: str | None) -> str:
    """A code in words from one of the tables of message ids, or the code itself when it has no name."""
    return _(names[key]) if key in names else (key or "")


def node_name(book: RuleBook, code: str, lang: str) -> str:
    """A node of the rule book by its name in `lang`; a code the book does not know stays a code."""
    node = book.node(code)
    if node is None:
        return code
    return node.name_en if lang == "en" else node.name_zh


def step_label(step: ApprovalStep, lang: str) -> str:
    """An approval step of the rule book by its label in `lang`."""
    return step.label_en if lang == "en" else step.label_zh
