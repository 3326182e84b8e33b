"""The API takes exactly what its OpenAPI document says (issue 15): for generated strings, a money field, a
free text field and a bank reference are accepted by the API exactly when the documented schema of the field
accepts them (validated with an ECMA-262 regular expression engine, as JSON Schema means its patterns), and
refused with a 422 naming the field otherwise. Nothing is trimmed: `" 100.00"` and `"100.00\\n"` are
refused."""

from __future__ import annotations

import itertools

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escrow.api.schemas import LINE_PATTERN
from escrow.domain.money import PAYMENT_PATTERN

CHECKED = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# characters around and inside numbers and names that a sloppy client sends: spaces, line ends, controls,
# full-width digits and the ideographic space, signs and exponents
AWKWARD = st.sampled_from(
    [" ", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "\u3000", "\u00a0", "０", "-", "+", "e", ",", "."]
)
MONEY_TEXT = st.one_of(
    st.from_regex(PAYMENT_PATTERN, fullmatch=True),
    st.text(st.one_of(st.sampled_from("0123456789."), AWKWARD), max_size=16),
    st.tuples(st.from_regex(PAYMENT_PATTERN, fullmatch=True), AWKWARD, st.booleans()).map(
        lambda t: t[1] + t[0] if t[2] else t[0] + t[1]
    ),
)
FREE_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), min_size=0, max_size=12),
    st.text(st.one_of(st.sampled_from("张伟 Li"), AWKWARD), max_size=8),
    st.from_regex(LINE_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 200),
)
CODE_TEXT = st.text(st.one_of(st.sampled_from("HSBhsb09_./-项"), AWKWARD), max_size=8)


@pytest.fixture
def documented(client) -> dict:
    """The request schemas of the OpenAPI document, by name."""
    return client.get("/schema/openapi.json").json()["components"]["schemas"]


@pytest.fixture
def account_no(project) -> str:
    return project["account_no"]


KEYS = itertools.count()


def _verify(client, world, **fields):
    """Verifying changes nothing: a fresh key each time (the key is only the request's)."""
    key = f"verify-{next(KEYS)}"
    return client.post("/api/v1/deposits/verify", json=fields, headers=world.headers("bank", key))


def _refused(r, field: str) -> bool:
    if r.status_code == 200:
        return False
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}, r.text
    return True


def _valid(schema: dict, value: str) -> bool:
    return jsonschema_rs.validator_for(schema).is_valid(value)


@CHECKED
@given(amount=MONEY_TEXT)
def test_a_money_field_is_accepted_exactly_when_its_schema_accepts_it(
    client, world, documented, account_no, amount
):
    schema = documented["DepositVerifyIn"]["properties"]["amount"]
    r = _verify(client, world, account_no=account_no, amount=amount, payer_name="张伟")
    assert _refused(r, "amount") != _valid(schema, amount), (amount, r.text)


@CHECKED
@given(name=FREE_TEXT)
def test_a_free_text_field_is_accepted_exactly_when_its_schema_accepts_it(
    client, world, documented, account_no, name
):
    schema = documented["DepositVerifyIn"]["properties"]["payer_name"]
    r = _verify(client, world, account_no=account_no, amount="100.00", payer_name=name)
    assert _refused(r, "payer_name") != _valid(schema, name), (name, r.text)


@CHECKED
@given(reference=CODE_TEXT)
def test_a_bank_reference_is_refused_exactly_when_its_schema_refuses_it(client, world, documented, reference):
    """The deposit's bank reference (`Reference`): refused bodies change nothing, so only refusals post."""
    schema = documented["DepositIn"]["properties"]["bank_reference"]
    if _valid(schema, reference):
        return  # an accepted deposit would be booked: the refusals are what is checked here
    body = {
        "account_no": "6222000011112222",
        "bank_reference": reference,
        "amount": "1.00",
        "payer_name": "张伟",
        "channel": "transfer",
        "value_date": "2026-11-22",
    }
    r = client.post("/api/v1/deposits", json=body, headers=world.headers("bank", f"ref-{next(KEYS)}"))
    assert r.status_code == 422 and "bank_reference" in {e["field"] for e in r.json()["errors"]}, r.text


@pytest.mark.parametrize("amount", [" 100.00", "100.00 ", "100.00\n", "\t100.00", "100.00\u3000", "0.00"])
def test_money_padded_or_zero_is_refused_naming_the_field(client, world, account_no, amount):
    r = _verify(client, world, account_no=account_no, amount=amount, payer_name="张伟")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount", r.text


@pytest.mark.parametrize("name", ["张\x00伟", "张伟\n", "\t张伟", "张\x1b伟", " 张伟", " "])
def test_a_name_with_a_control_character_or_an_edge_space_is_refused(client, world, account_no, name):
    r = _verify(client, world, account_no=account_no, amount="100.00", payer_name=name)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "payer_name", r.text


def test_a_reason_may_span_lines_but_holds_no_other_control_character(client, world, documented):
    schema = documented["ReversalIn"]["properties"]["reason"]
    assert _valid(schema, "退款\n重复入账\r\n")
    assert not _valid(schema, "退款\x00") and not _valid(schema, " \n")


def test_every_free_text_field_of_a_request_has_a_pattern(client, documented):
    """No request string of the API is unconstrained: every JSON body the document names (and the schemas it
    refers to) gives each string a pattern (beside `oneOf` where it may be null), an enumeration or a format
    (a date)."""
    document = client.get("/schema/openapi.json").json()
    todo = [
        media["schema"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for media in ((operation.get("requestBody") or {}).get("content") or {}).values()
    ]
    models: set[str] = set()
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] not in models:
                models.add(ref.rsplit("/", 1)[1])
                todo.append(documented[ref.rsplit("/", 1)[1]])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    assert {"DepositIn", "ProjectIn", "ReleaseIn", "AdoptionIn", "AlertBulkIn", "ReportIn"} <= models
    # a statement as a bank's system writes it is a file format read by escrow.feeds (CONTRACT.md §9: read,
    # or refused naming the line), like its camt, MT940 and CSV forms, not a form of the API's own
    models -= {"StatementJsonBody", "StatementJson", "StatementJsonLine"}
    bare = []
    for name in sorted(models):
        for field, prop in (documented[name].get("properties") or {}).items():
            for option in prop.get("oneOf") or prop.get("anyOf") or [prop]:
                constrained = {"pattern", "enum", "format", "const", "contentMediaType"} & (
                    set(option) | set(prop)
                )
                if option.get("type") == "string" and not constrained:
                    bare.append(f"{name}.{field}")
    assert bare == [], bare
