"""The test identity providers are real and work on their own, before any app talks to them.

OpenID Connect: oidc-provider serves discovery and a public-only JWKS, runs the authorization
code flow with PKCE through its log-in form, and signs an ID token that carries the e-mail and
the amr the account was given. SAML: pysaml2's IdP serves metadata with its signing
certificate, answers a pysaml2 SP's AuthnRequest with a signed assertion that SP accepts, and
each deliberately bad response is refused by pysaml2's SP and by python3-saml (what allauth uses).
Its single logout answers a pysaml2 SP's LogoutRequest with a signed LogoutResponse, and its
IdP-initiated LogoutRequest is accepted by python3-saml only when signed with its key.
"""

import base64
import hashlib
import html.parser
import http.cookiejar
import http.server
import json
import os
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.samlp import STATUS_SUCCESS
from saml2.sigver import SignatureError
from saml2.validate import ResponseLifetimeExceed

from tests.idp.saml_idp import AC_MFA, AC_PASSWORD, VARIANTS

CHROMIUM = os.environ.get("MENTORMATCH_CHROMIUM", "/usr/bin/chromium")
SP_ENTITY_ID = "http://127.0.0.1:9/saml/sp/metadata/"

ADA = {
    "email": "ada@example.org",
    "email_verified": True,
    "given_name": "Ada",
    "family_name": "Lovelace",
    "amr": ["pwd", "mfa"],
    "acr": "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
}
GRACE = {"email": "grace@example.org", "given_name": "Grace", "family_name": "Hopper", "amr": ["pwd"]}


class _Capture:
    """A tiny loopback HTTP server standing in for the SP: it records what arrives."""

    def __init__(self):
        self.requests = []
        captured = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                captured.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "query": urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query),
                        "form": urllib.parse.parse_qs(body),
                    }
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"<!doctype html><title>SP</title><p>received</p>")

            do_GET = do_POST = _record

            def log_message(self, format, *args):  # noqa: A002
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def sp():
    capture = _Capture()
    yield capture
    capture.close()


class _Forms(html.parser.HTMLParser):
    """Every form on a page: its action and its named inputs' values."""

    def __init__(self, text):
        super().__init__()
        self.forms = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")


def _browser_like_opener():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def _post(opener, url, fields):
    return opener.open(
        urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST"), timeout=10
    )


def _pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize_url(idp, redirect_uri, *, challenge, state, nonce):
    query = {
        "client_id": idp.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
    }
    if challenge:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return f"{idp.authorization_endpoint}?{urllib.parse.urlencode(query)}"


def _token(idp, redirect_uri, code, verifier):
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": idp.client_id,
        "client_secret": idp.client_secret,
        "code_verifier": verifier,
    }
    try:
        with _post(urllib.request.build_opener(), idp.token_endpoint, fields) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _verified_id_token(idp, token, nonce):
    signing_key = jwt.PyJWKClient(idp.jwks_uri).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], audience=idp.client_id, issuer=idp.issuer)
    assert claims["nonce"] == nonce
    return claims


def _sign_in_without_a_browser(idp, sp, redirect_uri, email, *, challenge="", state="s", nonce="n"):
    """Walk the flow as a browser would: authorize, the IdP's log-in form, back to the SP."""
    opener = _browser_like_opener()
    with opener.open(
        _authorize_url(idp, redirect_uri, challenge=challenge, state=state, nonce=nonce), timeout=10
    ) as answer:
        login_page = answer.read().decode()
        login_url = answer.url
    assert urllib.parse.urlsplit(login_url).path.startswith("/interaction/"), login_page
    form = next(form for form in _Forms(login_page).forms if form["action"].endswith("/login"))
    before = len(sp.requests)
    with _post(
        opener, urllib.parse.urljoin(login_url, form["action"]), {"email": email, "password": "anything"}
    ) as answer:
        assert answer.url.startswith(redirect_uri)
    (callback,) = sp.requests[before:]
    return {name: values[0] for name, values in callback["query"].items()}


# -- OpenID Connect ---------------------------------------------------------------------------


