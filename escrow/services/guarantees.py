"""Bank guarantees (保函) that stand in for part of a project's required retention (CONTRACT.md §8).

The bureau registers a guarantee the developer's bank issued, and releases it when it is returned. While
it is valid it counts in the release cap (escrow.domain.caps `retention`): at most the rule book's share,
`guarantee.max_share`, of the required retention (hengshui@2026.1, the national rule: at most 30%, so at
least 70% stays in cash) or, as hengshui@2024.1 words it, of the key supervised amount.

Registration is refused (422, naming the rule, nothing kept):
- while the account's balance — the cash in it now, not the money ever deposited — is below the key
  supervised amount, where the rule book requires it (`{book} guarantee.requires_full_amount`);
- when the guarantees registered and valid on any day of the new one's validity (from today on), plus the
  new one, would stand in for more than the rule book's share of the required retention at the project's
  current node (of the key amount for a book whose share is of it) (`{book} guarantee.max_share`). The
  share limits what guarantees replace together, so a second guarantee is judged with the first;
- when `valid_until` is not after `valid_from`, or already past; on a closed account.
The same guarantee number twice on one account: 409.

A guarantee is `active` until released; past its `valid_until` it is shown as `expired` (derived from the
date, not stored: the cap sums only the guarantees valid on the day, so an expired one stops counting on
its own). The bureau releases it (`released`, `released_at`); a single admin action, audited. Releasing a
guarantee is never refused: the cap after it says what is releasable, and a balance that falls below the
cash retention is what the alert `retention_breach` watches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from escrow.domain import caps
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.guarantees import Period, allocate, peak_in_force, status_on
from escrow.domain.ids import valid_id
from escrow.domain.money import ZERO, Money, from_fen, quantize, to_fen, to_wire
from escrow.domain.paging import Page, Paged, page_of
from escrow.domain.principal import Principal
from escrow.services import approvals, ending
from escrow.services.context import Context
from escrow.services.projects import CapView, release_cap
from escrow.services.views import wire
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Guarantee, Project, SupervisedAccount, utcnow

Status = Literal["active", "released", "expired"]


@dataclass(frozen=True)
class RegisterGuarantee:
    project_id: int
    guarantee_no: str
    issuer: str
    amount: Decimal
    valid_from: date
    valid_until: date


@dataclass(frozen=True)
class GuaranteeView:
    guarantee_id: int
    project_id: int
    account_no: str
    guarantee_no: str
    issuer: str
    amount: Money
    valid_from: date
    valid_until: date
    status: Status  # expired: past valid_until (derived from the date)
    counted: Money  # what it stands in for in today's cap (guarantees in force share the counted total)
    released_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class GuaranteeChange(GuaranteeView):
    """A guarantee registered or released, and the project's node release cap after it."""

    cap: CapView


@dataclass(frozen=True)
class GuaranteesOverview:
    """A project's guarantees and what they count for today (the bureau's project page)."""

    project_id: int
    rulebook: str
    items: tuple[GuaranteeView, ...]
    in_force: Money  # the guarantees valid today
    counted: Money  # what the cap counts of them
    limit: Money  # the most they may stand in for now (the rule book's share)
    max_share: Decimal
    share_of: str  # "required_retention" | "supervised_amount"
    balance: Money
    supervised_amount: Money
    requires_full_amount: bool
    account_open: bool

    @property
    def eligible(self) -> bool:
        """Whether the balance allows registering one (where the rule book requires the key amount)."""
        return not self.requires_full_amount or self.balance >= self.supervised_amount


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive timestamps; they were written in UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _counted(rows: list[Guarantee], cap: caps.Cap, today: date) -> dict[int, Decimal]:
    """What each guarantee counts for in `cap`: the counted total shared out oldest first among those in
    force today."""
    figures = caps.retention_of(cap)
    total = figures.guarantee if figures else ZERO
    live = [g for g in rows if g.status == "active" and g.accepted_on <= today <= g.expires_on]
    shares = allocate(total, [from_fen(g.amount_fen) for g in live])
    return {g.id: share for g, share in zip(live, shares, strict=True)}


def _view(g: Guarantee, project_id: int, account: SupervisedAccount, counted: Decimal, today: date):
    return GuaranteeView(
        guarantee_id=g.id,
        project_id=project_id,
        account_no=account.account_no,
        guarantee_no=g.guarantee_no,
        issuer=g.issuer,
        amount=from_fen(g.amount_fen),
        valid_from=g.accepted_on,
        valid_until=g.expires_on,
        status=status_on(g.status, g.expires_on, today),
        counted=quantize(counted),
        released_at=_utc(g.released_at),
        created_at=_utc(g.created_at),
    )


