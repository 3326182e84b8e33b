"""Verifying and exporting the audit trail (`escrow audit verify`, `escrow audit export`).

What is checked, in the database or in an export:

- the chains: walking the audit events in id order, each event's `prev_hash` is the stored hash of the event
  before it on its chain (the account's, the city's, or the legacy chain of the events before 0016; the first
  one's is GENESIS), it is on the chain its account names, and its stored hash is the SHA-256 of the previous
  hash and its content — an edited event fails its hash, a removed or reordered one breaks the next link; in
  the database, each chain ends at the head `audit_heads` keeps (a chain cut off at its end is named);
- the anchors: each anchor's root is the Merkle root of its leaves (`escrow.domain.merkle`), each leaf names
  an event on that chain with that hash, and the city-chain event that recorded the anchor carries its root;
- the journal against the chain: every journal entry is claimed by exactly one audit event (the event of the
  change that booked it carries the entry's digest, see `escrow.store.audit`), and its rows — entry and legs,
  ids included — still hash to that digest. An edited or re-numbered row fails its digest, a deleted entry
  leaves a claim without an entry, a row added outside the services has no claim;
- the books (the invariants of `escrow.domain.ledger`): every entry has legs, its legs sum to zero (INV-1) and
  belong to its account, its amount is the sum of its debits, its kind moves cash the way that kind does
  (INV-2), each account's cash and suspense never go below zero in booking order (INV-3, INV-4), and no leg
  refers to an entry that does not exist;
- the maintained sums (`account_balances`, `account_kind_totals`, see `escrow.store.repos.journal`): each
  account's row for each ledger and entry kind equals the journal's sum, and no account with journal rows
  lacks its row (checked in the database only: an export has no maintained rows).

Problems are reported in order — the chains first, by event id, then the journal by entry id, then the
anchors, then the maintained sums by account — so the first one is the first broken link. A trail cut
off at the end still forms valid chains: an anchor root noted earlier (printed by `escrow audit anchor`,
published daily) or a head hash noted earlier can be given with `--anchor`; the anchor must still be
there and verify, the event must still be in its chain.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from escrow.domain import ledger, merkle
from escrow.domain.ledger import EntryKind, Ledger
from escrow.store import audit
from escrow.store.db import Engine, UnitOfWork
from escrow.store.models import AuditEvent
from escrow.store.repos.journal import Figures

FORMAT = "escrow-audit/2"  # /2: events carry their chain; anchors follow the journal (a /1 file still reads)
SHOWN = 20  # problems listed after the first


@dataclass(frozen=True, order=True)
class Finding:
    # (0 chain / 1 journal / 2 anchor / 3 maintained sums, row or account id, 0 hash / 1 books): first first
    order: tuple[int, int, int]
    where: str = field(compare=False)
    problem: str = field(compare=False)

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass
class Report:
    events: int = 0
    head_id: int | None = None
    head_hash: str = audit.GENESIS
    chains: int = 0
    anchors: int = 0
    anchor_root: str | None = None  # the latest anchor's
    entries: int = 0
    legs: int = 0
    maintained: int | None = None  # maintained sums compared with the journal (None: not checked, a file)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return min(self.findings) if self.findings else None

    def lines(self) -> list[str]:
        head = f"event {self.head_id} {self.head_hash}" if self.head_id is not None else "empty"
        latest = f" (latest root {self.anchor_root})" if self.anchor_root else ""
        counts = (
            f"{self.events} audit events (head: {head}) in {self.chains} chains, "
            f"{self.anchors} anchors{latest}, "
            f"{self.entries} journal entries with {self.legs} legs"
        )
        if self.maintained is not None:
            counts += f", {self.maintained} maintained account sums"
        if self.ok:
            return [
                f"audit trail intact: {counts}",
                "every event links to the one before it on its chain and hashes to its stored hash; every "
                "anchor's root is the Merkle root of chain heads that are in their chains; every journal "
                "entry is recorded by exactly one event and matches the digest it recorded; every entry's "
                "legs sum to zero and no account's cash or suspense goes below zero"
                + (
                    "; every maintained balance and kind total equals the journal's sum"
                    if self.maintained
                    else ""
                ),
            ]
        ordered = sorted(self.findings)
        out = [f"audit trail BROKEN: first broken link: {ordered[0]}", f"checked {counts}"]
        out += [f"  also: {f}" for f in ordered[1 : SHOWN + 1]]
        if len(ordered) > SHOWN + 1:
            out.append(f"  … and {len(ordered) - SHOWN - 1} more problems")
        return out


class Verifier:
    """Fed anchors (`anchored`) first, then events in id order, then journal entries in id order (as records
    of `audit.entry_record`), then, from the database, the chains' heads (`heads`)."""

    def __init__(self, anchor: str | None = None):
        self.report = Report()
        self.anchor = anchor
        self.anchor_seen = anchor is None
        self.claims: dict[int, tuple[str, int]] = {}  # entry id → (digest, id of the event that claimed it)
        self._prev_id: int | None = None
        self._chains: dict[int, list[Any]] = {}  # chain → [last event id, its hash, length]
        self._leaves: dict[int, list[tuple[int, int, str]]] = {}  # event id → [(anchor id, chain, hash)]
        self._anchor_events: dict[int, tuple[int, str]] = {}  # event id → (anchor id, root)
        self._last_entry = 0
        self._running: dict[int, list[int]] = {}  # account id → [cash, suspense] in booking order

    def _find(self, kind: int, row: int, where: str, problem: str, rank: int = 0) -> None:
        self.report.findings.append(Finding((kind, row, rank), where, problem))

    def anchored(self, an: Mapping[str, Any]) -> None:
        """`an`: id, root, chains, event_id and leaves [[chain, head event id, head hash], …] by chain."""
        r = self.report
        anchor_id, where = an["id"], f"audit anchor {an['id']}"
        r.anchors += 1
        r.anchor_root = an["root"]
        try:
            leaves = [
                (int(chain), int(head_id), str(head_hash)) for chain, head_id, head_hash in an["leaves"]
            ]
            root = merkle.root((chain, head_hash) for chain, _, head_hash in leaves)
        except (TypeError, ValueError):
            self._find(2, anchor_id, where, "a malformed leaf")
            return
        if len({chain for chain, _, _ in leaves}) != len(leaves):
            self._find(2, anchor_id, where, "has two leaves for one chain")
        if root != an["root"]:
            self._find(
                2, anchor_id, where, f"its root {an['root']} is not the Merkle root of its leaves ({root})"
            )
        if an["chains"] != len(leaves):
            self._find(2, anchor_id, where, f"it counts {an['chains']} chains but has {len(leaves)} leaves")
        for chain, head_id, head_hash in leaves:
            self._leaves.setdefault(head_id, []).append((anchor_id, chain, head_hash))
        if an.get("event_id") is not None:
            self._anchor_events[an["event_id"]] = (anchor_id, an["root"])
        else:
            self._find(2, anchor_id, where, "no event of the city chain records it")
        if an["root"] == self.anchor:
            self.anchor_seen = True

    def event(self, ev: Mapping[str, Any]) -> None:
        """`ev`: id, prev_hash, hash, chain (absent: legacy) and the hashed body (`audit.hashed_body`)."""
        r = self.report
        chain = ev.get("chain", audit.LEGACY_CHAIN)
        event_id, where = ev["id"], f"audit event {ev['id']} on {audit.chain_name(chain)}"
        if self._prev_id is not None and event_id <= self._prev_id:
            self._find(0, event_id, where, f"out of order: it follows audit event {self._prev_id}")
        if chain != audit.LEGACY_CHAIN and chain != audit.chain_of(ev["account_id"]):
            self._find(
                0,
                event_id,
                where,
                f"misfiled: its account is on {audit.chain_name(audit.chain_of(ev['account_id']))}",
            )
        state = self._chains.get(chain)
        if ev["prev_hash"] != (state[1] if state else audit.GENESIS):
            if state is None:
                problem = "the chain does not start at GENESIS: events before it were removed"
            else:
                problem = (
                    f"its prev_hash is not the hash of audit event {state[0]}, the one before it on its "
                    "chain: an event between them was removed or inserted, or events were reordered"
                )
            self._find(0, event_id, where, problem)
        body = {k: ev[k] for k in BODY}
        if audit.chain_hash(ev["prev_hash"], body) != ev["hash"]:
            self._find(0, event_id, where, "altered: its content no longer hashes to its stored hash")
        for anchor_id, leaf_chain, leaf_hash in self._leaves.pop(event_id, ()):
            if leaf_chain != chain or leaf_hash != ev["hash"]:
                self._find(
                    2,
                    anchor_id,
                    f"audit anchor {anchor_id}",
                    f"its leaf for {audit.chain_name(leaf_chain)} names audit event {event_id}, which is on "
                    f"{audit.chain_name(chain)} with another hash: the chain or the leaf was rewritten",
                )
        if event_id in self._anchor_events:
            anchor_id, root = self._anchor_events.pop(event_id)
            details = ev.get("details")
            if chain != audit.CITY_CHAIN or not isinstance(details, Mapping) or details.get("root") != root:
                self._find(
                    2,
                    anchor_id,
                    f"audit anchor {anchor_id}",
                    f"audit event {event_id} does not record its root",
                )
        details = ev.get("details")
        claims = details.get(audit.JOURNAL_KEY, []) if isinstance(details, Mapping) else []
        for claim in claims if isinstance(claims, list) else []:
            try:
                entry_id, entry_digest = int(claim[0]), str(claim[1])
            except (TypeError, ValueError, IndexError):
                self._find(0, event_id, where, f"a malformed journal claim {claim!r}")
                continue
            if entry_id in self.claims:
                self._find(
                    0,
                    event_id,
                    where,
                    f"claims journal entry {entry_id}, already claimed by audit event "
                    f"{self.claims[entry_id][1]}",
                )
            else:
                self.claims[entry_id] = (entry_digest, event_id)
        if ev["hash"] == self.anchor:
            self.anchor_seen = True
        r.events += 1
        r.head_id, r.head_hash = event_id, ev["hash"]
        self._prev_id = event_id
        self._chains[chain] = [event_id, ev["hash"], (state[2] if state else 0) + 1]
        r.chains = len(self._chains)

    def heads(self, kept: Mapping[int, tuple[int, str, int]]) -> None:
        """The database's `audit_heads` (chain → head id, head hash, length): each chain must end there."""
        for chain in sorted(set(kept) | set(self._chains)):
            head_id, head_hash, length = kept.get(chain, (0, audit.GENESIS, 0))
            found = self._chains.get(chain, [0, audit.GENESIS, 0])
            if (head_id, head_hash, length) != tuple(found):
                self._find(
                    0,
                    max(head_id, found[0]),  # after the events of the chain that are there
                    audit.chain_name(chain),
                    f"ends at audit event {found[0] or 'none'} after {found[2]} events, but its head was "
                    f"audit event {head_id or 'none'} after {length} events: events were cut off or added",
                    rank=1,
                )

    def entry(self, record: Mapping[str, Any]) -> None:
        r = self.report
        entry_id, where = record["id"], f"journal entry {record['id']}"
        legs = record["legs"]
        r.entries += 1
        r.legs += len(legs)
        if entry_id <= self._last_entry:
            self._find(1, entry_id, where, f"out of order: it follows journal entry {self._last_entry}")
        self._last_entry = max(self._last_entry, entry_id)
        if not legs:
            self._find(1, entry_id, where, "has no legs", rank=1)
        total = sum(leg["amount_fen"] for leg in legs)
        if total:
            self._find(1, entry_id, where, f"its legs sum to {total} fen, not zero", rank=1)
        if legs and record["amount_fen"] != sum(leg["amount_fen"] for leg in legs if leg["amount_fen"] > 0):
            self._find(
                1,
                entry_id,
                where,
                f"its amount {record['amount_fen']} fen is not the sum of its debits",
                rank=1,
            )
        self._books(record, where)
        for leg in legs:
            if leg["account_id"] != record["account_id"]:
                self._find(
                    1,
                    entry_id,
                    f"journal leg {leg['id']}",
                    f"belongs to account {leg['account_id']}, its entry {entry_id} to {record['account_id']}",
                    rank=1,
                )
        claim = self.claims.pop(entry_id, None)
        if claim is None:
            self._find(
                1,
                entry_id,
                where,
                "not recorded in the audit trail: written outside the services, re-numbered, or the audit "
                "event that booked it was removed",
            )
        elif audit.entry_digest(record) != claim[0]:
            self._find(
                1,
                entry_id,
                where,
                f"altered after it was booked: its rows no longer match the digest audit event {claim[1]} "
                "recorded",
            )

    def _books(self, record: Mapping[str, Any], where: str) -> None:
        entry_id, legs = record["id"], record["legs"]
        try:
            kind = EntryKind(record["kind"])
            ledgers = [Ledger(leg["ledger"]) for leg in legs]
        except ValueError:
            self._find(1, entry_id, where, f"unknown kind {record['kind']!r} or ledger", rank=1)
            return
        cash = sum(leg["amount_fen"] for leg, name in zip(legs, ledgers, strict=True) if name is Ledger.CASH)
        suspense = -sum(
            leg["amount_fen"] for leg, name in zip(legs, ledgers, strict=True) if name is Ledger.SUSPENSE
        )
        direction = ledger.CASH_DIRECTION[kind]
        if cash * direction < 0 or (direction == 0 and cash):
            self._find(1, entry_id, where, f"a {kind.value} entry cannot move cash by {cash} fen", rank=1)
        running = self._running.setdefault(record["account_id"], [0, 0])
        running[0] += cash
        running[1] += suspense
        if running[0] < 0:
            self._find(
                1, entry_id, where, f"account {record['account_id']}'s cash balance falls below zero", rank=1
            )
        if running[1] < 0:
            self._find(
                1, entry_id, where, f"account {record['account_id']}'s suspense falls below zero", rank=1
            )

    def orphan_leg(self, leg_id: int, entry_id: int) -> None:
        self._find(
            1,
            entry_id,
            f"journal leg {leg_id}",
            f"refers to journal entry {entry_id}, which does not exist",
            rank=1,
        )

    def finish(self) -> Report:
        for entry_id, (_, event_id) in sorted(self.claims.items()):
            self._find(
                1,
                entry_id,
                f"journal entry {entry_id}",
                f"missing: audit event {event_id} recorded booking it, but it is not in the journal "
                "(deleted)",
            )
        self.claims.clear()
        for event_id, leaves in sorted(self._leaves.items()):
            for anchor_id, chain, _ in leaves:
                self._find(
                    2,
                    anchor_id,
                    f"audit anchor {anchor_id}",
                    f"its leaf for {audit.chain_name(chain)} names audit event {event_id}, which is not in "
                    "the trail: the chain was cut off or rewritten",
                )
        self._leaves.clear()
        for event_id, (anchor_id, _) in sorted(self._anchor_events.items()):
            self._find(
                2,
                anchor_id,
                f"audit anchor {anchor_id}",
                f"audit event {event_id} that recorded it is missing",
            )
        self._anchor_events.clear()
        if not self.anchor_seen:
            self._find(
                0,
                self.report.head_id or 0,
                "the trail",
                f"the anchor {self.anchor} is not in it (neither an anchor's root nor an event's hash): the "
                "trail was cut off or rewritten after it",
            )
        return self.report


