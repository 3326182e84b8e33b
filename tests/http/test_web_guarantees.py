"""The guarantees section of the bureau's project page: the list with what each guarantee counts for, the
admin's form (CSRF, field errors in the page's language, nothing kept on refusal) and the release button."""

from __future__ import annotations

from sqlalchemy import select

from escrow.store.db import UnitOfWork
from escrow.store.models import Guarantee
from tests.http.test_api_releases import count
from tests.http.test_guarantees import funded, today  # noqa: F401  (fixtures)
from tests.web import post_form

FORM = {
    "guarantee_no": "BH-WEB-1",
    "issuer": "中国建设银行衡水分行",
    "amount": "2000000.00",
    "valid_from": "2026-12-01",
    "valid_until": "2027-12-31",
}


def test_an_admin_registers_and_releases_a_guarantee(web, engine, funded):  # noqa: F811
    pid = funded["project_id"]
    admin = web("admin")
    page = admin.get(f"/projects/{pid}?lang=en")
    assert page.status_code == 200 and 'id="guarantee-form"' in page.text
    assert "No bank guarantees." in page.text
    r = post_form(admin, f"/projects/{pid}/guarantees", FORM)
    assert r.status_code == 303, r.text
    page = admin.get(r.headers["location"])
    assert "The bank guarantee is registered" in page.text
    assert "BH-WEB-1" in page.text and "2,000,000.00" in page.text
    assert "guarantees counted: BH-WEB-1" in page.text  # the cap's retention names it

    refused = post_form(
        admin, f"/projects/{pid}/guarantees", {**FORM, "guarantee_no": "BH-WEB-2", "amount": "5000000.00"}
    )
    assert refused.status_code == 422
    assert "hengshui@2026.1 guarantee.max_share" in refused.text and "At most 1000000.00." in refused.text
    assert 'value="BH-WEB-2"' in refused.text  # the form keeps what was typed
    bad = post_form(
        admin,
        f"/projects/{pid}/guarantees",
        {**FORM, "guarantee_no": "BH-WEB-3", "valid_until": "2026-11-30"},
    )
    assert bad.status_code == 422 and "Must be after the start date, " in bad.text
    empty = post_form(admin, f"/projects/{pid}/guarantees", {"amount": "1.234"})
    assert empty.status_code == 422 and "Enter an amount in yuan" in empty.text
    dup = post_form(admin, f"/projects/{pid}/guarantees", FORM)
    assert dup.status_code == 409
    assert count(engine, Guarantee) == 1

    with UnitOfWork(engine, readonly=True) as uow:
        gid = uow.session.scalar(select(Guarantee.id))
    r = post_form(admin, f"/projects/{pid}/guarantees/{gid}/release")
    assert r.status_code == 303, r.text
    page = admin.get(r.headers["location"])
    assert "The bank guarantee is released" in page.text and "Released" in page.text
    assert post_form(admin, f"/projects/{pid}/guarantees/{gid}/release").status_code == 409
    assert post_form(admin, f"/projects/{pid}/guarantees/999999/release").status_code == 404


def test_the_section_in_chinese_and_without_the_form_for_other_roles(web, funded):  # noqa: F811
    pid = funded["project_id"]
    page = web("admin").get(f"/projects/{pid}")
    assert "登记保函" in page.text and "暂无保函。" in page.text
    refused = post_form(web("admin"), f"/projects/{pid}/guarantees", {**FORM, "valid_until": "2026-11-30"})
    assert refused.status_code == 422 and "必须晚于开始日期" in refused.text
    other = web("reviewer").get(f"/projects/{pid}")
    assert other.status_code == 200 and "保函" in other.text and 'id="guarantee-form"' not in other.text
    assert post_form(web("reviewer"), f"/projects/{pid}/guarantees", FORM).status_code == 403
