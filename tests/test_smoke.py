from tests.support.helpers import sign_up


async def test_viewer(api):
    alice = await sign_up("alice")
    data = await api.signed_in(alice).execute("{ viewer { username } }")
    assert data == {"viewer": {"username": "alice"}}
