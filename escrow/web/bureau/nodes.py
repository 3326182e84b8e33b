"""Bureau workflows: confirming a construction node with its evidence, downloading stored documents, and
(in workflows_releases) reviewing and deciding release applications.

`/projects/{project_id}/nodes/{node_code}/confirm`: the inspector gives the date the node was reached and
one file for each kind of evidence the project's rule book requires for that node. The files are checked
(escrow.web.shell.uploads) before anything is written; then the confirmation and the stored files are one
transaction, so a refused confirmation keeps no file.

`/documents/{document_id}`: a stored file as a download. Bureau users see every document, developer staff
only those of their own developer's accounts; to anyone else the document does not exist (404).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from escrow.domain.errors import DomainError, Forbidden, NotFound
from escrow.services import documents, projects
from escrow.services.projects import ConfirmNode, Evidence
from escrow.web.bureau.common import KIND_NAMES
from escrow.web.bureau.releases import ReleasesController
from escrow.web.shell import once, pages, sessions, uploads
from escrow.web.shell.labels import N_
from escrow.web.shell.sessions import requires

MAX_DESCRIPTION = 500

pages.NOTICES["node_confirmed"] = N_(
    "The node is confirmed and its evidence stored; the release cap is recomputed."
)


# --- node confirmation -------------------------------------------------------------------------------------


def _node_page(request: Request, project_id: int, node_code: str, lang: str) -> dict[str, Any]:
    """What the confirmation form shows; NotFound for an unknown project, building or node. Where the
    project is supervised by building, `?building=CODE` names the building."""
    building = request.query_params.get("building") or None
    form = projects.node_form(pages.ctx(request), project_id, node_code, building)

    def name(n) -> str:
        return n.name_zh if lang == "zh" else n.name_en

    return {
        "project": {
            "id": form.project_id,
            "name": form.name,
            "permit_no": form.permit_no,
            "permit_date": form.permit_date,
            "finish": form.finish,
        },
        "building": {"code": form.building, "name": form.building_name} if form.building else None,
        "rulebook": form.rulebook,
        "node": {"code": form.node.code, "name": name(form.node), "retention": form.node.retention},
        "kinds": list(form.node.evidence),
        "confirmed_on": form.confirmed_on,
        "missing_before": [{"code": n.code, "name": name(n)} for n in form.missing_before],
        "releasable": form.releasable,
        "today": form.today,
        "kind_names": KIND_NAMES,
        "accept": uploads.ACCEPT,
        "max_label": uploads.MAX_LABEL,
    }


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class NodesController(Controller):
    path = "/projects/{project_id:int}/nodes/{node_code:str}/confirm"
    include_in_schema = False
    guards = [requires("nodes.confirm")]

    @get("/", name="node-confirm-form")
    async def confirm_form(
        self, request: Request, project_id: FromPath[int], node_code: FromPath[str]
    ) -> Response:
        page = await pages.run(_node_page, request, project_id, node_code, pages.language(request))
        values = {"reached_on": page["today"].isoformat()}
        return pages.render(request, "bureau/nodes/confirm.html", values=values, errors={}, **page)

    @post("/", name="node-confirm", status_code=303)
    async def confirm(
        self, request: Request, project_id: FromPath[int], node_code: FromPath[str]
    ) -> Response:
        form = await pages.form(request)
        _ = pages.gettext(request)
        page = await pages.run(_node_page, request, project_id, node_code, pages.language(request))
        reached = _parse_date(form.get("reached_on"))
        if not form.get("reached_on"):
            form.error("reached_on", _("Required."))
        elif reached is None:
            form.error("reached_on", _("Enter a date as YYYY-MM-DD."))
        evidence: list[Evidence] = []
        files: list[uploads.Upload] = []
        for kind in page["kinds"]:
            field = f"file_{kind}"
            chosen = form.files.get(field, [])
            description = form.get(f"desc_{kind}")
            if len(description) > MAX_DESCRIPTION:
                form.error(f"desc_{kind}", _("At most %(value)s characters.", value=MAX_DESCRIPTION))
            if not chosen:
                form.error(field, _("Choose the file."))
                continue
            if len(chosen) > 1:
                form.error(field, _("Choose one file."))
                continue
            try:
                upload = await uploads.read_upload(chosen[0], _)
            except uploads.UploadRefused as refused:
                form.error(field, refused.message)
                continue
            files.append(upload)
            evidence.append(Evidence(kind, description, upload.filename, upload.sha256))
        status, message = 422, None
        if form.ok:
            building = page["building"]["code"] if page["building"] else None
            cmd = ConfirmNode(project_id, node_code, reached, tuple(evidence), building)
            actor = sessions.principal(request)
            try:
                return await once.submit(
                    request,
                    form,
                    lambda ctx: projects.confirm(ctx, cmd, actor, tuple(files)),
                    lambda _view: f"/projects/{project_id}",
                    notice="node_confirmed",
                )
            except (NotFound, Forbidden):
                raise
            except DomainError as exc:
                message, errors = pages.field_errors(request, exc)
                status = exc.status
                for name, text in errors.items():
                    if name == "reached_on":
                        form.error(name, text)
                    else:  # the node's order or its evidence as a whole: said above the form
                        message = f"{message}: {text}"
        return pages.render(
            request,
            "bureau/nodes/confirm.html",
            status=status,
            values=form.values,
            errors=form.errors,
            message=message or _("Please correct the marked fields"),
            choose_again=True,
            **page,
        )


# --- stored documents --------------------------------------------------------------------------------------


class DocumentsController(Controller):
    path = "/documents"
    include_in_schema = False

    @get("/{document_id:int}", name="document", guards=[requires("documents.view")])
    async def download(self, request: Request, document_id: FromPath[int]) -> Response:
        document = await pages.run(
            documents.download, pages.ctx(request), document_id, sessions.user(request).developer_id
        )
        return Response(
            content=document.content,
            media_type=document.content_type,
            headers={
                "Content-Disposition": uploads.content_disposition(document.filename),
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, no-store",
            },
        )


CONTROLLERS = [NodesController, DocumentsController, ReleasesController]
