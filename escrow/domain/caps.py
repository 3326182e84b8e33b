"""Release caps: how much may leave a supervised account now, and why (DESIGN.md §4).

cash retention  = key supervised amount K × min(1, share of the highest confirmed node + finish surcharge)
                  − the guarantee counted: registered, in force, at most the rule book's share of the
                  required retention (national: 30%, so ≥ 70% stays in cash) or, as hengshui@2024.1 words
                  it, of K
node releasable = balance − suspense − cash retention − frozen held − approved but unexecuted, floored at 0
                  where frozen held = 0 when the rule book exempts node releases from freezes (法〔2022〕12号
                  art. 2), else what is frozen beyond the retention (frozen money inside the key amount is
                  retained already; a `full` freeze freezes the whole balance)
non-key         = min(money received − refunded − K − non-key releases taken,
                      balance − suspense − max(cash retention, frozen) − approved but unexecuted),
                  floored at 0
free money      = balance − suspense − frozen (0 where refunds are exempt) − approved but unexecuted

Each term carries a code and its parameters, so the edges say it in their own words without re-computing it
or reading the English `detail`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal
from typing import Any

from escrow.domain.buildings import BuildingProgress, Progress, split_by_area
from escrow.domain.money import CENT, ZERO, quantize, to_wire
from escrow.domain.rulebook import Node, RuleBook

ONE = Decimal("1")

# The kinds of payment instruction whose amount is held back as `pending_out` until the bank executes them:
# approved releases and refunds, and a closure or transfer (the whole balance: nothing else may leave while
# one waits). A `return` (unassigned money sent back to its payer) is left out: that money is still in
# suspense, which the cap already holds back, and counting it again would hold it twice.
PENDING_OUTFLOW_KINDS = ("release", "refund", "closure", "transfer")


@dataclass(frozen=True)
class BuildingRule:
    """One building's part of the retention (supervision by building): its pre-sale area, which sets its
    share of the key amount, and its own highest confirmed node."""

    code: str
    area: Decimal
    node_code: str | None
    node_share: Decimal
    surcharge: Decimal


@dataclass(frozen=True)
class NextNode:
    """A node not confirmed yet that would come next (for one building, or the project), with what it would
    change: its retention share and surcharge, and the evidence its confirmation needs."""

    building: str | None
    node_code: str
    node_share: Decimal
    surcharge: Decimal
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class RetentionRule:
    """The parts of a rule book the caps need, already resolved for one project. With `buildings`, the
    retention is each building's (supervision by building) and `node_code` is the node every building has
    reached."""

    rulebook_id: str
    node_code: str | None  # highest confirmed node, None before the first
    node_share: Decimal  # its retention share (1 before the first node)
    surcharge: Decimal  # finish surcharge on top of it
    guarantee_max_share: Decimal
    guarantee_requires_full_amount: bool  # checked when a guarantee is registered (balance ≥ K)
    guarantee_share_of: str = "supervised_amount"  # or "required_retention" (escrow.domain.rulebook)
    freeze_exempt: tuple[str, ...] = ()  # outflows a freeze does not stop: "node_release", "refund"
    non_key: bool = False  # the rule book allows non-key releases
    buildings: tuple[BuildingRule, ...] = ()
    next_nodes: tuple[NextNode, ...] = ()  # what confirming the next node would unlock, per building


@dataclass(frozen=True)
class CapInputs:
    balance: Decimal
    suspense: Decimal
    supervised_amount: Decimal
    frozen: Decimal  # amounts held by `amount` freezes in force
    pending_out: Decimal  # approved releases and refunds not yet executed by the bank
    guarantee: Decimal  # registered guarantees in force
    deposits_total: Decimal  # money received: deposits net of reversals and of unassigned money returned
    full_freeze: bool = False  # a `full` freeze in force holds the whole balance
    refunded: Decimal = ZERO  # paid back to buyers: no longer money received for the project
    non_key_taken: Decimal = ZERO  # non-key releases approved or paid (pending ones are in pending_out too)
    guarantee_nos: tuple[str, ...] = ()  # the numbers of the guarantees in force (named by the words)

    @property
    def frozen_held(self) -> Decimal:
        """What the freezes hold: the whole balance under a `full` freeze, else the frozen amounts."""
        return max(self.balance, self.frozen) if self.full_freeze else self.frozen


# What each term of the cap is, as a code the edges name in their own words (the `detail` stays the
# domain's English sentence, kept with every stored cap for the record and for old releases).
TERM_CODES = {
    "balance": "cash_ledger",
    "suspense": "unassigned_money",
    "frozen": "court_freezes",
    "pending_out": "approved_not_paid",
    "received": "money_received",
    "supervised_amount": "key_supervised_amount",
    "non_key_taken": "non_key_taken",
}
# How a freeze enters a cap (the term `frozen`): held in full (hengshui@2024.1 for refunds), only beyond the
# retention (the retained money is held already), or not at all (an outflow the rule book exempts).
FROZEN_IN_FULL = "court_freezes"
FROZEN_BEYOND_RETENTION = "court_freezes_beyond_retention"
FROZEN_EXEMPT = "court_freezes_exempt"
# The non-key cap's account bound holds back the larger of the cash retention and the frozen money.
RETENTION_OR_FROZEN = "retention_or_frozen"
RETENTION_AT_NODE = "retention_at_node"
RETENTION_BEFORE_FIRST_NODE = "retention_before_first_node"
RETENTION_BY_BUILDING = "retention_by_building"


def rule_for(book: RuleBook, progress: Progress, finish: str) -> RetentionRule:
    """`rule_of` for a project's progress (its buildings' nodes where it has buildings)."""
    return rule_of(book, progress.confirmed, finish, progress.buildings)


class RuleMemo:
    """`rule_for`, remembered per (rule book, progress, finish): a city-wide view asks it for thousands of
    projects that share a few dozen combinations."""

    def __init__(self) -> None:
        self._rules: dict[tuple[str, Progress, str], RetentionRule] = {}

    def __call__(self, book: RuleBook, progress: Progress, finish: str) -> RetentionRule:
        key = (book.id, progress, finish)
        rule = self._rules.get(key)
        if rule is None:
            rule = self._rules[key] = rule_for(book, progress, finish)
        return rule


def rule_of(
    book: RuleBook, confirmed: Collection[str], finish: str, buildings: Sequence[BuildingProgress] = ()
) -> RetentionRule:
    """What `book` says about retention for a project with these confirmed nodes and this finish; with
    `buildings` and a book that supervises by building, for each building on its own."""
    per_building = bool(buildings) and book.by_building
    if per_building:
        confirmed = frozenset.intersection(*(b.confirmed for b in buildings))
    node = book.highest_node(frozenset(confirmed))
    parts: tuple[BuildingRule, ...] = ()
    upcoming: tuple[NextNode, ...] = ()
    if per_building:
        parts = tuple(_building_rule(book, b, finish) for b in buildings)
        upcoming = tuple(
            n for b in buildings if (n := _next_node(book, b.confirmed, finish, b.code)) is not None
        )
    else:
        following = _next_node(book, frozenset(confirmed), finish, None)
        upcoming = (following,) if following else ()
    return RetentionRule(
        rulebook_id=book.id,
        node_code=node.code if node else None,
        node_share=node.retention if node else ONE,
        surcharge=book.surcharge_for(node, finish),
        guarantee_max_share=book.guarantee_max_share,
        guarantee_requires_full_amount=book.guarantee_requires_full_amount,
        guarantee_share_of=book.guarantee_share_of,
        freeze_exempt=book.freeze_exempt,
        non_key=book.non_key_release is not None,
        buildings=parts,
        next_nodes=upcoming,
    )


def _building_rule(book: RuleBook, building: BuildingProgress, finish: str) -> BuildingRule:
    node = book.highest_node(building.confirmed)
    return BuildingRule(
        code=building.code,
        area=building.area,
        node_code=node.code if node else None,
        node_share=node.retention if node else ONE,
        surcharge=book.surcharge_for(node, finish),
    )


def _next_node(
    book: RuleBook, confirmed: frozenset[str], finish: str, building: str | None
) -> NextNode | None:
    """The first node not confirmed yet (nodes are confirmed in order), None once all are."""
    node: Node | None = next((n for n in book.nodes if n.code not in confirmed), None)
    if node is None:
        return None
    return NextNode(building, node.code, node.retention, book.surcharge_for(node, finish), node.evidence)


def retention_share(node_share: Decimal, surcharge: Decimal) -> Decimal:
    """The share of the key supervised amount retained: the node's share plus the finish surcharge, at most
    all of it."""
    return min(ONE, node_share + surcharge)


@dataclass(frozen=True)
class Retention:
    """The figures of the required retention: what the pages say in words instead of re-computing them.

    gross = key supervised amount × retention_share(node share, surcharge); retention = gross − guarantee
    counted (never below 0). `guarantee_waiting` is an accepted guarantee not counted yet (deposits have not
    reached the key supervised amount)."""

    supervised_amount: Decimal
    node_code: str | None
    node_share: Decimal
    surcharge: Decimal
    share: Decimal
    gross: Decimal
    guarantee: Decimal  # counted against the gross
    guarantee_waiting: Decimal
    guarantee_max_share: Decimal
    guarantee_share_of: str = "supervised_amount"
    guarantee_nos: tuple[str, ...] = ()  # the guarantees in force, when one is counted
    buildings: tuple[BuildingRetention, ...] = ()  # supervision by building: gross is the sum of theirs

    @property
    def code(self) -> str:
        if self.buildings:
            return RETENTION_BY_BUILDING
        return RETENTION_AT_NODE if self.node_code else RETENTION_BEFORE_FIRST_NODE

    def params(self) -> dict[str, str | None]:
        """The figures as wire strings (money with two decimals, shares as written in the rule book); the
        guarantees counted by their numbers, one a line, when there are any."""
        numbers = {"guarantee_nos": "\n".join(self.guarantee_nos)} if self.guarantee_nos else {}
        # a stored term's parameters are flat strings: building i's figures are b<i>_<name>
        parts = {
            f"b{i}_{name}": value for i, b in enumerate(self.buildings) for name, value in b.params().items()
        }
        if self.buildings:
            parts["buildings"] = str(len(self.buildings))
        return {
            **parts,
            "supervised_amount": to_wire(self.supervised_amount),
            "node": self.node_code,
            "node_share": str(self.node_share),
            "surcharge": str(self.surcharge),
            "share": str(self.share),
            "gross": to_wire(self.gross),
            "guarantee": to_wire(self.guarantee),
            "guarantee_waiting": to_wire(self.guarantee_waiting),
            "guarantee_max_share": str(self.guarantee_max_share),
            "guarantee_share_of": self.guarantee_share_of,
            **numbers,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Retention:
        return cls(
            supervised_amount=Decimal(params["supervised_amount"]),
            node_code=params.get("node"),
            node_share=Decimal(params["node_share"]),
            surcharge=Decimal(params["surcharge"]),
            share=Decimal(params["share"]),
            gross=Decimal(params["gross"]),
            guarantee=Decimal(params["guarantee"]),
            guarantee_waiting=Decimal(params["guarantee_waiting"]),
            guarantee_max_share=Decimal(params["guarantee_max_share"]),
            guarantee_share_of=params.get("guarantee_share_of") or "supervised_amount",
            guarantee_nos=tuple(filter(None, (params.get("guarantee_nos") or "").split("\n"))),
            buildings=tuple(
                BuildingRetention.from_params(
                    {k.split("_", 1)[1]: v for k, v in params.items() if k.startswith(f"b{i}_")}
                )
                for i in range(int(params.get("buildings") or 0))
            ),
        )


@dataclass(frozen=True)
class BuildingRetention:
    """One building's part of the required retention: its part of the key amount × (its node's share + its
    surcharge)."""

    code: str
    supervised_amount: Decimal
    node_code: str | None
    node_share: Decimal
    surcharge: Decimal
    share: Decimal
    gross: Decimal

    def params(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "supervised_amount": to_wire(self.supervised_amount),
            "node": self.node_code,
            "node_share": str(self.node_share),
            "surcharge": str(self.surcharge),
            "share": str(self.share),
            "gross": to_wire(self.gross),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> BuildingRetention:
        return cls(
            code=params["code"],
            supervised_amount=Decimal(params["supervised_amount"]),
            node_code=params.get("node"),
            node_share=Decimal(params["node_share"]),
            surcharge=Decimal(params["surcharge"]),
            share=Decimal(params["share"]),
            gross=Decimal(params["gross"]),
        )


@dataclass(frozen=True)
class Term:
    term: str
    value: Decimal
    rule: str
    detail: str  # the domain's English sentence; the edges say the term again from `code` and `params`
    code: str = ""  # "" only for a term stored before terms carried codes
    params: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def retention(self) -> Retention | None:
        """The retention figures of a required_retention term (None for other terms and old stored ones)."""
        if self.code in (RETENTION_AT_NODE, RETENTION_BEFORE_FIRST_NODE, RETENTION_BY_BUILDING):
            return Retention.from_params(self.params)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "value": to_wire(self.value),
            "rule": self.rule,
            "detail": self.detail,
            "code": self.code,
            "params": dict(self.params),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Term:
        """A term as stored with a release, a step or a refusal; one stored before terms carried codes comes
        back with code "" and its stored text only."""
        return cls(
            term=data.get("term", ""),
            value=Decimal(data.get("value", "0")),
            rule=data.get("rule", ""),
            detail=data.get("detail", ""),
            code=data.get("code", ""),
            params=dict(data.get("params") or {}),
        )


def _simple(term: str, value: Decimal, rule: str, detail: str) -> Term:
    return Term(term, value, rule, detail, TERM_CODES[term])


@dataclass(frozen=True)
class Unlock:
    """What confirming the next node (of one building, or of the project) would unlock: the retention it
    would free and the node cap then, all else equal, and the evidence its confirmation needs."""

    building: str | None
    node_code: str
    retention_drop: Decimal
    releasable_after: Decimal
    evidence: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "building": self.building,
            "node": self.node_code,
            "retention_drop": to_wire(self.retention_drop),
            "releasable_after": to_wire(self.releasable_after),
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Cap:
    releasable: Decimal
    required_retention: Decimal
    rulebook_id: str
    terms: tuple[Term, ...] = field(default_factory=tuple)
    kind: str = "node"  # or "non_key"
    # A cap computed now keeps what it was computed from (a stored one has neither): the refund and
    # execution checks derive their figures from them.
    inputs: CapInputs | None = field(default=None, compare=False, repr=False)
    rule: RetentionRule | None = field(default=None, compare=False, repr=False)
    # A non-key cap is the smaller of two bounds: (name, value before flooring) of each.
    parts: tuple[tuple[str, Decimal], ...] = ()
    unlocks: tuple[Unlock, ...] = ()  # a node cap: what the next node (per building) would unlock

    @property
    def text(self) -> str:
        floored = " (floored at 0)" if self.releasable == 0 else ""
        if self.kind == "non_key":
            v = {t.term: to_wire(t.value) for t in self.terms}
            bounds = dict(self.parts)
            return (
                f"non-key releasable {to_wire(self.releasable)} = min(received {v['received']} − key amount "
                f"{v['supervised_amount']} − non-key taken {v['non_key_taken']} = "
                f"{to_wire(bounds['beyond_key_amount'])}, balance {v['balance']} − suspense {v['suspense']}"
                f" − held {v['held']} − pending_out {v['pending_out']} = {to_wire(bounds['account_room'])})"
                f"{floored}, under {self.rulebook_id}"
            )
        parts = " ".join(
            f"{'−' if i else ''} {t.term} {to_wire(t.value)}".strip() for i, t in enumerate(self.terms)
        )
        return f"releasable {to_wire(self.releasable)} = {parts}{floored}, under {self.rulebook_id}"

    def to_json(self) -> dict:
        data = {
            "releasable": to_wire(self.releasable),
            "required_retention": to_wire(self.required_retention),
            "rulebook": self.rulebook_id,
            "terms": [t.to_json() for t in self.terms],
            "text": self.text,
        }
        if self.kind != "node":
            data["kind"] = self.kind
            data["bounds"] = {name: to_wire(value) for name, value in self.parts}
        else:
            data["next"] = [u.to_json() for u in self.unlocks]
        return data


def guarantee_limit(supervised_amount: Decimal, gross: Decimal, rule: RetentionRule) -> Decimal:
    """The most guarantees may stand in for together: the rule book's share of the required retention
    `gross` (national rule: 30%, so ≥ 70% stays in cash) or, as hengshui@2024.1 words it, of the key amount.
    Rounded down to the fen, so that the cash kept is never below its share of the retention."""
    base = gross if rule.guarantee_share_of == "required_retention" else supervised_amount
    return (base * rule.guarantee_max_share).quantize(CENT, rounding=ROUND_DOWN)


def retention(inputs: CapInputs, rule: RetentionRule) -> Retention:
    """The required retention's figures (the formula lives here and nowhere else). By building: each
    building's part of the key amount (split by pre-sale area) × its own share, summed."""
    parts = building_retention(inputs.supervised_amount, rule)
    share = retention_share(rule.node_share, rule.surcharge)
    gross = sum((p.gross for p in parts), ZERO) if parts else quantize(inputs.supervised_amount * share)
    limit = guarantee_limit(inputs.supervised_amount, gross, rule)
    counted = min(inputs.guarantee, limit, gross)
    return Retention(
        supervised_amount=inputs.supervised_amount,
        node_code=rule.node_code,
        node_share=rule.node_share,
        surcharge=rule.surcharge,
        share=share,
        gross=gross,
        guarantee=counted,
        guarantee_waiting=ZERO,
        guarantee_max_share=rule.guarantee_max_share,
        guarantee_share_of=rule.guarantee_share_of,
        guarantee_nos=inputs.guarantee_nos if counted else (),
        buildings=parts,
    )


