import pytest


@pytest.fixture
def as_(client, request):
    """Sign the test client in as the named persona fixture."""

    def sign_in(persona: str):
        client.force_login(request.getfixturevalue(persona))
        return client

    return sign_in
