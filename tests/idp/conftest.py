"""The identity-provider fixtures for the tests beside this file (see fixtures.py)."""

from tests.idp.fixtures import oidc_idp, saml_idp  # noqa: F401 - pytest finds fixtures by name
