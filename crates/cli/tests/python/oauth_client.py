#!/usr/bin/env python3
"""An MCP client with the official Python SDK's OAuth (`mcp` 2.3 on PyPI) against `conflux
serve --http`, the person's browser steps played with plain HTTP.

Usage:
    oauth_client.py --mcp URL --account ID --redirect-uri URI [--client-metadata-url URL]
                    [--revocation-deadline SECONDS]

For each way of identifying the client (first a Client ID Metadata Document at
`--client-metadata-url`, when given; then Dynamic Client Registration), with a fresh browser
and a fresh token store:

1. The SDK connects to `--mcp` (`mcp.Client` over streamable HTTP, its httpx2 client carrying
   `OAuthClientProvider`): the 401 names the resource metadata, the SDK discovers the
   authorization server, identifies itself (the metadata URL as client_id, or a registration)
   and opens the authorization URL through the redirect handler.
2. The redirect handler is the person: an httpx2 client (the SDK's HTTP library; SDK 2.3
   does not bring httpx) with a cookie jar, following the server's redirects by hand. `/oauth/authorize` -> `/oauth/consent`, which asks to sign in;
   the sign-in form goes to Atlassian (the simulator), whose consent page is accepted as
   `--account`; back through `/callback` to `/oauth/consent`, where the person approves. The
   answer's `code`, `state` and `iss` go to the SDK through the callback handler.
3. The SDK lists the tools and calls `spaces` (action `list`).
4. It waits until the SDK holds its access token for expired (the server is started with a
   short `CONFLUX_ACCESS_TOKEN_TTL`), calls again, and so refreshes; the previous access token,
   sent by hand, must now be refused.
5. The person revokes the client on `/` (the grant's form, `POST /clients/revoke`); the next
   calls are made until one is refused (at most `--revocation-deadline` seconds: a replica may
   serve a verification it cached a few seconds more). The refusal reaches the SDK as a 401;
   it then asks for a new authorization, which the person declines (the redirect handler
   raises), and that error is what the SDK's caller sees: from the call, or from the client's
   exit when it ended the client's task group (`refusal_surfaced_by`).

Every request the SDK sends (auth flow included) is recorded through httpx2 event hooks, so
token requests are counted by grant type (`requests`, `token_requests`). Prints one JSON
document on stdout, `{"sdk_version", "runs": [...]}`, one run per way of identifying the
client (the summary the Rust tests assert on: `crates/cli/tests/support/mod.rs`,
`check_python_summary`); the requests go to stderr as they are made. Exits 1 with
`{"error": [...]}` when a step cannot be completed.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
import traceback
from importlib.metadata import version as package_version
from urllib.parse import parse_qs, urljoin, urlparse

import anyio
import httpx2
from mcp import Client, Implementation
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

TIMEOUT = 120


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


class StepFailed(Exception):
    """A browser or client step did not go as the server documents it."""


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise StepFailed(what)


class DeclinedReauthorization(Exception):
    """The person declines to authorize the client again (raised by the redirect handler)."""


# ------------------------------------------------------------------ the person's browser


def location(r: httpx2.Response) -> str:
    expect(r.is_redirect, f"{r.request.method} {r.request.url} answered {r.status_code}, not a redirect: {r.text[:500]}")
    return urljoin(str(r.request.url), r.headers["location"])


def form_of(page: str, page_url: str, action_suffix: str) -> tuple[str, dict[str, str]]:
    """The form of `page` whose action ends with `action_suffix`: its absolute action URL and
    its hidden fields (the CSRF token among them)."""
    for m in re.finditer(r"<form\b[^>]*\baction=\"([^\"]+)\"[^>]*>(.*?)</form>", page, re.S):
        action = html.unescape(m.group(1))
        if action.endswith(action_suffix):
            hidden = {
                html.unescape(n): html.unescape(v)
                for n, v in re.findall(r"<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"", m.group(2))
            }
            return urljoin(page_url, action), hidden
    raise StepFailed(f"no form posting to …{action_suffix} on {page_url}: {page[:2000]}")


class Browser:
    """A person's browser: cookies kept, redirects followed by hand so every step is checked."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.http = httpx2.AsyncClient(follow_redirects=False, timeout=30)
        self.sign_ins = 0

    async def aclose(self) -> None:
        await self.http.aclose()

    async def get(self, url: str) -> httpx2.Response:
        return await self.http.get(url)

    async def post(self, url: str, fields: dict[str, str]) -> httpx2.Response:
        return await self.http.post(url, data=fields)

    async def sign_in_with_atlassian(self, page: httpx2.Response) -> httpx2.Response:
        """From a page with the sign-in form: through Atlassian's consent page (accepted as
        this person's account); returns Conflux's answer to the callback."""
        action, fields = form_of(page.text, str(page.url), "/signin")
        expect("csrf" in fields, "the sign-in form carries a CSRF token")
        to_atlassian = await self.post(action, fields)
        consent = await self.get(location(to_atlassian))
        expect(consent.status_code == 200, f"Atlassian's consent page: {consent.status_code}")
        consent_id = consent.headers.get("x-sim-consent-id")
        expect(consent_id is not None, "Atlassian's consent page names its consent")
        u = urlparse(str(consent.url))
        back = await self.post(
            f"{u.scheme}://{u.netloc}/authorize/decision",
            {"consent": consent_id, "decision": "accept", "account": self.account},
        )
        callback = location(back)
        expect(urlparse(callback).path.endswith("/callback"), f"Atlassian sends the browser to the callback: {callback}")
        self.sign_ins += 1
        return await self.get(callback)

    async def approve(self, authorization_url: str) -> AuthorizationCodeResult:
        """The person answers an MCP client's authorization request: signs in if needed, then
        allows on the consent page. Returns what the client's redirect URI receives."""
        r = await self.get(authorization_url)
        consent_url = location(r)
        expect(urlparse(consent_url).path.endswith("/oauth/consent"), f"authorize -> consent: {consent_url}")
        page = await self.get(consent_url)
        if 'id="approve"' not in page.text:
            # Not signed in: the page offers Atlassian's sign-in, coming back to this request.
            _, fields = form_of(page.text, consent_url, "/signin")
            expect(fields.get("return_to") == "consent", f"the sign-in comes back to the consent: {fields}")
            back = await self.sign_in_with_atlassian(page)
            expect(location(back) == consent_url, f"after sign-in, back at the consent page: {location(back)}")
            page = await self.get(consent_url)
        expect(page.status_code == 200 and 'id="approve"' in page.text, f"the consent page: {page.text[:2000]}")
        action, fields = form_of(page.text, consent_url, "/oauth/consent")
        answer = await self.post(action, {**fields, "decision": "approve"})
        q = parse_qs(urlparse(location(answer)).query)
        expect("code" in q, f"the client receives a code: {location(answer)}")
        return AuthorizationCodeResult(code=q["code"][0], state=q.get("state", [None])[0], iss=q.get("iss", [None])[0])

    async def revoke(self, base: str, client_id: str) -> None:
        """Revokes `client_id` on the person's page."""
        page = await self.get(urljoin(base, "/"))
        expect(page.status_code == 200, f"the person's page: {page.status_code}")
        rows = re.findall(r"<tr class=\"client\">(.*?)</tr>", page.text, re.S)
        row = next((r for r in rows if html.escape(client_id, quote=True) in r), None)
        expect(row is not None, f"the page lists {client_id}: {page.text[:3000]}")
        action, fields = form_of(f"<form {row.split('<form', 1)[1]}", str(page.url), "/clients/revoke")
        r = await self.post(action, fields)
        expect(r.status_code == 303, f"revocation answered {r.status_code}: {r.text[:500]}")