def _change(
    uow: UnitOfWork, ctx: Context, g: Guarantee, project: Project, account: SupervisedAccount
) -> GuaranteeChange:
    cap = release_cap(uow, ctx, project, account)
    today = ctx.today()
    counted = _counted(uow.guarantees.of_account(account.id), cap, today).get(g.id, ZERO)
    view = _view(g, project.id, account, counted, today)
    return GuaranteeChange(**vars(view), cap=CapView.of(cap))


def _project(uow: UnitOfWork, project_id: int) -> tuple[Project, SupervisedAccount]:
    project = uow.projects.get(project_id) if valid_id(project_id) else None
    if project is None:
        raise NotFound(f"no project {project_id}")
    return project, uow.projects.account_for(project.id)


def register(ctx: Context, cmd: RegisterGuarantee, actor: Principal) -> GuaranteeChange:
    """Register a guarantee on the project's account (bureau admin); the cap after it."""
    return ctx.run(_register, cmd, actor)


def _register(uow: UnitOfWork, ctx: Context, cmd: RegisterGuarantee, actor: Principal) -> GuaranteeChange:
    project, account = _project(uow, cmd.project_id)
    account = approvals.lock_account(uow, account.id)
    if account.status == "closed":
        raise InvalidInput(f"account {account.account_no} is closed", rule="account_open")
    ending.refuse_while_ending(uow, account, "a guarantee")
    today = ctx.today()
    errors = []
    if cmd.amount <= 0:
        errors.append(FieldError.coded("amount", "positive"))
    if cmd.valid_until <= cmd.valid_from:
        errors.append(FieldError.coded("valid_until", "not_after_start", start="valid_from"))
    elif cmd.valid_until < today:
        errors.append(FieldError.coded("valid_until", "in_past"))
    if errors:
        raise InvalidInput("the guarantee's amount or validity is not acceptable", errors=errors)
    if uow.guarantees.by_no(account.id, cmd.guarantee_no) is not None:
        raise Conflict(
            f"guarantee {cmd.guarantee_no} is already registered on account {account.account_no}",
            rule="guarantee_no_unique",
        )
    book = ctx.rulebook(project.rulebook_id)
    before = release_cap(uow, ctx, project, account)
    inputs, rule = before.inputs, before.rule
    supervised = inputs.supervised_amount
    if book.guarantee_requires_full_amount and inputs.balance < supervised:
        raise approvals.Refused(
            f"a guarantee may stand in for retention only once the account's balance has reached the key "
            f"supervised amount: the balance is {to_wire(inputs.balance)} of {to_wire(supervised)}",
            rule=f"{book.id} guarantee.requires_full_amount",
            facts={"balance": to_wire(inputs.balance), "supervised_amount": to_wire(supervised)},
        )
    figures = caps.retention(inputs, rule)
    limit = caps.guarantee_limit(supervised, figures.gross, rule)
    existing = [
        Period(g.accepted_on, g.expires_on, from_fen(g.amount_fen))
        for g in uow.guarantees.active_of(account.id)
    ]
    peak = peak_in_force(existing, max(cmd.valid_from, today), cmd.valid_until)
    if peak + cmd.amount > limit:
        of = (
            "required retention"
            if rule.guarantee_share_of == "required_retention"
            else "key supervised amount"
        )
        base = figures.gross if rule.guarantee_share_of == "required_retention" else supervised
        room = max(ZERO, limit - peak)
        raise approvals.Refused(
            f"guarantees may stand in for at most {rule.guarantee_max_share} of the {of} {to_wire(base)}, "
            f"that is {to_wire(limit)}; {to_wire(peak)} is registered for the same days, so at most "
            f"{to_wire(room)} more",
            rule=f"{book.id} guarantee.max_share",
            facts={
                "limit": to_wire(limit),
                "in_force": to_wire(peak),
                "max_share": str(rule.guarantee_max_share),
                "share_of": rule.guarantee_share_of,
                "base": to_wire(base),
            },
            errors=[FieldError.at_most("amount", to_wire(room))],
        )
    g = uow.guarantees.add(
        Guarantee(
            account_id=account.id,
            issuer=cmd.issuer,
            guarantee_no=cmd.guarantee_no,
            amount_fen=to_fen(cmd.amount),
            accepted_on=cmd.valid_from,
            expires_on=cmd.valid_until,
            status="active",
        )
    )
    view = _change(uow, ctx, g, project, account)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="guarantee.registered",
        subject_type="guarantee",
        subject_id=g.id,
        account_id=account.id,
        before={"cap": wire(CapView.of(before))},
        after=wire(view),
        details={"rulebook": book.id, "limit": to_wire(limit), "in_force_before": to_wire(peak)},
    )
    return view


