"""Uploaded files: the checks (size, type by content, name), storing with SHA-256, and who may download a
stored document — through the real app on both engines."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from escrow.domain.principal import SYSTEM
from escrow.store.db import UnitOfWork
from escrow.store.models import StoredDocument
from escrow.web.shell import i18n, uploads
from tests.web import post_form

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
ZH = i18n.gettext_for("zh")
EN = i18n.gettext_for("en")


def refused(name: str, content: bytes, _=EN) -> str:
    with pytest.raises(uploads.UploadRefused) as caught:
        uploads.check_bytes(name, content, _)
    return caught.value.message


# --- the checks ------------------------------------------------------------------------------------------


def test_a_good_pdf_png_and_jpeg_pass_with_the_type_found_in_the_content():
    assert uploads.check_bytes("进度报告.pdf", PDF, EN).content_type == "application/pdf"
    assert uploads.check_bytes("photo.PNG", PNG, EN).content_type == "image/png"
    for name in ("site.jpg", "site.jpeg"):
        assert uploads.check_bytes(name, JPEG, EN).content_type == "image/jpeg"
    good = uploads.check_bytes("report.pdf", PDF, EN)
    assert good.sha256 == hashlib.sha256(PDF).hexdigest() and good.size == len(PDF)


def test_too_big_empty_and_wrong_content_are_refused_in_the_users_language():
    assert "10 MB" in refused("big.pdf", PDF + b"0" * uploads.MAX_BYTES)
    assert refused("big.pdf", PDF + b"0" * uploads.MAX_BYTES, ZH) == "文件 big.pdf 超过 10 MB。"
    assert len(PDF + b"0" * (uploads.MAX_BYTES - len(PDF))) == uploads.MAX_BYTES
    uploads.check_bytes("exactly.pdf", PDF + b"0" * (uploads.MAX_BYTES - len(PDF)), EN)  # the limit itself
    assert "empty" in refused("empty.pdf", b"")
    assert "空" in refused("empty.pdf", b"", ZH)
    # named .pdf but not a PDF inside: judged by the content
    assert "PDF, PNG or JPEG" in refused("invoice.pdf", b"MZ\x90\x00 an executable")
    assert "PDF" in refused("invoice.pdf", b"<html><script>alert(1)</script></html>", ZH)
    # a real PNG whose name says PDF: the name must agree with the content
    assert ".png" in refused("scan.pdf", PNG)
    assert ".pdf" in refused("report.exe", PDF)


def test_file_names_keep_the_base_name_only_without_control_characters():
    assert uploads.safe_filename("C:\\Users\\张\\Desktop\\进度报告.pdf") == "进度报告.pdf"
    assert uploads.safe_filename("../../etc/passwd.pdf") == "passwd.pdf"
    assert uploads.safe_filename("re\x00po\x1brt\u202e.pdf") == "report.pdf"
    assert uploads.safe_filename("..") == "document" and uploads.safe_filename(None) == "document"
    long = uploads.safe_filename("长" * 300 + ".pdf")
    assert len(long) == uploads.MAX_NAME and long.endswith(".pdf")


def test_the_download_name_is_ascii_with_the_real_name_in_rfc_5987_form():
    header = uploads.content_disposition('进度"报告.pdf')
    assert header.startswith('attachment; filename="')
    assert "\n" not in header and header.count('"') == 2
    assert "filename*=UTF-8''" + quote('进度"报告.pdf', safe="") in header


# --- storing ---------------------------------------------------------------------------------------------


def test_a_stored_document_keeps_its_sha256_size_and_content(engine, project):
    with UnitOfWork(engine) as uow:
        account = uow.projects.account_by_no(project["account_no"])
        doc = uploads.store_document(
            uow,
            content=PDF,
            filename="dir/报告.pdf",
            content_type="application/pdf",
            uploaded_by=SYSTEM.ref,
            account_id=account.id,
        )
        uow.commit()
    with UnitOfWork(engine, readonly=True) as uow:
        stored = uow.documents.get(doc.id)
        assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
        assert stored.size == len(PDF) and bytes(stored.content) == PDF
        assert stored.filename == "报告.pdf" and stored.account_id == account.id
        assert uow.documents.by_sha256_for_account(stored.sha256, account.id).id == doc.id
        assert uow.documents.by_sha256_for_account(stored.sha256, account.id + 1) is None


# --- the checks through the node confirmation form ---------------------------------------------------------


def documents(engine) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(StoredDocument))


def confirm_with(web, project_id: int, progress: tuple, engineer: tuple = ("engineer.pdf", PDF)):
    return post_form(
        web("inspector"),
        f"/projects/{project_id}/nodes/half_structure/confirm",
        {"reached_on": "2025-06-01", "desc_construction_progress_report": "第12层"},
        files={
            "file_construction_progress_report": (*progress, "application/pdf"),
            "file_supervision_engineer_confirmation": (*engineer, "application/pdf"),
        },
    )


@pytest.mark.parametrize(
    ("progress", "expected"),
    [
        (("big.pdf", PDF + b"0" * uploads.MAX_BYTES), "文件 big.pdf 超过 10 MB。"),
        (("fake.pdf", b"GIF89a not a pdf"), "不是 PDF、PNG 或 JPEG 文件"),
        (("empty.pdf", b""), "文件 empty.pdf 是空的。"),
    ],
)
def test_the_form_refuses_a_bad_file_next_to_its_field_and_stores_nothing(
    web, engine, project, progress, expected
):
    r = confirm_with(web, project["project_id"], progress)
    assert r.status_code == 422, r.text
    error = r.text.split('id="e-file_construction_progress_report">')[1].split("</div>")[0]
    assert expected in error
    assert 'id="e-file_supervision_engineer_confirmation"' not in r.text  # the good file is not blamed
    assert 'value="第12层"' in r.text  # what was typed stays
    assert documents(engine) == 0


# --- downloading -------------------------------------------------------------------------------------------


@pytest.fixture
def stored(engine, project) -> int:
    with UnitOfWork(engine) as uow:
        account = uow.projects.account_by_no(project["account_no"])
        doc = uploads.store_document(
            uow,
            content=PDF,
            filename="工资说明.pdf",
            content_type="application/pdf",
            uploaded_by=SYSTEM.ref,
            account_id=account.id,
        )
        uow.commit()
    return doc.id


def test_bureau_users_download_a_document_as_an_attachment(web, stored):
    for who in ("auditor", "reviewer"):
        r = web(who).get(f"/documents/{stored}")
        assert r.status_code == 200
        assert r.content == PDF
        assert r.headers["content-type"].startswith("application/pdf")
        assert r.headers["x-content-type-options"] == "nosniff"
        disposition = r.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''" + quote("工资说明.pdf") in disposition


def test_developer_staff_download_only_their_own_developers_documents(web, stored):
    own = web("dev-staff").get(f"/documents/{stored}")
    assert own.status_code == 200 and own.content == PDF
    other = web("other-dev-staff").get(f"/documents/{stored}")
    missing = web("other-dev-staff").get(f"/documents/{stored + 1000}")
    assert other.status_code == missing.status_code == 404  # the same answer: existence does not leak
    assert PDF not in other.content
    assert other.text.count("未找到") == missing.text.count("未找到") >= 1


def test_unknown_and_out_of_range_documents_are_404_and_strangers_sign_in_first(client, web, stored):
    assert web("auditor").get("/documents/99999").status_code == 404
    assert web("auditor").get(f"/documents/{2**40}").status_code == 404
    r = client.get(f"/documents/{stored}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
