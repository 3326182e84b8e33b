"""Words, not identifiers, wherever a person reads (through the real app, on both engines): the audit trail
names who acted by name and role and says what happened in a sentence of the catalog; node cards and
approval steps name people the same way; a cap's rule references are words linking to the rule book's page,
which shows every version in rules/ with an anchor for every reference a cap can make; every page that names
a project's rule book says its title and version, linking to its page, and never its id."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from itertools import product
from pathlib import Path

import pytest

from escrow.catalog import gettext_for
from escrow.catalog.caps import TERM_RULES, retention_rules, rule_href
from escrow.catalog.documents import book_in_words
from escrow.domain.caps import BuildingRetention, Retention
from escrow.rulebooks import load_dir
from escrow.store.db import UnitOfWork
from tests.http.test_api_releases import Steps, confirm, fund, release_body
from tests.http.test_web_pages import main_of, open_project
from tests.web import post_form

# The people of the realistic page, by their names (the world's users have none until given one).
NAMES = {"inspector": "陈磊", "reviewer": "李娜", "approver": "张伟", "admin": "王芳"}
ACTOR_REF = re.compile(r"\b(?:user|bank|developer|system|operator):\w+")
# an event code or a rule key such as freeze.exempt (an uploaded file's name, wages.pdf, is no code)
DOTTED = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\b(?<!\.pdf)")
RULE_KEY = re.compile(r"nodes\.[a-z_]+\.retention|\bfinish_surcharge\b|\bguarantee\.\w+|\bfreeze\.\w+")
BARE_KEYS = ("books", "freezes", "projects", "releases")  # keys of terms stored before terms had codes
BOOK_ID = re.compile(r"\b[a-z_]+@\d+\.\d+\b")  # a rule book version's id, hengshui@2024.1


def words_of(fragment: str) -> str:
    """What a person reads of some HTML: its text, without tags or attributes."""
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def text_of(page: str) -> str:
    return words_of(main_of(page))


def nodes_of(page: str) -> str:
    """The text of the project page's node cards."""
    return words_of(main_of(page).split('id="nodes"', 1)[1].split("</section>", 1)[0])


def identifiers_in(page: str) -> list[str]:
    text = text_of(page)
    found = ACTOR_REF.findall(text) + DOTTED.findall(text) + RULE_KEY.findall(text) + BOOK_ID.findall(text)
    found += [k for k in BARE_KEYS if re.search(rf">\s*{k}\s*<", main_of(page))]
    return found


@pytest.fixture
def lived(client, world, flow, engine, web) -> dict:
    """A project that lived: deposits, half of the main structure confirmed by the inspector, a release
    approved by reviewer and approver and paid by the bank, a court freeze."""
    with UnitOfWork(engine) as uow:
        for username, name in NAMES.items():
            uow.parties.user_by_name(username).display_name = name
        uow.commit()
    site = open_project(client, world, "open-lived", supervised_amount="10000000.00")
    fund(flow, "12000000.00")
    confirm(client, world, site["project_id"])
    steps = Steps(client, world)
    release = steps.applied(release_body(site["project_id"], "1000000.00"))
    approved = steps.approve_all(release["release_id"])
    executed = steps.execute(approved["instruction"]["instruction_id"])
    assert executed.status_code == 201, executed.text
    freeze = {
        "account_no": site["account_no"],
        "authority": "衡水市桃城区人民法院",
        "order_no": "(2026)冀1102执7号",
        "amount": "20000.00",
        "ordered_on": "2026-11-20",
    }
    assert client.post("/api/v1/freezes", json=freeze, headers=world.headers("bank", "f")).status_code == 201
    return {**site, "release_id": release["release_id"]}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_project_and_release_pages_show_words_not_identifiers(web, lived, lang):
    project = web("admin").get(f"/projects/{lived['project_id']}?lang={lang}")
    release = web("admin").get(f"/releases/{lived['release_id']}?lang={lang}")
    assert project.status_code == 200 and release.status_code == 200
    assert 'id="audit-trail"' in project.text  # the admin sees the trail: it is part of what is checked
    assert identifiers_in(project.text) == [] and identifiers_in(release.text) == []
    assert linked_book("hengshui@2024.1", lang) in release.text  # its rule book, in words
    assert linked_book("hengshui@2024.1", lang) in project.text
    under = {"zh": "依据监管规则 ", "en": "Under the rule book "}[lang]
    assert f"<p>{under}{linked_book('hengshui@2024.1', lang)}</p>" in project.text  # the cap's heading
    trail = words_of(main_of(project.text).split('id="audit-trail"', 1)[1])
    if lang == "zh":
        assert "陈磊（节点核验员）确认项目 #" in trail and "达到“主体结构完成二分之一”节点" in trail
        assert "张伟（审批人）同意了拨付申请 #" in trail and "衡水银行登记了法院冻结 #" in trail
        assert "王芳（系统管理员）将项目 #" in trail and "衡水银行入账缴款 #" in trail
        assert "陈磊（节点核验员） 于 " in nodes_of(project.text)  # the node card: "… 于 <time> 确认"
        assert "张伟（审批人）" in text_of(release.text) and "李娜（审核人）" in text_of(release.text)
    else:
        assert "陈磊 (Node inspector) confirmed the node “Half of the main structure completed”" in trail
        assert (
            f"张伟 (Approver) approved step 2 (Approver) of release application #{lived['release_id']}"
            in trail
        )
        assert "衡水银行 recorded court freeze #" in trail and "衡水银行 paid out release #" in trail
        assert "by 陈磊 (Node inspector)" in nodes_of(project.text)
        assert "by 张伟 (Approver)" in text_of(release.text) and "by 李娜 (Reviewer)" in text_of(release.text)


