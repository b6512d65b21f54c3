"""The JSON routes against their own OpenAPI schema (schemathesis), odd methods, and huge query strings.

schemathesis (from PyPI) runs as its command line against a real uvicorn server on 127.0.0.1:
its pytest plugin does not work with pytest 9 (it sets ``Function._nodeid``, which is gone).
"""
from __future__ import annotations

import socket
import subprocess
import sys

import httpx
import pytest

from qa.web import MAX_REQUEST_HEAD_BYTES, RunningServer, WebSettings, create_app

QUESTION = "What kind of digital theft did the 2015 agreement bar?"
JSON_ROUTES = r"^/(api/ask|api/docs|embed/ask|healthz)$"
#: A body can match the schema and still be over the 64 KB byte limit (the schema cannot count bytes):
#: 413 is a documented answer to valid and invalid bodies alike.
SCHEMATHESIS_CONFIG = """
[checks]
positive_data_acceptance.expected-statuses = ["2xx", "413"]
negative_data_rejection.expected-statuses = ["400", "404", "405", "413", "415", "422"]
"""


@pytest.fixture(scope="module")
def server(engine):
    with RunningServer(create_app(engine, WebSettings())) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def assert_json_error(response: httpx.Response, status: int, match: str = "") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status and match in body["error"], body
    return body


@pytest.mark.slow
def test_schemathesis_finds_no_failure_on_the_json_routes(server, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_CONFIG)
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
               f"{server.url}api/openapi.json", "--include-path-regex", JSON_ROUTES, "--checks", "all",
               "--phases", "examples,coverage,fuzzing", "--mode", "all", "--max-examples", "30", "--seed", "2026",
               "--generation-database", "none", "--request-timeout", "30", "--no-color", "--max-failures", "20"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-6000:]
    assert "Operations:       5 selected" in report and "No issues found" in report, report[-3000:]


def test_schema_describes_bodies_limits_and_json_errors(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    assert set(paths) >= {"/api/ask", "/embed/ask", "/healthz"}
    get, post = paths["/api/ask"]["get"], paths["/api/ask"]["post"]
    q = next(p for p in get["parameters"] if p["name"] == "q")
    assert q["required"] and q["schema"]["maxLength"] == 2000 and q["schema"]["minLength"] == 1
    k = next(p for p in get["parameters"] if p["name"] == "k")
    assert (k["schema"]["minimum"], k["schema"]["maximum"]) == (1, 20)
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["question"] and body["additionalProperties"] is False
    assert body["properties"]["history"]["maxItems"] == 20
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for status in ("400", "413", "415", "422", "503"):
        assert post["responses"][status]["content"]["application/json"]["schema"] == error, status
    assert post["responses"]["503"]["headers"]["Retry-After"]["required"] is True
    answer = {"$ref": "#/components/schemas/AnswerOut"}
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == answer
    assert "HTTPValidationError" not in schema["components"]["schemas"]  # FastAPI's {"detail"} shape is never sent


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "DELETE", "PUT", "PATCH", "BREW"])
def test_methods_a_json_route_does_not_take_get_405_json_with_allow(client, method):
    for path, allow in (("/api/ask", "GET, HEAD, POST"), ("/healthz", "GET, HEAD"), ("/embed/ask", "POST")):
        response = client.request(method, path)
        assert_json_error(response, 405, f"method {method} not allowed on {path}")
        assert response.headers["allow"] == allow
    assert_json_error(client.request(method, "/api/other"), 404, "no API route /api/other")


def test_head_is_answered_like_get(client):
    response = client.head("/healthz")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"] == "application/json"


def test_thousands_of_query_parameters_get_a_json_answer(client):
    params = [("q", QUESTION)] + [(f"p{i}", str(i)) for i in range(5000)]
    response = client.get("/api/ask", params=params)
    assert response.status_code == 200 and response.json()["citations"]
    repeated = client.get("/api/ask", params=[("q", QUESTION)] + [("k", str(i)) for i in range(3000)])
    assert_json_error(repeated, 400, "top_k must be an integer from 1 to 20, got 2999")  # the last k counts
    many_questions = client.get("/api/ask", params=[("q", f"question {i}?") for i in range(3000)])
    assert many_questions.status_code == 200 and many_questions.json()["question"] == "question 2999?"


def test_query_string_over_the_head_limit_gets_400_json_and_the_server_carries_on(server, client):
    query = "&".join(f"p{i}={i}" for i in range(20_000))  # about 230 KB
    assert len(query) > MAX_REQUEST_HEAD_BYTES
    request = f"GET /api/ask?q=hi&{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    host, port = server.url.split("//")[1].rstrip("/").split(":")
    reply = b""
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(request)
        try:
            while chunk := raw.recv(65536):
                reply += chunk
        except ConnectionResetError:  # the server closes with the rest of the request unread
            pass
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/json" in head.lower(), reply[:300]
    assert b'"status": 400' in body and b"at most 64 KB" in body
    assert client.get("/healthz").json()["status"] == "ok"
