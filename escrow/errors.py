"""Errors any layer may raise that are not the domain's refusals (those are `escrow.domain.errors`)."""

from __future__ import annotations


class CliError(Exception):
    """An operator's command refused: the command line prints it as one line and exits with status 1."""
