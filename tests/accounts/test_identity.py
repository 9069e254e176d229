"""Properties of the canonical e-mail key and the confusable skeleton (accounts/identity.py)."""

import string
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from accounts.identity import canonical_email, email_skeleton

# What hospital addresses are made of, plus the Latin letters names bring (é, ø, ł, ß …). Not the
# dotless ı: its capital is the plain I, so it has no case of its own, and ``lısa@`` is a
# look-alike of ``lisa@`` (refused by the skeleton), not a case variant of it.
LATIN = (
    string.ascii_letters
    + string.digits
    + "._-+"
    + "".join(chr(c) for c in range(0xC0, 0x180) if chr(c).isalpha() and chr(c) != "ı")
)
local_parts = st.text(alphabet=LATIN, min_size=1, max_size=30)
ascii_local_parts = st.text(alphabet=string.ascii_lowercase + string.digits + "._-", min_size=1, max_size=20)
DOMAIN = "@hospital.example"

# Letters of other scripts drawn exactly like Latin ones: the look-alike attack's alphabet.
HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "ı", "s": "ѕ", "j": "ј"}


@given(st.text(max_size=40))
def test_the_key_is_a_fixed_point(text):
    assert canonical_email(canonical_email(text)) == canonical_email(text)


@given(local_parts)
def test_case_never_makes_a_second_identity(local):
    address = local + DOMAIN
    key = canonical_email(address)
    assert canonical_email(address.upper()) == key
    assert canonical_email(address.lower()) == key
    assert canonical_email(address.swapcase()) == key


@given(local_parts)
def test_compatibility_forms_share_the_key(local):
    """Full-width letters, ligatures, the long s: what NFKC folds is one identity."""
    address = local + DOMAIN
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in address)
    assert canonical_email(fullwidth) == canonical_email(address)
    assert canonical_email(unicodedata.normalize("NFD", address)) == canonical_email(address)
    assert canonical_email(address.replace("s", "ſ")) == canonical_email(address)


@given(local_parts)
def test_the_skeleton_follows_the_key(local):
    address = local + DOMAIN
    assert email_skeleton(address) == email_skeleton(canonical_email(address))
    assert email_skeleton(address.upper()) == email_skeleton(address)


@given(ascii_local_parts, st.data())
def test_a_homoglyph_is_a_different_key_with_the_same_skeleton(local, data):
    """Swapping a Latin letter for its look-alike from another script is refused as a
    look-alike (same skeleton) but can never sign in as the original (different key)."""
    swappable = [i for i, c in enumerate(local) if c in HOMOGLYPHS]
    if not swappable:
        local, swappable = local + "a", [len(local)]
    i = data.draw(st.sampled_from(swappable))
    spoof = local[:i] + HOMOGLYPHS[local[i]] + local[i + 1 :]
    assert canonical_email(spoof + DOMAIN) != canonical_email(local + DOMAIN)
    assert email_skeleton(spoof + DOMAIN) == email_skeleton(local + DOMAIN)


@given(ascii_local_parts, ascii_local_parts)
def test_distinct_plain_addresses_are_never_look_alikes(a, b):
    """tom@ and torn@, ann1@ and annl@: colleagues, not a spoof (disarm keeps TS #39's ASCII folds apart)."""
    if a != b:
        assert email_skeleton(a + DOMAIN) != email_skeleton(b + DOMAIN)


def test_the_findings_addresses():
    assert canonical_email("lisa.ſims@h.example") == canonical_email("LISA.SIMS@h.example") == "lisa.sims@h.example"
    assert canonical_email("lısa.sims@h.example") != "lisa.sims@h.example"
    assert email_skeleton("lısa.sims@h.example") == email_skeleton("lisa.sims@h.example")
    assert email_skeleton("gabrıela.ward@h.example") == email_skeleton("gabriela.ward@h.example")
    assert email_skeleton("admın@h.example") == email_skeleton("admin@h.example")
