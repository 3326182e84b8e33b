"""Forms that forgive: one effect per form token (a double submit creates nothing twice), and files kept
across a refused form for that form and session only (escrow.web.shell.once, escrow.web.shell.uploads)."""

# ruff: noqa: F811  (the portal tests' fixtures `site` and `dev`, imported and used as arguments)
from __future__ import annotations

import hashlib
import re

import pytest
from litestar.testing import TestClient

from escrow.catalog import statuses
from escrow.domain.principal import SYSTEM
from escrow.services import parties
from escrow.store.db import UnitOfWork
from escrow.store.models import (
    Contract,
    HeldUpload,
    PaymentNotice,
    Refund,
    Release,
    StoredDocument,
)
from escrow.web.shell import i18n
from tests.conftest import DEVELOPER_CODE
from tests.http.test_web_portal import (  # noqa: F401  (fixtures)
    PDF,
    PNG,
    WAGES_FIELD,
    apply,
    count,
    dev,
    field_error,
    release_form,
    site,
    wages,
)
from tests.web import password_hash, post_form, sign_in

_TOKEN = re.compile(r'name="_form_token" value="([^"]+)"')


def form_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the form carries its one-time token"
    return found.group(1)


def release_token(dev) -> str:
    return form_token(dev.get("/developer/releases/new").text)


def apply_in(client, project_id: int, lang: str, files=None, **overrides):
    """`apply` with the page's language chosen in the address, as the language switch does."""
    return post_form(
        client,
        f"/developer/releases/new?lang={lang}",
        release_form(project_id, **overrides),
        files=wages() if files is None else files,
    )


def held_names(engine) -> list[str]:
    with UnitOfWork(engine, readonly=True) as uow:
        return [h.filename for h in uow.session.query(HeldUpload).order_by(HeldUpload.id)]


# --- one effect per form ----------------------------------------------------------------------------------


def test_each_render_of_a_form_carries_a_new_token(dev):
    first, second = release_token(dev), release_token(dev)
    assert first != second and len(first) >= 16


def test_a_release_form_submitted_twice_creates_one_release_and_both_lead_to_it(dev, site, engine):
    token = release_token(dev)
    first = apply(dev, site["project_id"], _form_token=token)
    assert first.status_code == 303, first.text
    second = apply(dev, site["project_id"], _form_token=token)
    assert second.status_code == 303, second.text
    assert second.headers["location"] == first.headers["location"]
    assert re.match(r"^/developer/releases/\d+\?done=release_submitted$", first.headers["location"])
    assert count(engine, Release) == 1 and count(engine, StoredDocument) == 1
    # a new render is a new form: it may apply again
    third = apply(
        dev,
        site["project_id"],
        amount="1000.00",
        payee_amount=["600.00", "400.00", ""],
        _form_token=release_token(dev),
    )
    assert third.status_code == 303, third.text
    assert third.headers["location"] != first.headers["location"] and count(engine, Release) == 2


def test_a_refused_submit_keeps_the_token_usable_for_the_corrected_form(dev, site, engine):
    token = release_token(dev)
    refused = apply(
        dev,
        site["project_id"],
        amount="6000000.00",
        payee_amount=["4000000.00", "2000000.00", ""],
        _form_token=token,
    )
    assert refused.status_code == 422 and count(engine, Release) == 0
    assert form_token(refused.text) == token  # the form comes back as the same form
    corrected = apply(dev, site["project_id"], _form_token=token)
    assert corrected.status_code == 303, corrected.text
    assert count(engine, Release) == 1


def test_a_notice_form_submitted_twice_issues_one_notice(dev, flow, site, engine):
    flow.contract(contract_no="HT-O-1", unit="O-1", total_price="886500.00")
    token = form_token(dev.get("/developer/contracts/HT-O-1/notices/new").text)
    body = {"kind": "down_payment", "amount": "265950.00", "due_on": "2026-12-15", "_form_token": token}
    before = count(engine, PaymentNotice)
    first = post_form(dev, "/developer/contracts/HT-O-1/notices/new", body)
    second = post_form(dev, "/developer/contracts/HT-O-1/notices/new", body)
    assert first.status_code == second.status_code == 303, second.text
    assert first.headers["location"] == second.headers["location"]
    assert first.headers["location"].endswith("?done=notice_issued")
    assert count(engine, PaymentNotice) == before + 1