def test_oidc_discovery_names_the_issuer_pkce_and_the_claims(oidc_idp, sp):
    idp = oidc_idp(f"{sp.url}/oidc/callback/", accounts=[ADA])

    with urllib.request.urlopen(idp.discovery_url, timeout=10) as answer:
        discovery = json.loads(answer.read())

    assert discovery["issuer"] == idp.issuer
    assert discovery["authorization_endpoint"] == idp.authorization_endpoint
    assert discovery["token_endpoint"] == idp.token_endpoint
    assert discovery["jwks_uri"] == idp.jwks_uri
    assert "S256" in discovery["code_challenge_methods_supported"]
    assert {"openid", "email", "profile"} <= set(discovery["scopes_supported"])
    assert {"email", "email_verified", "given_name", "family_name", "amr", "acr"} <= set(discovery["claims_supported"])
    assert "client_secret_post" in discovery["token_endpoint_auth_methods_supported"]


def test_oidc_jwks_publishes_one_public_rsa_signing_key(oidc_idp, sp):
    idp = oidc_idp(f"{sp.url}/oidc/callback/", accounts=[ADA])

    with urllib.request.urlopen(idp.jwks_uri, timeout=10) as answer:
        (key,) = json.loads(answer.read())["keys"]

    assert key["kty"] == "RSA" and key["use"] == "sig" and key["kid"]
    # Only the public half: a JWKS with "d" (or the primes) would give the signing key away.
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


@pytest.mark.parametrize(
    ("account", "amr"),
    [(ADA, ["pwd", "mfa"]), (GRACE, ["pwd"])],
    ids=["mfa", "password-only"],
)
def test_oidc_code_flow_with_pkce_signs_an_id_token_with_email_and_amr(oidc_idp, sp, account, amr):
    redirect_uri = f"{sp.url}/oidc/callback/"
    idp = oidc_idp(redirect_uri, accounts=[ADA, GRACE])
    verifier, challenge = _pkce_pair()

    callback = _sign_in_without_a_browser(
        idp, sp, redirect_uri, account["email"].upper(), challenge=challenge, state="st-1", nonce="nonce-1"
    )
    assert callback["state"] == "st-1"
    assert callback["iss"] == idp.issuer
    status, tokens = _token(idp, redirect_uri, callback["code"], verifier)

    assert status == 200, tokens
    claims = _verified_id_token(idp, tokens["id_token"], "nonce-1")
    assert claims["sub"] == account["email"]
    assert claims["email"] == account["email"]
    assert claims["email_verified"] is True
    assert (claims["given_name"], claims["family_name"]) == (account["given_name"], account["family_name"])
    assert claims["amr"] == amr
    assert claims.get("acr") == account.get("acr")


def test_oidc_code_is_refused_with_the_wrong_pkce_verifier(oidc_idp, sp):
    redirect_uri = f"{sp.url}/oidc/callback/"
    idp = oidc_idp(redirect_uri, accounts=[ADA])
    _, challenge = _pkce_pair()

    callback = _sign_in_without_a_browser(idp, sp, redirect_uri, ADA["email"], challenge=challenge)
    status, answer = _token(idp, redirect_uri, callback["code"], secrets.token_urlsafe(48))

    assert (status, answer["error"]) == (400, "invalid_grant")


def test_oidc_login_form_refuses_an_unknown_email_and_set_accounts_changes_who_may_sign_in(oidc_idp, sp):
    redirect_uri = f"{sp.url}/oidc/callback/"
    idp = oidc_idp(redirect_uri, accounts=[ADA])
    opener = _browser_like_opener()
    with opener.open(_authorize_url(idp, redirect_uri, challenge="", state="s", nonce="n"), timeout=10) as answer:
        login_url = answer.url

    with pytest.raises(urllib.error.HTTPError) as refused:
        _post(opener, f"{login_url}/login", {"email": GRACE["email"]})
    assert refused.value.code == 401
    assert "Unknown e-mail address" in refused.value.read().decode()

    idp.set_accounts([GRACE])
    assert [account["email"] for account in idp.accounts()] == [GRACE["email"]]
    before = len(sp.requests)
    with _post(opener, f"{login_url}/login", {"email": GRACE["email"]}) as answer:
        assert answer.url.startswith(redirect_uri)
    assert "code" in sp.requests[before]["query"]