# ------------------------------------------------------------------ the SDK's side


class MemoryStorage:
    """The SDK's token storage, keeping every token it was given."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None
        self.history: list[OAuthToken] = []

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.history.append(tokens)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class Person:
    """The redirect and callback handlers: the browser answers, unless the person declines."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.authorization_urls: list[str] = []
        self.declining = False
        self.answer: AuthorizationCodeResult | None = None

    async def redirect_handler(self, url: str) -> None:
        self.authorization_urls.append(url)
        if self.declining:
            raise DeclinedReauthorization("the person declines to authorize this client again")
        self.answer = await self.browser.approve(url)

    async def callback_handler(self) -> AuthorizationCodeResult:
        expect(self.answer is not None, "the callback handler runs after the redirect handler")
        answer, self.answer = self.answer, None
        return answer  # type: ignore[return-value]


class Recorder:
    """Every request the SDK's HTTP client sends, with its answer's status."""

    def __init__(self) -> None:
        self.exchanges: list[dict] = []

    async def on_request(self, request: httpx2.Request) -> None:
        entry = {"method": request.method, "url": str(request.url.copy_with(query=None)), "status": None}
        if request.url.path.endswith("/token"):
            body = parse_qs(request.content.decode())
            entry["grant_type"] = body.get("grant_type", [None])[0]
        self.exchanges.append(entry)
        log(f"> {request.method} {request.url.copy_with(query=None)}")

    async def on_response(self, response: httpx2.Response) -> None:
        for entry in reversed(self.exchanges):
            if entry["status"] is None and entry["url"] == str(response.request.url.copy_with(query=None)):
                entry["status"] = response.status_code
                break
        log(f"< {response.status_code} {response.request.method} {response.request.url.copy_with(query=None)}")

    def lines(self) -> list[str]:
        return [f"{e['method']} {urlparse(e['url']).path} {e['status']}" for e in self.exchanges]

    def token_requests(self) -> list[dict]:
        return [{"grant_type": e.get("grant_type"), "status": e["status"]} for e in self.exchanges if "grant_type" in e]