def test_a_contract_form_submitted_twice_registers_one_contract(dev, site, engine):
    page = dev.get("/developer/contracts/new")
    from tests.http.test_web_portal import contract_form

    body = {**contract_form(), "_form_token": form_token(page.text)}
    before = count(engine, Contract)
    first = post_form(dev, "/developer/contracts/new", body)
    second = post_form(dev, "/developer/contracts/new", body)
    assert first.status_code == second.status_code == 303, second.text
    assert first.headers["location"] == second.headers["location"]
    assert count(engine, Contract) == before + 1


def test_one_users_token_does_not_replay_for_another(web, dev, site, engine):
    """Tokens are per user: the same token from another user is a form of their own (here: not found, as
    another developer's project), never a replay of the first user's result."""
    token = release_token(dev)
    first = apply(dev, site["project_id"], _form_token=token)
    assert first.status_code == 303
    other = apply(web("other-dev-staff"), site["project_id"], _form_token=token)
    assert other.status_code == 404 and "location" not in other.headers
    assert first.headers["location"].split("?")[0] not in other.text
    assert count(engine, Release) == 1


# --- files kept across a refused form ---------------------------------------------------------------------


def test_a_file_is_kept_across_a_refused_form_and_used_by_the_final_submit(dev, client, world, site, engine):
    token = release_token(dev)
    refused = apply(dev, site["project_id"], payee_amount=["2000000.00", "999999.99", ""], _form_token=token)
    assert refused.status_code == 422
    assert "已上传：wages.pdf" in refused.text and 'name="held_remove"' in refused.text
    assert held_names(engine) == ["wages.pdf"] and count(engine, StoredDocument) == 0
    english = apply_in(
        dev, site["project_id"], "en", payee_amount=["1.00", "1.00", ""], files=[], _form_token=token
    )
    assert english.status_code == 422 and "Uploaded: wages.pdf" in english.text and "Remove" in english.text
    done = apply(dev, site["project_id"], files=[], _form_token=token)  # no file chosen again
    assert done.status_code == 303, done.text
    with UnitOfWork(engine, readonly=True) as uow:
        docs = uow.session.query(StoredDocument).all()
        assert [(d.filename, d.sha256) for d in docs] == [("wages.pdf", hashlib.sha256(PDF).hexdigest())]
    release_id = int(re.match(r"^/developer/releases/(\d+)", done.headers["location"]).group(1))
    seen = client.get(f"/api/v1/releases/{release_id}", headers=world.headers("reviewer")).json()
    assert [(d["kind"], d["filename"]) for d in seen["documents"]] == [
        ("wage_arrears_statement", "wages.pdf")
    ]
    assert held_names(engine) == []  # the release keeps its own copy; the held one is gone


def test_a_file_chosen_again_replaces_the_held_one_and_remove_lets_it_go(dev, site, engine):
    token = release_token(dev)
    apply(dev, site["project_id"], amount="bad", _form_token=token)
    again = apply(dev, site["project_id"], amount="bad", files=wages(name="wages-2.pdf"), _form_token=token)
    assert "已上传：wages-2.pdf" in again.text and "wages.pdf<" not in again.text
    assert held_names(engine) == ["wages-2.pdf"]
    held_id = re.search(r'name="held_remove" value="(\d+)"', again.text).group(1)
    removed = apply(dev, site["project_id"], files=[], held_remove=held_id, _form_token=token)
    assert removed.status_code == 422 and field_error(removed.text, WAGES_FIELD)
    assert held_names(engine) == [] and count(engine, Release) == 0


def test_a_refused_file_is_not_held(dev, site, engine):
    token = release_token(dev)
    r = apply(dev, site["project_id"], files=wages(content=PNG, name="wages.pdf"), _form_token=token)
    assert r.status_code == 422 and held_names(engine) == []


def colleague(engine) -> str:
    """A second staff member of the same developer as dev-staff (same projects, another user)."""
    with UnitOfWork(engine) as uow:
        staff = parties.create_user(
            uow,
            username="dev-staff-2",
            role="developer",
            password=None,
            actor=SYSTEM,
            developer_code=DEVELOPER_CODE,
        )
        staff.password_hash = password_hash()
        uow.commit()
    return "dev-staff-2"


