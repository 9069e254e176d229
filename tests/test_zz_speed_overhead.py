import pytest

@pytest.mark.parametrize("i", range(300))
def test_db(db, i):
    pass

@pytest.mark.parametrize("i", range(300))
def test_nodb(i):
    pass