def test_oidc_require_pkce_refuses_an_authorization_request_without_it(oidc_idp, sp):
    redirect_uri = f"{sp.url}/oidc/strict/"
    idp = oidc_idp(redirect_uri, accounts=[ADA], require_pkce=True)
    before = len(sp.requests)

    with urllib.request.urlopen(_authorize_url(idp, redirect_uri, challenge="", state="s", nonce="n"), timeout=10):
        pass

    (callback,) = sp.requests[before:]
    assert callback["query"]["error"] == ["invalid_request"]
    assert "requires PKCE" in callback["query"]["error_description"][0]


# -- SAML 2.0 ---------------------------------------------------------------------------------

USERS = [
    {"email": "ada@example.org", "given_name": "Ada", "family_name": "Lovelace", "authn_context": AC_MFA},
    {"email": "grace@example.org", "given_name": "Grace", "family_name": "Hopper"},
]


def _pysaml2_sp(idp, acs_url, sls_url=None):
    endpoints = {"assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)]}
    if sls_url:
        endpoints["single_logout_service"] = [(sls_url, BINDING_HTTP_REDIRECT)]
    config = SPConfig()
    config.load(
        {
            "entityid": SP_ENTITY_ID,
            "service": {
                "sp": {
                    "endpoints": endpoints,
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "allow_unsolicited": True,
                    "authn_requests_signed": False,
                }
            },
            "metadata": {"inline": [idp.metadata()]},
            "accepted_time_diff": 60,
        }
    )
    return Saml2Client(config)


def test_saml_metadata_publishes_the_signing_certificate_and_both_sso_bindings(saml_idp, sp):
    idp = saml_idp(sp_entity_id=SP_ENTITY_ID, acs_url=f"{sp.url}/saml/acs/", users=USERS)

    with urllib.request.urlopen(idp.metadata_url, timeout=10) as answer:
        metadata = answer.read().decode()

    assert f'entityID="{idp.entity_id}"' in metadata
    assert 'KeyDescriptor use="signing"' in metadata
    assert idp.x509cert in metadata.replace("\n", "")
    assert f'Binding="{BINDING_HTTP_REDIRECT}" Location="{idp.sso_redirect_url}"' in metadata
    assert f'Binding="{BINDING_HTTP_POST}" Location="{idp.sso_post_url}"' in metadata


def _saml_sign_in_without_a_browser(idp, client, email):
    request_id, info = client.prepare_for_authenticate(
        entityid=idp.entity_id, relay_state="/after/", binding=BINDING_HTTP_REDIRECT
    )
    opener = _browser_like_opener()
    with opener.open(dict(info["headers"])["Location"], timeout=10) as answer:
        login_page = answer.read().decode()
    form = _Forms(login_page).forms[0]
    with _post(
        opener, urllib.parse.urljoin(idp.base_url, form["action"]), {**form["fields"], "email": email}
    ) as answer:
        (post,) = _Forms(answer.read().decode()).forms
    return request_id, post


@pytest.mark.parametrize(("user", "context"), [(USERS[0], AC_MFA), (USERS[1], AC_PASSWORD)], ids=["mfa", "password"])
def test_saml_sp_initiated_login_answers_with_a_signed_assertion_pysaml2_accepts(saml_idp, sp, user, context):
    acs_url = f"{sp.url}/saml/acs/"
    idp = saml_idp(sp_entity_id=SP_ENTITY_ID, acs_url=acs_url, users=USERS)
    client = _pysaml2_sp(idp, acs_url)

    request_id, post = _saml_sign_in_without_a_browser(idp, client, user["email"])
    assert post["action"] == acs_url
    assert post["fields"]["RelayState"] == "/after/"
    assert idp.last_authn_request_id == request_id
    response = client.parse_authn_request_response(
        post["fields"]["SAMLResponse"], BINDING_HTTP_POST, outstanding={request_id: "/after/"}
    )

    assert response.in_response_to == request_id
    assert response.assertion.signature is not None
    assert response.ava["mail"] == [user["email"]]
    assert response.ava["givenName"] == [user["given_name"]]
    assert response.ava["sn"] == [user["family_name"]]
    assert [info[0] for info in response.authn_info()] == [context]


# What pysaml2's SP raises for each, and why: a missing or broken signature, then audience and time.
PYSAML2_REFUSALS = {
    "unsigned": (SignatureError, "Signature missing for assertion"),
    "tampered": (SignatureError, "Failed to verify signature"),
    "wrong_audience": (Exception, "AudienceRestrictions conditions not satisfied"),
    "expired": (ResponseLifetimeExceed, "too old"),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_saml_bad_responses_are_refused_by_pysaml2s_sp(saml_idp, sp, variant):
    acs_url = f"{sp.url}/saml/acs/"
    idp = saml_idp(sp_entity_id=SP_ENTITY_ID, acs_url=acs_url, users=USERS)
    client = _pysaml2_sp(idp, acs_url)
    response = idp.make_response("ada@example.org", variant=variant, in_response_to="id-outstanding")

    def parse():
        return client.parse_authn_request_response(
            response.saml_response, BINDING_HTTP_POST, outstanding={"id-outstanding": "/"}
        )

    if variant == "valid":  # the control case: the same response, unspoilt, is accepted
        assert parse().ava["mail"] == ["ada@example.org"]
        return
    error, reason = PYSAML2_REFUSALS[variant]
    with pytest.raises(error, match=reason):
        parse()


PYTHON3_SAML_ERRORS = {
    "valid": None,
    "unsigned": "No Signature found",
    "tampered": "Signature validation failed",
    "wrong_audience": "is not a valid audience",
    "expired": "expired",
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_saml_bad_responses_are_refused_by_python3_saml(saml_idp, sp, variant):
    """python3-saml is what allauth's SAML provider validates with, strict as allauth sets it."""
    idp_metadata_parser = pytest.importorskip("onelogin.saml2.idp_metadata_parser")
    from onelogin.saml2.response import OneLogin_Saml2_Response
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    acs_url = f"{sp.url}/saml/acs/"
    idp = saml_idp(sp_entity_id=SP_ENTITY_ID, acs_url=acs_url, users=USERS)
    parsed = idp_metadata_parser.OneLogin_Saml2_IdPMetadataParser.parse_remote(
        idp.metadata_url, entity_id=idp.entity_id
    )
    settings = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {"entityId": SP_ENTITY_ID, "assertionConsumerService": {"url": acs_url}},
            "idp": parsed["idp"],
            "security": {"rejectDeprecatedAlgorithm": True, "wantAttributeStatement": True},
        }
    )
    answer = idp.make_response("ada@example.org", variant=variant, in_response_to="id-outstanding")
    response = OneLogin_Saml2_Response(settings, answer.saml_response)
    parts = urllib.parse.urlsplit(acs_url)
    request = {"https": "off", "http_host": parts.netloc, "script_name": "", "path_info": parts.path}

    valid = response.is_valid(request, request_id="id-outstanding")

    expected_error = PYTHON3_SAML_ERRORS[variant]
    if expected_error is None:
        assert valid, response.get_error()
        assert response.get_attributes()["urn:oid:0.9.2342.19200300.100.1.3"] == ["ada@example.org"]
        assert response.get_attributes()["urn:oid:2.5.4.42"] == ["Ada"]
        assert response.get_authn_contexts() == [AC_MFA]
    else:
        assert not valid
        assert expected_error in response.get_error()


# Through Chromium, with the app as the service provider: tests/browser/test_sso_journey.py.


# -- SAML single logout -------------------------------------------------------------------------


def _redirect_query(url):
    return {name: values[0] for name, values in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def test_saml_metadata_publishes_the_single_logout_service(saml_idp, sp):
    idp = saml_idp(sp_entity_id=SP_ENTITY_ID, acs_url=f"{sp.url}/saml/acs/", users=USERS)

    assert f'SingleLogoutService Binding="{BINDING_HTTP_REDIRECT}" Location="{idp.slo_url}"' in idp.metadata()


def test_saml_sp_initiated_logout_ends_the_idp_session_with_a_signed_logout_response(saml_idp, sp):
    acs_url, sls_url = f"{sp.url}/saml/acs/", f"{sp.url}/saml/sls/"
    idp = saml_idp(sp_entity_id=SP_ENTITY_ID, acs_url=acs_url, sp_sls_url=sls_url, users=USERS)
    client = _pysaml2_sp(idp, acs_url, sls_url)
    request_id, post = _saml_sign_in_without_a_browser(idp, client, "ada@example.org")
    signed_in = client.parse_authn_request_response(
        post["fields"]["SAMLResponse"], BINDING_HTTP_POST, outstanding={request_id: "/after/"}
    )
    name_id, session_index = signed_in.name_id, signed_in.assertion.authn_statement[0].session_index
    assert session_index in idp.sessions(name_id.text)  # the control: signed in at the IdP
    logout_id, logout = client.create_logout_request(
        idp.slo_url, idp.entity_id, name_id=name_id, session_indexes=[session_index], sign=False
    )
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(logout), idp.slo_url, "back-to", sign=False)
    before = len(sp.requests)

    with _browser_like_opener().open(dict(info["headers"])["Location"], timeout=10):
        pass  # the IdP redirects the "browser" to the SP's single logout service

    assert idp.sessions(name_id.text) == set()
    assert idp.last_logout_request["session_indexes"] == [session_index]
    (arrived,) = sp.requests[before:]
    assert arrived["path"].startswith("/saml/sls/?")
    query = {name: values[0] for name, values in arrived["query"].items()}
    assert query["RelayState"] == "back-to"
    signed = "&".join(urllib.parse.urlencode({k: query[k]}) for k in ("SAMLResponse", "RelayState", "SigAlg"))
    certificate = x509.load_pem_x509_certificate(idp.certificate_pem.encode())
    certificate.public_key().verify(  # raises InvalidSignature unless the IdP's key signed it
        base64.b64decode(query["Signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    answer = client.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT).response
    assert answer.in_response_to == logout_id
    assert answer.status.status_code.value == STATUS_SUCCESS


@pytest.mark.parametrize(
    ("signature", "error"),
    [("valid", None), ("none", "is not signed"), ("wrong_key", "Signature validation failed")],
)
def test_saml_idp_initiated_logout_request_is_accepted_by_python3_saml_only_with_the_idps_signature(
    saml_idp, sp, signature, error
):
    idp_metadata_parser = pytest.importorskip("onelogin.saml2.idp_metadata_parser")
    from onelogin.saml2.auth import OneLogin_Saml2_Auth

    acs_url, sls_url = f"{sp.url}/saml/acs/", f"{sp.url}/saml/sls/"
    idp = saml_idp(sp_entity_id=SP_ENTITY_ID, acs_url=acs_url, sp_sls_url=sls_url, users=USERS)
    parsed = idp_metadata_parser.OneLogin_Saml2_IdPMetadataParser.parse_remote(
        idp.metadata_url, entity_id=idp.entity_id
    )
    settings = {
        "strict": True,
        "sp": {"entityId": SP_ENTITY_ID, "assertionConsumerService": {"url": acs_url}},
        "idp": parsed["idp"],
        # Signed messages required: what docs/sign-in.md asks of production installs.
        "security": {"rejectDeprecatedAlgorithm": True, "wantMessagesSigned": True},
    }
    url = idp.logout_request_url(idp.name_id_of("ada@example.org"), "id-session", signature=signature)
    parts = urllib.parse.urlsplit(url)
    request = {"https": "off", "http_host": parts.netloc, "script_name": "", "path_info": parts.path}
    auth = OneLogin_Saml2_Auth({**request, "get_data": _redirect_query(url)}, settings)
    answered = len(idp.logout_responses)

    back = auth.process_slo(keep_local_session=True)

    if error is not None:
        assert auth.get_errors() and error in auth.get_last_error_reason()
        return
    assert not auth.get_errors(), auth.get_last_error_reason()
    assert back.startswith(f"{idp.slo_url}?SAMLResponse=")
    with urllib.request.urlopen(back, timeout=10) as page:  # the SP's LogoutResponse, back at the IdP
        assert "Signed out at the test IdP" in page.read().decode()
    (response,) = idp.logout_responses[answered:]
    assert response["expected"] and response["status"] == STATUS_SUCCESS