def building_retention(supervised: Decimal, rule: RetentionRule) -> tuple[BuildingRetention, ...]:
    """Each building's part of the key amount and of the gross retention (none without buildings)."""
    amounts = split_by_area(supervised, [b.area for b in rule.buildings])
    return tuple(
        BuildingRetention(
            code=b.code,
            supervised_amount=amount,
            node_code=b.node_code,
            node_share=b.node_share,
            surcharge=b.surcharge,
            share=(share := retention_share(b.node_share, b.surcharge)),
            gross=quantize(amount * share),
        )
        for b, amount in zip(rule.buildings, amounts, strict=True)
    )


def required_retention(inputs: CapInputs, rule: RetentionRule) -> tuple[Decimal, Term]:
    """The cash retention (gross retention less the guarantee counted) and its term."""
    figures = retention(inputs, rule)
    amount = figures.gross - figures.guarantee
    where = f"node {rule.node_code}" if rule.node_code else "no node confirmed yet"
    detail = (
        f"key supervised amount {to_wire(inputs.supervised_amount)} × (share {rule.node_share}"
        f" + surcharge {rule.surcharge}) at {where}"
    )
    if figures.buildings:
        detail = "by building, " + "; ".join(
            f"{b.code}: {to_wire(b.supervised_amount)} × (share {b.node_share} + surcharge {b.surcharge}) at "
            + (f"node {b.node_code}" if b.node_code else "no node confirmed yet")
            + f" = {to_wire(b.gross)}"
            for b in figures.buildings
        )
    if figures.guarantee:
        of = "the required retention" if rule.guarantee_share_of == "required_retention" else "the key amount"
        named = f"; guarantees {', '.join(figures.guarantee_nos)}" if figures.guarantee_nos else ""
        counted = to_wire(figures.guarantee)
        detail += f", less guarantee {counted} (at most {rule.guarantee_max_share} of {of}{named})"
    rule_ref = (
        f"{rule.rulebook_id} buildings"
        if figures.buildings
        else f"{rule.rulebook_id} nodes.{rule.node_code}.retention"
        if rule.node_code
        else f"{rule.rulebook_id} nodes"
    )
    term = Term("required_retention", amount, rule_ref, detail, figures.code, figures.params())
    return amount, term


