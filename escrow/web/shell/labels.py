"""Codes in words: the marker for message ids translated later, and the lookups every room uses to name a
stored code (a role, a status, a rule book's node) in the page's language."""

from __future__ import annotations

from escrow.catalog import N_ as N_  # the marker of message ids, for every room that imports it from here
from escrow.catalog.words import ROLE_NAMES as ROLE_NAMES  # shared with the PDFs (the approvers' roles)
from escrow.catalog.words import named as named  # shared with the PDFs
from escrow.catalog.words import node_name as node_name