def wire(model) -> dict:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def describe(e: BaseException) -> list[str]:
    """An exception and the ones inside it (task groups wrap them), as `Type: message`."""
    out = [f"{type(e).__name__}: {e}"]
    for inner in getattr(e, "exceptions", ()):
        out += describe(inner)
    if e.__cause__ is not None:
        out += describe(e.__cause__)
    return out


async def spaces(client: Client) -> int:
    r = wire(await client.call_tool("spaces", {"action": "list", "limit": 5}))
    text = " ".join(c.get("text", "") for c in r.get("content", []))
    expect(not r.get("isError"), f"spaces.list failed: {text}")
    items = (r.get("structuredContent") or {}).get("items") or []
    expect(len(items) > 0, f"spaces.list found spaces: {r}")
    return len(items)


async def one_client(args: argparse.Namespace, registration: str) -> dict:
    log(f"--- {registration}")
    base = f"{urlparse(args.mcp).scheme}://{urlparse(args.mcp).netloc}"
    browser = Browser(args.account)
    person = Person(browser)
    storage = MemoryStorage()
    recorder = Recorder()
    provider = OAuthClientProvider(
        server_url=args.mcp,
        client_metadata=OAuthClientMetadata(
            client_name=f"Conflux e2e ({registration})",
            redirect_uris=[args.redirect_uri],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        storage=storage,
        redirect_handler=person.redirect_handler,
        callback_handler=person.callback_handler,
        client_metadata_url=args.client_metadata_url if registration == "metadata-document" else None,
    )
    http = httpx2.AsyncClient(
        auth=provider,
        timeout=httpx2.Timeout(30, read=120),
        event_hooks={"request": [recorder.on_request], "response": [recorder.on_response]},
    )
    summary: dict = {"registration": registration}
    revoked_at = None
    try:
        async with Client(
            streamable_http_client(args.mcp, http_client=http),
            client_info=Implementation(name=f"conflux-e2e-{registration}", version="1"),
        ) as client:
            summary["protocol_version"] = client.protocol_version
            summary["client_id"] = storage.client_info.client_id if storage.client_info else None
            summary["authorization_url"] = person.authorization_urls[0] if person.authorization_urls else None
            tools = wire(await client.list_tools())["tools"]
            summary["tools"] = sorted(t["name"] for t in tools)
            summary["spaces_before_refresh"] = await spaces(client)
            first = storage.tokens
            expect(first is not None and first.expires_in is not None, "the SDK holds an expiring access token")
            summary["granted_scope"] = first.scope
            summary["expires_in"] = first.expires_in

            # Refresh: wait until the SDK itself holds the token for expired, then call again.
            expiry = provider.context.token_expiry_time or time.time()
            await anyio.sleep(max(0.0, expiry - time.time()) + 0.5)
            summary["spaces_after_refresh"] = await spaces(client)
            latest = storage.tokens
            summary["access_token_changed"] = latest.access_token != first.access_token
            summary["refresh_token_rotated"] = latest.refresh_token != first.refresh_token
            # The previous access token, sent by hand, is expired now (an initialize of
            # revision 2025-06-18: a well-formed request whatever the token).
            async with httpx2.AsyncClient(timeout=30) as raw:
                stale = await raw.post(
                    args.mcp,
                    headers={
                        "authorization": f"Bearer {first.access_token}",
                        "accept": "application/json, text/event-stream",
                    },
                    json={
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "initialize",
                        "params": {
                            "protocolVersion": "2025-06-18",
                            "capabilities": {},
                            "clientInfo": {"name": "stale-token", "version": "1"},
                        },
                    },
                )
            summary["expired_token_status"] = stale.status_code
            summary["expired_token_challenge"] = stale.headers.get("www-authenticate")
            summary["authorizations_before_revocation"] = len(person.authorization_urls)

            # The person revokes the client on their page; calls go on until one is refused.
            await browser.revoke(base, summary["client_id"])
            revoked_at = len(recorder.exchanges)
            person.declining = True
            accepted, refusal = 0, None
            summary["accepted_after_revocation"] = 0
            deadline = time.monotonic() + args.revocation_deadline
            while refusal is None:
                try:
                    await spaces(client)
                    accepted += 1
                    summary["accepted_after_revocation"] = accepted
                except StepFailed:
                    raise
                except Exception as e:  # the SDK surfaces the refusal
                    refusal = describe(e)
                    summary["refusal_surfaced_by"] = "the call"
                    break
                expect(time.monotonic() < deadline, f"still accepted {accepted} calls after the revocation")
                await anyio.sleep(0.5)
            summary["refusal"] = refusal
    except* DeclinedReauthorization as group:
        # The refusal may also end the client's task group, and so the whole client: then it
        # surfaces as the client's exit.
        if "refusal" not in summary:
            summary["refusal"] = describe(group)
            summary["refusal_surfaced_by"] = "the client's exit"
    finally:
        await http.aclose()
        await browser.aclose()
    if revoked_at is not None:
        summary["mcp_status_after_revocation"] = [
            e["status"] for e in recorder.exchanges[revoked_at:] if urlparse(e["url"]).path == urlparse(args.mcp).path
        ]
    summary["authorizations"] = len(person.authorization_urls)
    summary["sign_ins"] = browser.sign_ins
    summary["requests"] = recorder.lines()
    summary["token_requests"] = recorder.token_requests()
    summary["tokens_stored"] = len(storage.history)
    return summary


async def main(args: argparse.Namespace) -> dict:
    runs = (["metadata-document"] if args.client_metadata_url else []) + ["dynamic-registration"]
    out: dict = {"sdk_version": package_version("mcp"), "runs": []}
    with anyio.fail_after(TIMEOUT):
        for registration in runs:
            out["runs"].append(await one_client(args, registration))
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mcp", required=True, help="the server's /mcp URL")
    p.add_argument("--account", required=True, help="the Atlassian account the person signs in as")
    p.add_argument("--redirect-uri", required=True, help="the client's redirect URI (listed in the metadata document)")
    p.add_argument("--client-metadata-url", help="https URL of the client's metadata document (its client_id)")
    p.add_argument("--revocation-deadline", type=float, default=10.0)
    a = p.parse_args()
    try:
        result = anyio.run(main, a)
    except BaseException as e:
        traceback.print_exc()
        print(json.dumps({"error": describe(e)}), flush=True)
        sys.exit(1)
    print(json.dumps(result), flush=True)
