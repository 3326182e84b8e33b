"""Webhooks (CONTRACT.md §10): a bank or a developer subscribes a URL to its events, reads its subscriptions
and their deliveries log, rotates the signing secret and deletes a subscription (services/webhooks.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, delete
from litestar.di import NamedDependency
from litestar.params import JSONBody
from pydantic import Field, StringConstraints

from escrow.api import responses as documented
from escrow.api.deps import Id, services
from escrow.api.idempotency import idempotent
from escrow.api.paging import paged
from escrow.api.routes import KeyedController, list_route, read_route, write_route
from escrow.api.schemas import Body
from escrow.domain import webhooks as rules
from escrow.domain.paging import Page
from escrow.domain.principal import Principal
from escrow.services import webhooks

_URL_RULES = (
    "An absolute `http://` or `https://` URL with a host, without a user name or password and without a "
    "fragment, at most 2000 characters. Redirects are not followed."
)


class WebhookIn(Body):
    # the pattern says what a schema can (a scheme, no space or control character); the rest is
    # escrow.domain.webhooks.url_errors's, in words
    url: Annotated[
        str,
        StringConstraints(max_length=rules.URL_MAX, pattern=r"^[hH][tT][tT][pP][sS]?://[^\x00-\x20\x7f]+$"),
        Field(description=_URL_RULES),
    ]
    events: Annotated[
        list[str],
        Field(
            max_length=rules.EVENTS_MAX,
            description="Bank keys: `instruction.created`. Developer keys: `deposit.posted`, "
            "`release.decided`, `refund.decided`.",
        ),
    ]


class WebhookController(KeyedController):
    tags = ["webhooks", "bank", "developer"]

    @write_route(
        "/webhooks",
        "Subscribe a URL to events (bank or developer key); its signing secret is answered once",
        "The webhook and its secret",
        (403, 422),
        operation_id="createWebhook",
        description=(
            "Each delivery is a POST of JSON `{id, type, created_at, data}` with the headers "
            '`Escrow-Event-Id` and `Escrow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body" '
            "with the secret>`. Any answer but a 2xx (or none within 10 seconds) is tried again: after 1 "
            "minute, doubling up to 1 hour apart, for 24 hours after the event; then the delivery is marked "
            "failed. A webhook's deliveries are sent in order, one at a time."
        ),
    )
    @idempotent
    def create(
        self, request: Request, data: JSONBody[WebhookIn], principal: NamedDependency[Principal]
    ) -> webhooks.WebhookCreated:
        cmd = webhooks.NewWebhook(url=data.url, events=list(data.events))
        return webhooks.create(services(request), cmd, principal)

    @list_route(
        "/webhooks",
        "Your webhooks",
        "The active webhooks of this bank or developer, in the order they were created",
        (403,),
        operation_id="listWebhooks",
    )
    def listing(
        self, request: Request, principal: NamedDependency[Principal], page: NamedDependency[Page]
    ) -> Response[list[webhooks.WebhookView]]:
        return paged(request, webhooks.listing(services(request), principal, page))

    @read_route(
        "/webhooks/{webhook_id:int}", "One of your webhooks", "The webhook", operation_id="getWebhook"
    )
    def one(
        self, request: Request, webhook_id: Id, principal: NamedDependency[Principal]
    ) -> webhooks.WebhookView:
        return webhooks.get(services(request), webhook_id, principal)

    @delete(
        "/webhooks/{webhook_id:int}",
        sync_to_thread=True,
        status_code=200,
        summary="Delete a webhook: nothing more is sent to it; its deliveries log stays",
        response_description="The webhook, no longer active",
        operation_id="deleteWebhook",
        responses=documented.answers({}, *documented.GET_ERRORS, 403, 404),
        operation_class=documented.DocumentedOperation,
    )
    def remove(
        self, request: Request, webhook_id: Id, principal: NamedDependency[Principal]
    ) -> webhooks.WebhookView:
        return webhooks.disable(services(request), webhook_id, principal)

    @write_route(
        "/webhooks/{webhook_id:int}/secret",
        "Rotate the signing secret: the new one is answered once and signs every delivery from now on",
        "The new secret",
        operation_id="rotateWebhookSecret",
        status_code=200,
    )
    @idempotent
    def rotate(
        self, request: Request, webhook_id: Id, principal: NamedDependency[Principal]
    ) -> webhooks.SecretRotated:
        return webhooks.rotate(services(request), webhook_id, principal)

    @list_route(
        "/webhooks/{webhook_id:int}/deliveries",
        "The webhook's deliveries, oldest first: each event, its status, attempts and last answer",
        "The deliveries, oldest first",
        (400, 403, 404),
        operation_id="listWebhookDeliveries",
    )
    def deliveries(
        self,
        request: Request,
        webhook_id: Id,
        principal: NamedDependency[Principal],
        page: NamedDependency[Page],
    ) -> Response[list[webhooks.DeliveryView]]:
        return paged(request, webhooks.deliveries(services(request), webhook_id, principal, page))
