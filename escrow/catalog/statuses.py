"""The words of an application's status, one mapping per kind, said alike by the developer's portal and the
bureau's pages (a release paid out by the bank is 银行已付款 on both, never two near-synonyms).

Every page that names a release's or a refund's status takes its words from here; the tone of its badge too.
"""

from __future__ import annotations

from escrow.catalog import N_

RELEASE_STATUS = {
    "submitted": N_("Under review"),
    "approved": N_("Approved, awaiting payment"),
    "rejected": N_("Rejected"),
    "executed": N_("Paid out by the bank"),
}
REFUND_STATUS = {
    "submitted": N_("Under review"),
    "approved": N_("Approved, awaiting payment"),
    "rejected": N_("Rejected"),
    "executed": N_("Paid back"),
}
STATUS_BADGES = {"submitted": "warn", "approved": "good", "rejected": "bad", "executed": "good"}