def frozen_held_back(inputs: CapInputs, rule: RetentionRule, outflow: str, retained: Decimal) -> Decimal:
    """What the freezes hold back from `outflow` ("node_release" or "refund"): nothing where the rule book
    exempts it (法〔2022〕12号 art. 2); else, for a node release, only what is frozen beyond the retention
    (that money is held already); for a refund, all of it."""
    if outflow in rule.freeze_exempt:
        return ZERO
    if outflow == "node_release":
        return max(ZERO, inputs.frozen_held - retained)
    return inputs.frozen_held


def _frozen_term(inputs: CapInputs, rule: RetentionRule, outflow: str, retained: Decimal) -> Term:
    """The term `frozen` of a cap for `outflow`: `frozen_held_back`, with its words."""
    held = inputs.frozen_held
    value = frozen_held_back(inputs, rule, outflow, retained)
    params = {"frozen": to_wire(held), "full": "true" if inputs.full_freeze else "false"}
    if outflow in rule.freeze_exempt:
        detail = f"frozen {to_wire(held)} does not hold back this payment (法〔2022〕12号 art. 2)"
        return Term("frozen", value, f"{rule.rulebook_id} freeze.exempt", detail, FROZEN_EXEMPT, params)
    if outflow == "node_release":
        detail = f"frozen {to_wire(held)} beyond the retention {to_wire(retained)} held already"
        params["retention"] = to_wire(retained)
        return Term("frozen", value, "freezes", detail, FROZEN_BEYOND_RETENTION, params)
    return Term("frozen", value, "freezes", "amounts held by court orders in force", FROZEN_IN_FULL, params)


