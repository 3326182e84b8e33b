"""`escrow user disable|enable USERNAME` and `escrow api-key revoke KEY`: the admin pages' use cases
(escrow.services.admin) from the command line, audited as the operator. An unknown user or key, or a key
already revoked: one line on stderr and exit 1 (escrow.cli.main)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from escrow.config import Settings
from escrow.rulebooks import RuleBooks
from escrow.services.context import Context
from escrow.services.database import open_database


def _ctx(settings: Settings) -> Context:
    """Users and keys need no rule book."""
    return Context(
        settings=settings,
        rulebooks=RuleBooks([], settings.rules_dir),
        engine=open_database(settings.database_url),
    )


def _operator() -> Any:
    from escrow.cli import OPERATOR

    return OPERATOR


def cmd_user_disable(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.services import admin

    name = admin.set_active_by_name(_ctx(settings), args.username, False, _operator())
    print(f"user {name} is disabled: their sessions have ended and their API keys stop working")
    return 0


def cmd_user_enable(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.services import admin

    name = admin.set_active_by_name(_ctx(settings), args.username, True, _operator())
    print(f"user {name} is enabled")
    return 0


def cmd_api_key_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from escrow.services import admin

    prefix = admin.revoke_key_named(_ctx(settings), args.key, _operator(), datetime.now(UTC))
    print(f"API key {prefix} is revoked")
    return 0


def register(user: Any, key: Any) -> None:
    """Add the commands to the `user` and `api-key` sub-command groups of escrow.cli."""
    s = user.add_parser("disable", help="disable a user: their sessions end, their API keys stop working")
    s.add_argument("username", metavar="USERNAME")
    s.set_defaults(func=cmd_user_disable)
    s = user.add_parser("enable", help="enable a disabled user again")
    s.add_argument("username", metavar="USERNAME")
    s.set_defaults(func=cmd_user_enable)
    s = key.add_parser("revoke", help="revoke an API key: it stops working")
    s.add_argument(
        "key", metavar="KEY", help="the key's number or prefix as /admin/keys lists them, or the whole key"
    )
    s.set_defaults(func=cmd_api_key_revoke)