def release(ctx: Context, guarantee_id: int, actor: Principal) -> GuaranteeChange:
    """End a guarantee (returned to its bank): it counts no more; the cap after it."""
    return ctx.run(_release, guarantee_id, actor)


def _release(uow: UnitOfWork, ctx: Context, guarantee_id: int, actor: Principal) -> GuaranteeChange:
    g = uow.guarantees.get(guarantee_id)
    if g is None:
        raise NotFound(f"no guarantee {guarantee_id}")
    account = approvals.lock_account(uow, g.account_id)
    uow.session.refresh(g)
    if g.status != "active":
        raise Conflict(f"guarantee {g.guarantee_no} is already {g.status}")
    project = uow.projects.get(account.project_id)
    before = _change(uow, ctx, g, project, account)
    g.status, g.released_at = "released", utcnow()
    uow.session.flush()
    view = _change(uow, ctx, g, project, account)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="guarantee.released",
        subject_type="guarantee",
        subject_id=g.id,
        account_id=account.id,
        before=wire(before),
        after=wire(view),
    )
    return view


def _visible(actor: Principal, project: Project) -> bool:
    return actor.is_bureau or (actor.kind == "developer" and actor.developer_id == project.developer_id)


def overview(
    ctx: Context, project_id: int, actor: Principal | None = None, cap: caps.Cap | None = None
) -> GuaranteesOverview:
    """The project's guarantees, each with what it counts for today. With an `actor`: only for bureau users
    and the project's developer (to anyone else the project does not exist). A page that computed the
    project's node cap today already hands it over as `cap` (it is not computed again)."""
    with ctx.reading() as uow:
        project, account = _project(uow, project_id)
        if actor is not None and not _visible(actor, project):
            raise NotFound(f"no project {project_id}")
        return overview_in(uow, ctx, project, account, cap)


def overview_in(
    uow: UnitOfWork, ctx: Context, project: Project, account: SupervisedAccount, cap: caps.Cap | None = None
) -> GuaranteesOverview:
    """`overview` inside a unit of work the caller holds, for a project it has read and may show."""
    book = ctx.rulebook(project.rulebook_id)
    if cap is None or cap.inputs is None or cap.rule is None:
        cap = release_cap(uow, ctx, project, account)
    today = ctx.today()
    rows = uow.guarantees.of_account(account.id)
    counted = _counted(rows, cap, today)
    figures = caps.retention(cap.inputs, cap.rule)
    items = tuple(_view(g, project.id, account, counted.get(g.id, ZERO), today) for g in rows)
    return GuaranteesOverview(
        project_id=project.id,
        rulebook=book.id,
        items=items,
        in_force=quantize(cap.inputs.guarantee),
        counted=quantize(figures.guarantee),
        limit=caps.guarantee_limit(cap.inputs.supervised_amount, figures.gross, cap.rule),
        max_share=book.guarantee_max_share,
        share_of=book.guarantee_share_of,
        balance=quantize(cap.inputs.balance),
        supervised_amount=quantize(cap.inputs.supervised_amount),
        requires_full_amount=book.guarantee_requires_full_amount,
        account_open=account.status != "closed",
    )


def page_of_listing(ctx: Context, project_id: int, actor: Principal, page: Page) -> Paged[GuaranteeView]:
    """One page of `listing`, in the order registered. What each guarantee counts for depends on the others
    valid on the same days, so the page is cut from the project's whole overview (a project has a few)."""
    items = [
        g for g in listing(ctx, project_id, actor) if page.after is None or g.guarantee_id > page.after[0]
    ]
    return page_of(items, page, lambda g: (g.guarantee_id,))


def listing(ctx: Context, project_id: int, actor: Principal) -> tuple[GuaranteeView, ...]:
    """The project's guarantees in the order registered (bureau users and the project's developer)."""
    return overview(ctx, project_id, actor).items