def _books_terms(inputs: CapInputs) -> tuple[Term, Term]:
    return (
        _simple("balance", inputs.balance, "books", "cash ledger of the supervised account"),
        _simple("suspense", inputs.suspense, "books", "money received but not yet assigned to a contract"),
    )


def _pending_term(inputs: CapInputs) -> Term:
    return _simple(
        "pending_out", inputs.pending_out, "instructions", "approved releases and refunds not yet paid"
    )


def _node_room(inputs: CapInputs, retained: Decimal, frozen: Decimal) -> Decimal:
    """A node release's room before flooring: balance − suspense − cash retention − frozen held back −
    pending_out."""
    return inputs.balance - inputs.suspense - retained - frozen - inputs.pending_out


def node_release_figures(inputs: CapInputs, rule: RetentionRule) -> tuple[Decimal, Decimal]:
    """(cash retention, releasable) of a node release: `release_cap`'s two figures without its words and
    unlocks, for the views that compute every account at once (the what-if, the retention alert)."""
    figures = retention(inputs, rule)
    retained = figures.gross - figures.guarantee
    frozen = frozen_held_back(inputs, rule, "node_release", retained)
    return retained, max(ZERO, _node_room(inputs, retained, frozen))


def release_cap(inputs: CapInputs, rule: RetentionRule) -> Cap:
    """What a node release may take now: balance − suspense − cash retention − frozen held − pending_out."""
    amount, retention_term = required_retention(inputs, rule)
    frozen = _frozen_term(inputs, rule, "node_release", amount)
    terms = (*_books_terms(inputs), retention_term, frozen, _pending_term(inputs))
    return Cap(
        max(ZERO, _node_room(inputs, amount, frozen.value)),
        amount,
        rule.rulebook_id,
        terms,
        inputs=inputs,
        rule=rule,
        unlocks=unlocks(inputs, rule),
    )