BODY = (
    "occurred_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "account_id",
    "before",
    "after",
    "details",
)


# --- the database ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchored:
    id: int
    root: str
    chains: int
    event_id: int


def anchor(engine: Engine, *, actor: str) -> Anchored:
    """Write an anchor over every chain's head now (`escrow audit anchor`, the daily job) in one transaction:
    it takes no account's chain lock, only the city chain's for the event that records it."""
    with UnitOfWork(engine) as uow:
        row = audit.anchor(uow.session, actor=actor)
        made = Anchored(id=row.id, root=row.root, chains=row.chains, event_id=row.event_id)
        uow.commit()
    return made


def event_line(event: AuditEvent) -> dict[str, Any]:
    return {
        "type": "audit_event",
        "id": event.id,
        **audit.hashed_body(event),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "chain": event.chain,
    }


def verify(engine: Engine, *, anchor: str | None = None) -> Report:
    """Verify the chain and the journal in one consistent snapshot (a read-only transaction)."""
    return _walk(engine, Verifier(anchor))


def export(engine: Engine, out: TextIO) -> Report:
    """Write the trail as JSON lines: every audit event in id order, then every journal entry with its legs,
    then every anchor with its leaves. Returns the verification of what was written (the same snapshot)."""
    return _walk(engine, Verifier(), lambda line: out.write(_dumps(line)))


