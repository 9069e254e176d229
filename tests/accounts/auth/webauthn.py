"""A WebAuthn credential made in software, for tests that need a security key on file without
a browser (the browser journey registers a real one through Chromium's virtual authenticator)."""

import hashlib
import json
import os

from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.webauthn import (
    Aaguid,
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorAttestationResponse,
    AuthenticatorData,
    CollectedClientData,
    RegistrationResponse,
)


def registration_credential(rp_id: str = "testserver") -> dict:
    """What allauth stores for a registered key (``Authenticator.data["credential"]``): a
    registration response with "none" attestation for a fresh P-256 key bound to ``rp_id``."""
    key = ec.generate_private_key(ec.SECP256R1())
    credential_id = os.urandom(16)
    credential = AttestedCredentialData.create(
        Aaguid.NONE, credential_id, ES256.from_cryptography_key(key.public_key())
    )
    auth_data = AuthenticatorData.create(
        hashlib.sha256(rp_id.encode()).digest(),
        AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.AT,
        0,
        credential,
    )
    response = RegistrationResponse(
        raw_id=credential_id,
        response=AuthenticatorAttestationResponse(
            client_data=CollectedClientData.create(
                type="webauthn.create", challenge=os.urandom(32), origin=f"http://{rp_id}"
            ),
            attestation_object=AttestationObject.create("none", auth_data, {}),
        ),
    )
    return json.loads(json.dumps(dict(response)))