def test_the_caps_rule_references_are_words_linking_to_their_row(web, lived):
    page = main_of(web("reviewer").get(f"/projects/{lived['project_id']}").text)
    href = rule_href("hengshui@2024.1", "nodes.half_structure.retention")
    assert f'<a class="rule" href="{href}">“主体结构完成二分之一”节点留存比例</a>' in page
    row = web("reviewer").get(href.split("#")[0])
    assert row.status_code == 200 and 'id="nodes.half_structure.retention"' in row.text


def test_the_developer_sees_who_decided_its_application_by_name_and_role(web, lived):
    page = text_of(web("dev-staff").get(f"/developer/releases/{lived['release_id']}?lang=en").text)
    assert "张伟 (Approver)" in page and "李娜 (Reviewer)" in page
    assert not ACTOR_REF.findall(page) and "approver" not in page.split()


def cap_references(book) -> set[str]:
    """Every rule-book key a cap under `book` can cite: the retention's (at each node and before the first,
    with and without surcharge, guarantee counted or waiting, by building or not) and the terms' own."""
    keys = set(TERM_RULES.values())
    one = Decimal("1")
    for node in (None, *(n.code for n in book.nodes)):
        for surcharge, guarantee, waiting, by_building in product((0, one), repeat=4):
            building = BuildingRetention("1#", one, node, one, Decimal(surcharge), one, one)
            figures = Retention(
                one,
                node,
                one,
                Decimal(surcharge),
                one,
                one,
                Decimal(guarantee),
                Decimal(waiting),
                one,
                buildings=(building,) if by_building else (),
            )
            keys |= {ref.split(" ", 1)[1] for ref in retention_rules(book.id, figures)}
    return keys


BOOKS = list(load_dir(Path(__file__).resolve().parents[2] / "rules"))


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.id)
def test_every_rule_book_version_has_a_page_with_an_anchor_for_every_reference(web, book):
    url = f"/rules/{book.jurisdiction}/{book.version}"
    references = cap_references(book)
    assert "nodes.first_registration.retention" in references and "freeze.exempt" in references
    for username, lang in (("auditor", "zh"), ("inspector", "en"), ("dev-staff", "zh")):
        r = web(username).get(f"{url}?lang={lang}")
        assert r.status_code == 200, (username, r.status_code)
        anchors = set(re.findall(r'id="([^"]+)"', r.text))
        assert references <= anchors, references - anchors
        assert identifiers_in(r.text) == [], identifiers_in(r.text)
    zh, en = (text_of(web("auditor").get(f"{url}?lang={lang}").text) for lang in ("zh", "en"))
    assert book.title in zh and (book.title_en or book.title) in en
    first = book.nodes[0]
    assert first.name_zh in zh and first.name_en in en
    assert f"{(first.retention * 100).normalize():f}%" in zh  # the share retained at the first node
    if book.supersedes:
        assert f'href="/rules/{book.jurisdiction}/{book.supersedes}"' in web("auditor").get(url).text


def test_an_unknown_rule_book_version_is_the_404_page(web):
    for path in ("/rules/hengshui/1999.1", "/rules/nowhere/2024.1"):
        r = web("auditor").get(path + "?lang=en")
        assert r.status_code == 404 and "Not found" in r.text and "<html" in r.text


# --- a project's rule book, in words, wherever a page names it --------------------------------------------


def linked_book(book_id: str, lang: str) -> str:
    """The link a page shows for a rule book: its title and version in the page's words, to its page."""
    book = next(b for b in BOOKS if b.id == book_id)
    words = html.escape(book_in_words(gettext_for(lang), book, lang), quote=False)
    return f'<a class="rulebook" href="/rules/{book.jurisdiction}/{book.version}">{words}</a>'