def unlocks(inputs: CapInputs, rule: RetentionRule) -> tuple[Unlock, ...]:
    """For each next node (per building): the retention its confirmation would free and the node cap then."""
    if not rule.next_nodes:
        return ()
    gross = retention(inputs, rule).gross
    found = []
    for following in rule.next_nodes:
        after = _advanced(rule, following)
        found.append(
            Unlock(
                building=following.building,
                node_code=following.node_code,
                retention_drop=gross - retention(inputs, after).gross,
                releasable_after=node_release_figures(inputs, after)[1],
                evidence=following.evidence,
            )
        )
    return tuple(found)


def _advanced(rule: RetentionRule, following: NextNode) -> RetentionRule:
    """`rule` as it would be with `following` confirmed (and no further look ahead)."""
    if following.building is None:
        return replace(
            rule,
            node_code=following.node_code,
            node_share=following.node_share,
            surcharge=following.surcharge,
            next_nodes=(),
        )
    buildings = tuple(
        replace(
            b, node_code=following.node_code, node_share=following.node_share, surcharge=following.surcharge
        )
        if b.code == following.building
        else b
        for b in rule.buildings
    )
    return replace(rule, buildings=buildings, next_nodes=())


def non_key_cap(inputs: CapInputs, rule: RetentionRule) -> Cap:
    """What a non-key release (非重点监管资金, national opinion 2022) may take now: the money received beyond
    the key supervised amount not yet withdrawn, bounded by what the account can pay after suspense, the
    larger of the cash retention and the frozen money, and approved instructions."""
    amount, _ = required_retention(inputs, rule)
    received = inputs.deposits_total - inputs.refunded
    beyond = received - inputs.supervised_amount - inputs.non_key_taken
    held = max(amount, inputs.frozen_held)
    room = inputs.balance - inputs.suspense - held - inputs.pending_out
    terms = (
        Term(
            "received",
            received,
            "books",
            f"money received {to_wire(inputs.deposits_total)} less refunded {to_wire(inputs.refunded)}",
            TERM_CODES["received"],
            {"received": to_wire(inputs.deposits_total), "refunded": to_wire(inputs.refunded)},
        ),
        _simple("supervised_amount", inputs.supervised_amount, "projects", "key supervised amount"),
        _simple("non_key_taken", inputs.non_key_taken, "releases", "non-key releases approved or paid"),
        *_books_terms(inputs),
        Term(
            "held",
            held,
            f"{rule.rulebook_id} freeze",
            f"the larger of the cash retention {to_wire(amount)} and the frozen"
            f" {to_wire(inputs.frozen_held)}",
            RETENTION_OR_FROZEN,
            {
                "retention": to_wire(amount),
                "frozen": to_wire(inputs.frozen_held),
                "full": "true" if inputs.full_freeze else "false",
            },
        ),
        _pending_term(inputs),
    )
    releasable = max(ZERO, min(beyond, room)) if rule.non_key else ZERO
    return Cap(
        releasable,
        amount,
        rule.rulebook_id,
        terms,
        kind="non_key",
        inputs=inputs,
        rule=rule,
        parts=(("beyond_key_amount", beyond), ("account_room", room)),
    )


