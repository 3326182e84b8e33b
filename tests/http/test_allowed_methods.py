"""Every path of the OpenAPI document says its methods alike in OPTIONS, HEAD and 405 answers
(escrow.api.methods): `Allow` lists every method the path has, whichever controller declares it
(`/api/v1/releases`: POST and GET in two controllers), HEAD wherever GET is, OPTIONS always."""

from __future__ import annotations

import re

import pytest

DOCUMENTED = ("get", "post", "put", "patch", "delete", "head")
OTHER = ("PUT", "PATCH", "DELETE")


def _paths(client) -> dict[str, set[str]]:
    """Each documented path, with its parameters filled in, and its methods as the document says them."""
    doc = client.get("/schema/openapi.json").json()
    return {
        re.sub(r"\{[^}]+\}", "1", path): {m.upper() for m in ops if m in DOCUMENTED}
        for path, ops in doc["paths"].items()
    }


def _expected(methods: set[str]) -> set[str]:
    return methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())


def _allow(response) -> set[str]:
    return {m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()}


def test_options_lists_every_method_of_every_documented_path(client):
    paths = _paths(client)
    assert len(paths) > 40
    several = [p for p, methods in paths.items() if len(methods) > 1]
    assert "/api/v1/releases" in several  # GET and POST from two controllers
    for path, methods in paths.items():
        r = client.options(path)
        assert r.status_code == 204, (path, r.status_code)
        assert _allow(r) == _expected(methods), path


def test_a_method_a_path_does_not_have_is_405_with_the_same_allow(client, world):
    for path, methods in _paths(client).items():
        for method in OTHER:
            if method in methods:
                continue
            r = client.request(method, path, headers=world.headers("admin", "k-1"))
            assert r.status_code == 405, (method, path, r.status_code)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert _allow(r) == _expected(methods), (method, path)


def test_head_answers_as_get_without_the_body(client, world):
    gets = [path for path, methods in _paths(client).items() if "GET" in methods]
    assert "/health" in gets
    for path in gets:
        got = client.get(path, headers=world.headers("admin"))
        head = client.head(path, headers=world.headers("admin"))
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path


@pytest.mark.parametrize("path", ["/api/v1/deposits", "/api/v1/statements"])
def test_head_on_a_path_without_get_is_405_naming_its_methods(client, world, path):
    r = client.head(path, headers=world.headers("bank"))
    assert r.status_code == 405 and r.content == b""
    assert _allow(r) == {"OPTIONS", "POST"}


def test_options_with_an_encoded_slash_in_a_document_number(client):
    r = client.options("/api/v1/contracts/HT%2F2026%2F0001/notices")
    assert r.status_code == 204 and "POST" in _allow(r)