def _walk(engine: Engine, verifier: Verifier, write: Callable[[dict[str, Any]], Any] | None = None) -> Report:
    """Feed the verifier the whole trail from one snapshot, handing each line to `write` as well."""
    with UnitOfWork(engine, readonly=True) as uow:
        uow.snapshot()
        trail = uow.audit_trail
        anchors = list(trail.anchors())
        for line in anchors:
            verifier.anchored(line)
        for event in trail.events():
            line = event_line(event)
            verifier.event(line)
            if write:
                write(line)
        for record in trail.entries():
            verifier.entry(record)
            if write:
                write({"type": "journal_entry", **record})
        for leg_id, entry_id in trail.orphan_legs():
            verifier.orphan_leg(leg_id, entry_id)
        verifier.heads(trail.heads())
        if write:
            for line in anchors:
                write({"type": "audit_anchor", **line})
        check_maintained_sums(
            verifier, summed=uow.journal.summed_figures(), kept=uow.journal.maintained_figures()
        )
    return verifier.finish()


def check_maintained_sums(verifier: Verifier, *, summed: Figures, kept: Figures) -> None:
    """Each maintained sum (an account's ledger balance or kind total) against the journal's: a row that
    differs, is missing while the journal has rows, or has no journal rows behind it is a finding naming the
    account and the ledger or kind."""
    verifier.report.maintained = len(kept)
    for key in sorted(summed.keys() | kept.keys()):
        figure, account_id, name = key
        journal, table = summed.get(key), kept.get(key)
        if journal == table:
            continue
        what = f"the {name} ledger's balance" if figure == "ledger" else f"the {name} entries' total"
        if table is None:
            problem = f"{what} is missing from the maintained sums; the journal's is {journal} fen"
        elif journal is None:
            problem = f"{what} is {table} fen in the maintained sums, but the journal has no such rows"
        else:
            problem = f"{what} is {table} fen in the maintained sums, but {journal} fen in the journal"
        verifier.report.findings.append(Finding((3, account_id, 0), f"account {account_id}", problem))


def _dumps(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


# --- an export ---------------------------------------------------------------------------------------------


class BadExport(ValueError):
    """The file is not an export this verifier reads."""


def _lines(path: Path, kind: str) -> Iterable[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BadExport(f"{path.name} line {n}: not JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or obj.get("type") not in (
                "audit_event",
                "journal_entry",
                "audit_anchor",
            ):
                raise BadExport(f"{path.name} line {n}: not an audit_event, journal_entry or audit_anchor")
            if obj["type"] == kind:
                yield n, obj


def verify_file(path: Path, *, anchor: str | None = None) -> Report:
    """Verify an export without the database: the same checks, on the file's content."""
    verifier = Verifier(anchor)
    try:
        for _, obj in _lines(path, "audit_anchor"):
            verifier.anchored(obj)
        for _, obj in _lines(path, "audit_event"):
            verifier.event(obj)
        for _, obj in _lines(path, "journal_entry"):
            del obj["type"]
            verifier.entry(obj)
    except KeyError as exc:
        raise BadExport(f"{path.name}: a line lacks the field {exc.args[0]}") from None
    return verifier.finish()
