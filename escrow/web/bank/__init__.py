"""The read-only bank portal (`/bank…`) for bank staff: their bank's accounts, waiting instructions,
statements with their reconciliation, and court freezes."""

from escrow.web.bank.portal import BankPortalController

CONTROLLERS = [BankPortalController]
