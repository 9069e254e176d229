"""``email_breaks``: an address in a narrow table cell wraps after its "@" and before its dots,
never mid-word, and stays escaped."""

from accounts.templatetags.mentormatch import email_breaks


def test_an_address_may_wrap_after_the_at_and_before_each_dot():
    assert email_breaks("leilani.ahmed@demo.mentormatch.org") == (
        "leilani<wbr>.ahmed@<wbr>demo<wbr>.mentormatch<wbr>.org"
    )


def test_markup_in_an_address_is_escaped_before_the_breaks_go_in():
    assert email_breaks('<b>"x"@y.org') == "&lt;b&gt;&quot;x&quot;@<wbr>y<wbr>.org"


def test_no_address_is_an_empty_cell():
    assert email_breaks(None) == ""