@pytest.fixture
def named_books(client, world, flow, web, lived) -> dict[str, tuple[str, str]]:
    """Beside the lived project's release: a refund waiting for its chain, a payment in suspense, a key
    supervised amount change, a fund plan filed in the portal and an adoption of a later version; each page
    that names the rule book, with the role that opens it."""
    pid, account_no = lived["project_id"], lived["account_no"]
    contract = flow.contract(contract_no="HT-WORDS-1", unit="W-1-101")
    notice = flow.notice(contract["contract_no"], "265950.00")
    paid = {"account_no": account_no, "amount": "265950.00", "payer_name": "张伟", "value_date": "2026-11-20"}
    paid |= {"payer_account": "6217000012345678", "kind": "down_payment", "channel": "transfer"}
    accepted = flow.deposit(bank_reference="W-PAID", notice_no=notice["notice_no"], **paid)
    assert accepted["status"] == "accepted"
    r = client.post(
        f"/api/v1/contracts/{contract['contract_no']}/cancellation",
        json={"reason": "买受人申请退房"},
        headers=world.headers("developer", "w-cancel"),
    )
    assert r.status_code == 201, r.text
    refund_id = r.json()["refund_id"]
    unknown = flow.deposit(bank_reference="W-LOST", notice_no=None, **paid)
    assert unknown["status"] == "suspense"
    r = client.post(
        f"/api/v1/projects/{pid}/supervised-amount",
        json={"amount": "11000000.00", "reason": "施工合同变更"},
        headers=world.headers("admin", "w-change"),
    )
    assert r.status_code == 201, r.text
    change_id = r.json()["change_id"]
    plan = {
        "project_id": str(pid),
        "item_node_code": ["topped_out", ""],
        "item_month": ["2027-03", ""],
        "item_role": ["construction", "construction"],
        "item_amount": ["3000000.00", ""],
        "note": "第一版",
    }
    assert post_form(web("dev-staff"), "/developer/fund-plan", plan).status_code == 303
    plan_id = re.search(r'href="/fund-plans/(\d+)"', web("reviewer").get("/fund-plans").text).group(1)
    adopt = {"rulebook": "hengshui@2026.2", "project_id": [str(pid)], "reason": "新办法施行"}
    r = post_form(web("admin"), "/rules/adoptions", adopt)
    assert r.status_code == 303, r.text
    return {
        "project": ("reviewer", f"/projects/{pid}"),
        "refund": ("reviewer", f"/refunds/{refund_id}"),
        "suspense": ("reviewer", f"/projects/{pid}/suspense/{unknown['deposit_id']}"),
        "amount change": ("approver", f"/supervised-amount-changes/{change_id}"),
        "fund plan": ("reviewer", f"/fund-plans/{plan_id}"),
        "fund plans": ("reviewer", "/fund-plans"),
        "node confirmation": ("inspector", f"/projects/{pid}/nodes/topped_out/confirm"),
        "adoption": ("reviewer", r.headers["location"].split("?")[0]),
        "portal overview": ("dev-staff", "/developer"),
        "portal release": ("dev-staff", f"/developer/releases/{lived['release_id']}"),
        "portal new release": ("dev-staff", f"/developer/releases/new?project_id={pid}"),
        "portal fund plan": ("dev-staff", f"/developer/fund-plan?project_id={pid}"),
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_naming_a_rule_book_says_it_in_words_linking_to_its_page(web, named_books, lang):
    for page, (username, url) in named_books.items():
        r = web(username).get(f"{url}{'&' if '?' in url else '?'}lang={lang}")
        assert r.status_code == 200, (page, r.status_code)
        assert identifiers_in(r.text) == [], (page, identifiers_in(r.text))
        assert linked_book("hengshui@2024.1", lang) in main_of(r.text), page
    adoption = web("reviewer").get(f"{named_books['adoption'][1]}?lang={lang}")
    assert linked_book("hengshui@2026.2", lang) in main_of(adoption.text)  # the version adopted


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_adoption_refused_names_its_rule_and_version_in_words(web, lived, lang):
    again = {"rulebook": "hengshui@2024.1", "project_id": [str(lived["project_id"])], "reason": "重复"}
    r = post_form(web("admin"), f"/rules/adoptions?lang={lang}", again)
    assert r.status_code == 422 and identifiers_in(r.text) == [], identifiers_in(r.text)
    said = gettext_for(lang)("A chosen project is already on this version.")
    assert said in text_of(r.text) and linked_book("hengshui@2024.1", lang) in main_of(r.text)
    unknown = {**again, "rulebook": "hengshui@2099.1"}
    r = post_form(web("admin"), f"/rules/adoptions?lang={lang}", unknown)
    assert r.status_code == 422 and identifiers_in(r.text) == [], identifiers_in(r.text)
    assert 'class="rulebook"' not in main_of(r.text)  # a version not loaded has no words and no page