def cap_for(kind: str, inputs: CapInputs, rule: RetentionRule) -> Cap:
    """The cap of a release of `kind` ("node" or "non_key")."""
    return non_key_cap(inputs, rule) if kind == "non_key" else release_cap(inputs, rule)


def retention_of(cap: Cap) -> Retention | None:
    """The retention figures of a cap (None for a cap stored before terms carried codes)."""
    return next((t.retention for t in cap.terms if t.term == "required_retention"), None)


def _live(cap: Cap) -> tuple[CapInputs, RetentionRule]:
    if cap.inputs is None or cap.rule is None:
        raise ValueError("a stored cap has no inputs to compute from")
    return cap.inputs, cap.rule


def free_money(cap: Cap) -> Decimal:
    """What a refund may take, NOT floored: balance − suspense − frozen (nothing where the rule book exempts
    refunds) − pending_out; below 0 when the account owes more than it holds (an instruction already counted
    in pending_out may then no longer be paid)."""
    inputs, rule = _live(cap)
    frozen = frozen_held_back(inputs, rule, "refund", ZERO)
    return inputs.balance - inputs.suspense - frozen - inputs.pending_out


def refund_terms(cap: Cap) -> tuple[Term, ...]:
    """The terms of free money, in order: balance, suspense, frozen (as refunds see it), pending_out."""
    inputs, rule = _live(cap)
    return (*_books_terms(inputs), _frozen_term(inputs, rule, "refund", ZERO), _pending_term(inputs))


