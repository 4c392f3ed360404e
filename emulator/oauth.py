"""OAuth authorization-code flows as VK ID and OK run them, for the demo and tests.

VK ID (``id.vk.com``): ``GET /vkid/authorize`` (response_type=code, client_id, redirect_uri,
state, code_challenge, code_challenge_method=S256, scope) shows the consent page; approving
redirects to ``redirect_uri?code=…&state=…&device_id=…&type=code_v2``. ``POST /vkid/oauth2/auth``
exchanges it (grant_type=authorization_code, code, code_verifier, client_id, device_id,
redirect_uri) or refreshes (grant_type=refresh_token, refresh_token, client_id, device_id).

OK (``connect.ok.ru`` / ``api.ok.ru``): ``GET /ok/oauth/authorize`` (client_id, scope,
response_type=code, redirect_uri, state) and ``POST /ok/oauth/token.do`` (code, client_id,
client_secret, redirect_uri, grant_type=authorization_code; or grant_type=refresh_token).

Errors answer ``{"error": …, "error_description": …}`` with the OAuth 2.0 names both networks
use (invalid_request, invalid_client, invalid_grant, unsupported_grant_type). The consent page
asks which community ids the account administers: the access token issued is an emulator admin
token for those ids (``vkemu-adm-<id>_<id>-…``), so the statistics API accepts it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import urlencode

VK_CLIENTS = {"51234567": ""}  # VK ID apps are public clients (PKCE, no secret)
# The OAuth client secret of an OK app is the secret key its API calls are signed with.
OK_CLIENTS = {"512000000001": "emulator-secret"}
ACCESS_SECONDS = 3600
_IDS = re.compile(r"\d+")


@dataclass
class Grant:
    network: str
    client_id: str
    redirect_uri: str
    challenge: str
    admin_ids: tuple[int, ...]
    scope: str


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


class OAuthState:
    """Issued codes (one use each) and refresh tokens, in memory."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, Grant] = {}
        self.refresh: dict[str, Grant] = {}

    def issue_code(self, grant: Grant) -> str:
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = grant
        return code

    def take_code(self, code: str) -> Grant:
        with self.lock:
            grant = self.codes.pop(code, None)
        if grant is None:
            raise OAuthError("invalid_grant", "Code is invalid or expired.")
        return grant

    def tokens(self, grant: Grant) -> dict:
        ids = "_".join(str(i) for i in grant.admin_ids)
        kind = f"adm-{ids}" if ids else "usr"
        refresh = f"{grant.network}emu-refresh-{secrets.token_urlsafe(12)}"
        with self.lock:
            self.refresh[refresh] = grant
        return {"access_token": f"{grant.network}emu-{kind}-{secrets.token_urlsafe(12)}",
                "refresh_token": refresh, "expires_in": ACCESS_SECONDS, "scope": grant.scope}

    def take_refresh(self, token: str) -> Grant:
        with self.lock:
            grant = self.refresh.pop(token, None)
        if grant is None:
            raise OAuthError("invalid_grant", "Refresh token is invalid or expired.")
        return grant


def _require(params: dict, *names: str) -> None:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise OAuthError("invalid_request", f"Missing parameter: {', '.join(missing)}.")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_authorize(network: str, params: dict) -> None:
    """Refuse an authorization request the network would refuse."""
    _require(params, "client_id", "redirect_uri", "response_type")
    clients = VK_CLIENTS if network == "vk" else OK_CLIENTS
    if params["client_id"] not in clients:
        raise OAuthError("invalid_client", "Unknown client_id.")
    if params["response_type"] != "code":
        raise OAuthError("unsupported_response_type", "Only response_type=code.")
    if network == "vk":
        _require(params, "code_challenge", "state")
        if params.get("code_challenge_method", "").upper() != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256.")


def consent_page(network: str, params: dict, action: str) -> str:
    """The emulator's «allow access» page; the admin ids field stands in for the account."""
    name = "VK ID" if network == "vk" else "OK"
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in params.items())
    return (f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{name}: '
            f'доступ</title></head><body><main><h1>{name} (эмулятор): разрешить доступ</h1>'
            f'<p>Приложение {html.escape(params.get("client_id", ""))} просит доступ: '
            f'{html.escape(params.get("scope", ""))}.</p><form method="post" action="{action}">'
            f'{hidden}<label>Сообщества, которыми управляет этот аккаунт (id через запятую) '
            f'<input name="admin_ids" id="admin_ids"></label> '
            f'<button type="submit" id="allow">Разрешить</button></form></main></body></html>')


def approve(network: str, params: dict, state: OAuthState) -> str:
    """The redirect back to the client after «Разрешить»: code, state (and VK's device_id)."""
    check_authorize(network, params)
    grant = Grant(network, params["client_id"], params["redirect_uri"],
                  params.get("code_challenge", ""),
                  tuple(int(i) for i in _IDS.findall(params.get("admin_ids", ""))),
                  params.get("scope", ""))
    answer = {"code": state.issue_code(grant), "state": params.get("state", "")}
    if network == "vk":
        answer.update(device_id="emulator-device", type="code_v2")
    separator = "&" if "?" in params["redirect_uri"] else "?"
    return params["redirect_uri"] + separator + urlencode(answer)


def token(network: str, params: dict, state: OAuthState) -> dict:
    """The token endpoint: a code (with the PKCE verifier for VK ID) or a refresh token."""
    grant_type = params.get("grant_type", "")
    clients = VK_CLIENTS if network == "vk" else OK_CLIENTS
    if params.get("client_id") not in clients:
        raise OAuthError("invalid_client", "Unknown client_id.", status=401)
    if network == "ok" and params.get("client_secret") != clients[params["client_id"]]:
        raise OAuthError("invalid_client", "Wrong client_secret.", status=401)
    if grant_type == "authorization_code":
        _require(params, "code", "redirect_uri")
        grant = state.take_code(params["code"])
        if grant.redirect_uri != params["redirect_uri"] or grant.client_id != params["client_id"]:
            raise OAuthError("invalid_grant", "redirect_uri or client_id does not match.")
        if network == "vk":
            _require(params, "code_verifier", "device_id")
            if _s256(params["code_verifier"]) != grant.challenge:
                raise OAuthError("invalid_grant", "code_verifier does not match.")
    elif grant_type == "refresh_token":
        _require(params, "refresh_token")
        grant = state.take_refresh(params["refresh_token"])
    else:
        raise OAuthError("unsupported_grant_type", f"grant_type={grant_type} is not supported.")
    answer = state.tokens(grant)
    if network == "vk":
        answer.update(token_type="Bearer", user_id=1, state=params.get("state", ""))
    else:
        answer.update(token_type="session")
    return answer
