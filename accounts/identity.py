"""One identity per e-mail address: the canonical key and the look-alike skeleton.

Two rules, used by every place that stores or looks up an address (sign-in, the API
token endpoint, invitations, password reset, the lockout counter, roster imports):

- **The canonical key** is Unicode's NFKC_Casefold of the whole address:
  NFKC, then full case folding, then NFKC again (UAX #15 and the Unicode standard's
  toNFKC_Casefold, written out because Python has no single call for it). ``Lisa.Sims@``,
  ``lisa.ſims@`` (long s) and ``ＬＩＳＡ.sims@`` (full-width) share one key. It is stored in
  ``User.email_key`` under a unique constraint, and lookups are exact matches on it, so no
  lookup can return two users, on SQLite or PostgreSQL (whose ``upper()`` would map the
  dotless ``ı`` to ``I``: a case-insensitive match on the raw address is never used).
- **The skeleton** is Unicode TS #39's confusable skeleton of the canonical key, as computed
  by ``disarm.skeleton_key``: ``gabrıela`` (dotless i), ``pаul`` (Cyrillic а) and ``gabriela``
  share one. A new address whose skeleton equals an existing account's, under a different
  key, is refused: it can only be a look-alike. disarm keeps the ASCII pairs that TS #39's
  table folds together (``rn``/``m``, ``1``/``l``, ``0``/``O``) apart, because two real
  colleagues may well be ``tom@`` and ``torn@``.

The address itself is stored as it was typed (lower-cased) and mail goes to it; only the
key decides who it is.
"""

import unicodedata

from disarm import skeleton_key


def canonical_email(address: str) -> str:
    """The address's canonical key: NFKC_Casefold of the whole address, stripped (after
    normalising too: NFKC turns some characters into a space and a combining mark)."""
    text = unicodedata.normalize("NFKC", (address or "").strip())
    return unicodedata.normalize("NFKC", text.casefold()).strip()


def email_skeleton(address: str) -> str:
    """The TS #39 confusable skeleton of the address's canonical key."""
    key = canonical_email(address)
    return skeleton_key(key) if key else ""
