"""The relying party's own HTTP client against a loopback server this test starts.

The mock transport covers the protocol; this covers what only a socket shows: the timeout really
cuts a provider that does not answer, a refused connection is "network", and a redirect is not
followed.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.identity.oidc import ClientConfig, ClientKey, ProviderUnavailable, RelyingParty

SEEN_USER_AGENTS: list[str] = []


class _Provider(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        SEEN_USER_AGENTS.append(self.headers.get("User-Agent", ""))
        if self.path == "/slow/.well-known/openid-configuration":
            time.sleep(1.0)  # the client has given up by now: answer nothing
            return
        if self.path == "/moved/.well-known/openid-configuration":
            self.send_response(302)
            self.send_header("Location", "/.well-known/openid-configuration")
            self.end_headers()
            return
        issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        body = json.dumps({"issuer": issuer}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def relying_party(issuer: str, client_key: ClientKey) -> RelyingParty:
    config = ClientConfig(
        issuer=issuer,
        client_id="mlango-portal",
        redirect_uri="http://127.0.0.1:8000/ingia/mwisho",
        client_keys=(client_key,),
        timeout_seconds=0.3,
    )
    return RelyingParty(config)


def test_a_provider_that_does_not_answer_times_out(base_url: str, client_key: ClientKey):
    rp = relying_party(f"{base_url}/slow", client_key)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as caught:
        rp.metadata()
    rp.close()
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 0.9


def test_a_refused_connection_is_a_network_failure(client_key: ClientKey):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rp = relying_party(f"http://127.0.0.1:{port}", client_key)
    with pytest.raises(ProviderUnavailable) as caught:
        rp.metadata()
    rp.close()
    assert caught.value.reason == "network"


def test_a_redirect_is_not_followed(base_url: str, client_key: ClientKey):
    rp = relying_party(f"{base_url}/moved", client_key)
    with pytest.raises(ProviderUnavailable) as caught:
        rp.metadata()
    rp.close()
    assert caught.value.reason == "discovery"


def test_our_user_agent_goes_over_the_wire(base_url: str, client_key: ClientKey):
    rp = relying_party(base_url, client_key)
    with pytest.raises(ProviderUnavailable):
        rp.metadata()  # the document lacks endpoints; what matters is the request
    rp.close()
    assert SEEN_USER_AGENTS[-1] == "Mlango-portal/0.1"
