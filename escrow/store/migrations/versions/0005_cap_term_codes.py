"""cap terms stored before terms carried codes get their code and params

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

A cap is kept as JSON with each release application (`releases.cap`) and each approval step
(`approval_steps.cap`): `{"releasable", "explanation": {"terms": [...]}}` for a release, `{"available",
"terms": [...]}` for a refund step. Since the cap terms carry a code and params (escrow.domain.caps.Term),
the pages say a term in the reader's language from those; a term stored before has only its English
`detail`. This migration gives such terms the code and params escrow.domain.caps produces for the same
term, computed from what the row holds: the term's name, value and rule, the old English detail (read here
once: that text is history and will not change) and, for the guarantee's maximum share the old detail does
not always state, the rule book the term names (published rule books are immutable).

A term already carrying a code is left as it is, so the migration can run again. A term it cannot
interpret keeps its text and gets no code (the pages then show the stored text): a retention whose detail
says an accepted guarantee was not counted yet (the old detail does not say how much was waiting), a
detail that is not the domain's sentence, or a rule book that is no longer on disk.

Other stored JSON is left alone on purpose: audit events are hash-chained (their details hold the
releasable figure, not the terms), and idempotency records replay the response given at the time.
"""
import re
from collections.abc import Callable, Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500  # rows read and written at a time (a city has tens of thousands of approval steps)
TABLES = ('releases', 'approval_steps')

# The codes of escrow.domain.caps as of this revision, written out so that the history this migration
# writes does not move when the domain changes later.
SIMPLE_CODES = {
    'balance': 'cash_ledger',
    'suspense': 'unassigned_money',
    'frozen': 'court_freezes',
    'pending_out': 'approved_not_paid',
}
RETENTION_AT_NODE = 'retention_at_node'
RETENTION_BEFORE_FIRST_NODE = 'retention_before_first_node'

# escrow.domain.caps.required_retention's English detail and rule, as every release before 0005 stored
# them. A detail ending "guarantee not counted until deposits reach the key supervised amount" does not
# match: the amount waiting is not in it, so that term is left without a code.
_DECIMAL = r'\d+(?:\.\d+)?'
OLD_DETAIL = re.compile(
    rf'key supervised amount (?P<supervised>\d+\.\d\d) × \(share (?P<node_share>{_DECIMAL})'
    rf' \+ surcharge (?P<surcharge>{_DECIMAL})\) at (?:node (?P<node>[^\s,]+)|no node confirmed yet)'
    rf'(?:, less guarantee (?P<guarantee>\d+\.\d\d) \(at most (?P<max_share>{_DECIMAL}) of the key amount\))?'
)
OLD_RULE = re.compile(r'(?P<rulebook>\S+) nodes(?:\.(?P<node>\S+)\.retention)?')

CENT = Decimal('0.01')
ONE = Decimal('1')
ZERO = Decimal('0.00')


def _wire(amount: Decimal) -> str:
    """escrow.domain.money.to_wire: two decimals, rounded half up."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def _guarantee_max_shares() -> Callable[[str], str | None]:
    """rule book id → its guarantee.max_share as written (None for a book not on disk). The books are read
    only when a term needs one, so a database without old rows never reads them."""
    books = None

    def max_share(book_id: str) -> str | None:
        nonlocal books
        if books is None:
            from escrow.config import Settings
            from escrow.rulebooks import load_dir

            books = load_dir(Settings.from_env().rules_dir)
        book = books.get(book_id)
        return str(book.guarantee_max_share) if book else None

    return max_share


def _retention(term: dict[str, Any], max_share_of: Callable[[str], str | None]) -> tuple[str, dict] | None:
    """The code and params escrow.domain.caps.Retention gives a required_retention term, or None."""
    detail = OLD_DETAIL.fullmatch(term.get('detail', ''))
    rule = OLD_RULE.fullmatch(term.get('rule', ''))
    if detail is None or rule is None or detail['node'] != rule['node']:
        return None
    max_share = detail['max_share'] or max_share_of(rule['rulebook'])
    if max_share is None:
        return None
    supervised = Decimal(detail['supervised'])
    node_share, surcharge = Decimal(detail['node_share']), Decimal(detail['surcharge'])
    share = min(ONE, node_share + surcharge)
    gross = (supervised * share).quantize(CENT, rounding=ROUND_HALF_UP)
    guarantee = Decimal(detail['guarantee'] or ZERO)
    if term.get('value') != _wire(max(ZERO, gross - guarantee)):
        return None  # the figures do not add up to the stored value: not the sentence we know
    params = {
        'supervised_amount': _wire(supervised),
        'node': detail['node'],
        'node_share': str(node_share),
        'surcharge': str(surcharge),
        'share': str(share),
        'gross': _wire(gross),
        'guarantee': _wire(guarantee),
        'guarantee_waiting': _wire(ZERO),
        'guarantee_max_share': max_share,
    }
    return (RETENTION_AT_NODE if detail['node'] else RETENTION_BEFORE_FIRST_NODE), params


def _coded(term: Any, max_share_of: Callable[[str], str | None]) -> Any:
    """The term with its code and params, or the term itself when it has them or cannot be interpreted."""
    if not isinstance(term, dict) or 'code' in term:
        return term
    name = term.get('term')
    if name in SIMPLE_CODES:
        return {**term, 'code': SIMPLE_CODES[name], 'params': {}}
    if name == 'required_retention':
        found = _retention(term, max_share_of)
        if found:
            return {**term, 'code': found[0], 'params': found[1]}
    return term


def _with_terms(holder: Any, max_share_of: Callable[[str], str | None]) -> Any:
    """`holder` with its `terms` coded (the same object when nothing changed)."""
    if not isinstance(holder, dict) or not isinstance(holder.get('terms'), list):
        return holder
    terms = [_coded(t, max_share_of) for t in holder['terms']]
    if all(new is old for new, old in zip(terms, holder['terms'], strict=True)):
        return holder
    return {**holder, 'terms': terms}


def backfilled(cap: Any, max_share_of: Callable[[str], str | None]) -> Any:
    """The stored cap with codes in its terms, wherever they sit (the same object when nothing changed)."""
    cap = _with_terms(cap, max_share_of)
    if isinstance(cap, dict) and 'explanation' in cap:
        explanation = _with_terms(cap['explanation'], max_share_of)
        if explanation is not cap['explanation']:
            cap = {**cap, 'explanation': explanation}
    return cap


def _pages(conn: sa.Connection, table: sa.TableClause) -> Iterator[list[sa.Row]]:
    """The table's (id, cap) rows, BATCH at a time in the order of their ids."""
    after = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, table.c.cap).where(table.c.id > after).order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def upgrade() -> None:
    conn = op.get_bind()
    max_share_of = _guarantee_max_shares()
    for name in TABLES:
        table = sa.table(name, sa.column('id', sa.Integer), sa.column('cap', sa.JSON))
        write = (
            table.update()
            .where(table.c.id == sa.bindparam('row_id'))
            .values(cap=sa.bindparam('new_cap', type_=sa.JSON))
        )
        for rows in _pages(conn, table):
            changed = []
            for row_id, cap in rows:
                new = backfilled(cap, max_share_of)
                if new is not cap:
                    changed.append({'row_id': row_id, 'new_cap': new})
            if changed:
                conn.execute(write, changed)


def downgrade() -> None:
    # Nothing to undo: the code before 0005 reads only term, value, rule and detail and ignores the added
    # keys, and stripping them could not tell a backfilled term from one written since by the new code.
    pass