def test_another_users_or_sessions_held_file_is_never_used(app, web, dev, site, engine):
    token = release_token(dev)
    apply(dev, site["project_id"], amount="bad", _form_token=token)
    assert held_names(engine) == ["wages.pdf"]
    other = apply(web(colleague(engine)), site["project_id"], files=[], _form_token=token)
    assert other.status_code == 422 and "wages.pdf" not in other.text
    assert field_error(other.text, WAGES_FIELD)
    with TestClient(app) as second_session:  # the same user signed in elsewhere
        sign_in(second_session, "dev-staff")
        elsewhere = apply(second_session, site["project_id"], files=[], _form_token=token)
        assert elsewhere.status_code == 422 and "wages.pdf" not in elsewhere.text
        assert field_error(elsewhere.text, WAGES_FIELD)
        removal = apply(
            second_session, site["project_id"], amount="bad", files=[], _form_token=token, held_remove="1"
        )
        assert removal.status_code == 422
    assert held_names(engine) == ["wages.pdf"] and count(engine, Release) == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_refused_form_without_a_token_still_says_files_are_not_kept(dev, site, lang):
    r = apply_in(dev, site["project_id"], lang, amount="bad")
    assert r.status_code == 422
    assert ("请重新选择" if lang == "zh" else "please choose them again") in r.text


# --- one word per status, in the portal and the bureau alike ----------------------------------------------

_BADGE = re.compile(r'<h1>[^<]*(?:<[^>]*>[^<]*)*?<span class="badge[^"]*">([^<]+)</span>', re.S)


def badge_word(html: str) -> str:
    found = _BADGE.search(html)
    assert found, "the page's heading names the status"
    return found.group(1).strip()


def words_seen(dev, bureau, path_portal: str, path_bureau: str) -> list[tuple[str, str]]:
    """(portal's word, bureau's word) in Chinese and in English."""
    return [
        (
            badge_word(dev.get(f"{path_portal}?lang={lang}").text),
            badge_word(bureau.get(f"{path_bureau}?lang={lang}").text),
        )
        for lang in ("zh", "en")
    ]


def test_every_release_status_has_the_same_words_in_the_portal_and_the_bureau(web, dev, client, world, site):
    from tests.http.test_api_releases import Steps

    steps, bureau = Steps(client, world), web("auditor")
    seen: dict[str, list[tuple[str, str]]] = {}
    release_id = int(
        re.match(r"^/developer/releases/(\d+)", apply(dev, site["project_id"]).headers["location"]).group(1)
    )
    paths = (f"/developer/releases/{release_id}", f"/releases/{release_id}")
    seen["submitted"] = words_seen(dev, bureau, *paths)
    steps.approve_all(release_id)
    seen["approved"] = words_seen(dev, bureau, *paths)
    [instruction] = steps.pending()
    assert steps.execute(instruction["instruction_id"]).status_code == 201
    seen["executed"] = words_seen(dev, bureau, *paths)
    refused = apply(dev, site["project_id"], amount="1000.00", payee_amount=["600.00", "400.00", ""])
    refused_id = int(re.match(r"^/developer/releases/(\d+)", refused.headers["location"]).group(1))
    assert steps.decide(refused_id, "reviewer", "reject", "材料不全").status_code == 201
    seen["rejected"] = words_seen(dev, bureau, f"/developer/releases/{refused_id}", f"/releases/{refused_id}")

    assert set(seen) == set(statuses.RELEASE_STATUS)
    for code, pairs in seen.items():
        (zh_portal, zh_bureau), (en_portal, en_bureau) = pairs
        assert zh_portal == zh_bureau == i18n.gettext_for("zh")(statuses.RELEASE_STATUS[code]), code
        assert en_portal == en_bureau == statuses.RELEASE_STATUS[code], code
    assert seen["executed"][0][0] == "银行已付款"  # one word, not 银行已拨付 here and 银行已付款 there


def test_a_refunds_status_has_the_same_words_in_the_portal_and_the_bureau(web, dev, engine):
    r = post_form(dev, "/developer/contracts/HT-F-1/cancellation", {"reason": "买受人申请退房"})
    assert r.status_code == 303
    with UnitOfWork(engine, readonly=True) as uow:
        refund_id = uow.refunds.for_contract(uow.contracts.by_no("HT-F-1").id).id
    bureau = web("auditor")
    for lang in ("zh", "en"):
        portal = dev.get(f"/developer/contracts/HT-F-1?lang={lang}").text
        word = badge_word(bureau.get(f"/refunds/{refund_id}?lang={lang}").text)
        assert word == i18n.gettext_for(lang)(statuses.REFUND_STATUS["submitted"])
        assert f">{word}</span></dd>" in portal


# --- the bureau's review page: the decision first, one cap table ------------------------------------------

_CHANGED = re.compile(r'<tr class="[^"]*\bchanged\b')


