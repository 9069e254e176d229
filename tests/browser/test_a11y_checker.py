"""The axe-core check in conftest.py must see our pages and must fail on what it finds;
otherwise every journey's "no serious violations" would pass vacuously."""

import pytest

from .conftest import check_a11y

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_axe_runs_under_the_content_security_policy_and_passes_the_login_page(page):
    page.goto("/accounts/login/")
    csp = page.evaluate("() => fetch(location.href).then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self'" in csp
    check_a11y(page, "login")
    # axe really ran on this document: it counted the form's rules as passed.
    passes = page.evaluate("() => axe.run(document).then(r => r.passes.map(p => p.id))")
    assert "label" in passes and "document-title" in passes


def test_axe_fails_a_page_with_a_serious_violation(page):
    page.goto("/accounts/login/")
    # An unlabelled input and a nameless button, added the way a careless template would.
    page.evaluate(
        """() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend', '<input type="text" id="nameless"><button id="empty"></button>');
        }"""
    )
    with pytest.raises(AssertionError) as failure:
        check_a11y(page, "broken-login")
    message = str(failure.value)
    assert "[critical] label" in message and "#nameless" in message
    assert "[critical] button-name" in message and "#empty" in message


def test_axe_fails_low_contrast_text_but_only_reports_moderate_findings(page):
    page.goto("/accounts/login/")
    # Text outside every landmark is a moderate finding ("region"): reported, not fatal.
    page.evaluate("() => document.body.insertAdjacentHTML('afterbegin', '<p id=\"stray\">Stray words</p>')")
    found = {violation["id"]: violation["impact"] for violation in check_a11y(page, "stray-text")}
    assert found == {"region": "moderate"}
    # Grey #aaa on white is 2.3:1, under the 4.5:1 body text needs: serious. Styled through
    # the CSSOM, which the policy allows (a style attribute in markup it would refuse).
    page.evaluate(
        """() => {
            const p = document.createElement('p');
            p.id = 'faint'; p.textContent = 'Hard to read'; p.style.color = '#aaa'; p.style.background = '#fff';
            document.querySelector('main').append(p);
        }"""
    )
    with pytest.raises(AssertionError) as failure:
        check_a11y(page, "faint-text")
    assert "[serious] color-contrast" in str(failure.value) and "#faint" in str(failure.value)