def release_headroom(cap: Cap) -> Decimal:
    """The releasable amount before flooring (for either kind of cap). Paying an approved release moves
    balance and pending_out alike, so while this is ≥ 0 the payment still fits."""
    if cap.kind == "non_key":
        return min(value for _, value in cap.parts)
    inputs, _ = _live(cap)
    frozen = next(t.value for t in cap.terms if t.term == "frozen")
    return _node_room(inputs, cap.required_retention, frozen)


def return_headroom(cap: Cap, amount: Decimal) -> Decimal:
    """What paying `amount` of suspense back to its payer leaves above what is frozen or reserved: the money
    is suspense, not the developer's, so retention and suspense are not held against it; no rule book
    exempts it from a freeze."""
    inputs, _ = _live(cap)
    return inputs.balance - amount - inputs.frozen_held - inputs.pending_out


def refundable(cap: Cap) -> Decimal:
    """What a refund may take now: the free money, floored at 0."""
    return max(ZERO, free_money(cap))


def protected_from_deduction(book: RuleBook, progress: Progress, supervised: Decimal) -> Decimal:
    """What a court may not deduct (法〔2022〕12号 art. 3, where the rule book forbids it): the key supervised
    amount until first registration; by building, each building's part of it until its own first
    registration. Creditors of the rule book's exceptions are not held back by it (the service's check)."""
    node = book.registration_node
    if book.by_building and progress.buildings:
        amounts = split_by_area(supervised, [b.area for b in progress.buildings])
        return sum(
            (a for a, b in zip(amounts, progress.buildings, strict=True) if node not in b.confirmed), ZERO
        )
    return ZERO if node in progress.confirmed else supervised


def supervised_amount(
    cost_per_m2: Decimal, area_m2: Decimal, coefficient: Decimal, grade_factor: Decimal
) -> Decimal:
    """Key supervised amount = construction cost per m² × pre-sale area × coefficient (× credit grade)."""
    return quantize(cost_per_m2 * area_m2 * coefficient * grade_factor)