def test_the_review_page_puts_the_decision_first_and_one_cap_table_marks_what_changed(
    web, dev, client, world, site
):
    from tests.http.test_api_releases import Steps

    first = apply(dev, site["project_id"]).headers["location"]
    first_id = int(re.match(r"^/developer/releases/(\d+)", first).group(1))
    reviewer = web("reviewer")
    page = reviewer.get(f"/releases/{first_id}").text
    decision = page.index(f'action="/releases/{first_id}/decision"')
    assert decision < page.index("衡水建工集团有限公司") < page.index("cap-compare")  # form, application, cap
    assert page.count('class="list cap-terms') == 1 and '<th scope="col" class="num">申请时</th>' in page
    assert not _CHANGED.search(page)  # nothing moved since the application
    english = reviewer.get(f"/releases/{first_id}?lang=en").text
    assert ">At application</th>" in english and ">Now</th>" in english

    second = apply(dev, site["project_id"], amount="1000.00", payee_amount=["600.00", "400.00", ""])
    second_id = int(re.match(r"^/developer/releases/(\d+)", second.headers["location"]).group(1))
    Steps(client, world).approve_all(second_id)  # approved, unpaid: it now counts against the first's cap
    page = reviewer.get(f"/releases/{first_id}").text
    changed = _CHANGED.findall(page)
    assert changed[-1] == '<tr class="total changed' and '<tr class="changed' in changed
    total = re.search(r'<tr class="total changed">.*?</tr>', page, re.S).group(0)
    assert "5,000,000.00" in total and "4,999,000.00" in total  # at application, now


def test_a_cancellation_submitted_twice_starts_one_refund_and_both_lead_to_the_contract(dev, engine):
    token = form_token(dev.get("/developer/contracts/HT-F-1/cancellation").text)
    body = {"reason": "买受人申请退房", "_form_token": token}
    first = post_form(dev, "/developer/contracts/HT-F-1/cancellation", body)
    second = post_form(dev, "/developer/contracts/HT-F-1/cancellation", body)  # not "already cancelled"
    assert first.status_code == second.status_code == 303, second.text
    assert (
        first.headers["location"]
        == second.headers["location"]
        == ("/developer/contracts/HT-F-1?done=contract_cancelled")
    )
    assert count(engine, Refund) == 1


# --- the release form's running total, the overview's summary ---------------------------------------------


@pytest.mark.parametrize(("lang", "words"), [("zh", "收款单位合计"), ("en", "Payees&#39; total")])
def test_the_release_form_carries_the_running_total_for_its_script(dev, site, lang, words):
    page = dev.get(f"/developer/releases/new?lang={lang}").text
    assert '<script src="/static/payee-total.js" defer></script>' in page
    box = re.search(
        r'<p class="payee-total" id="payee-total" data-cap="([^"]+)"[^>]*hidden>(.*?)</p>', page, re.S
    )
    assert box and box.group(1) == "5000000.00"  # the cap, on the wire, for the script to compare with
    assert words in box.group(2) and "5,000,000.00" in box.group(2)
    script = dev.get("/static/payee-total.js")
    assert script.status_code == 200 and "BigInt" in script.text and "parseFloat" not in script.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_overview_starts_with_one_row_per_project(dev, site, lang):
    page = dev.get(f"/developer?lang={lang}").text
    table = re.search(r'<table class="list project-summary">(.*?)</table>', page, re.S)
    assert table, "the summary table comes first"
    assert page.index("project-summary") < page.index(f'id="project-{site["project_id"]}"')  # cards below
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", table.group(1), re.S)
    assert len(rows) == 1
    row = rows[0]
    assert site["name"] in row and site["account_no"] in row
    assert "12,000,000.00" in row and "5,000,000.00" in row  # balance, releasable
    assert ("主体结构封顶" if lang == "zh" else "Main structure topped out") in row  # the next node


def test_one_pages_token_on_two_different_forms_does_both(dev, flow, site, engine):
    """A page with several forms renders one token: the form's address tells their submits apart."""
    from tests.http.test_web_portal import contract_form

    flow.contract(contract_no="HT-O-2", unit="O-2", total_price="886500.00")
    token = form_token(dev.get("/developer/contracts/HT-O-2").text)
    notice = {"kind": "down_payment", "amount": "265950.00", "due_on": "2026-12-15", "_form_token": token}
    contracts, notices = count(engine, Contract), count(engine, PaymentNotice)
    issued = post_form(dev, "/developer/contracts/HT-O-2/notices/new", notice)
    registered = post_form(dev, "/developer/contracts/new", {**contract_form(), "_form_token": token})
    assert issued.status_code == registered.status_code == 303, registered.text
    assert issued.headers["location"] != registered.headers["location"]
    assert count(engine, Contract) == contracts + 1 and count(engine, PaymentNotice) == notices + 1
