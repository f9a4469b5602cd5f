"""Numbers from paths, queries and bodies are ASCII digits only: other scripts' digits are
not numbers (``"³"`` used to reach ``int()`` and answer 500; ``"٣"`` was read as 3)."""

from __future__ import annotations

from smartdc.emulator.params import is_number
from tests.emulator.checks import error_of
from tests.emulator.signing import SignedClient


def test_only_ascii_digits_are_numbers() -> None:
    assert is_number("3") and is_number("4095")
    for text in ("³", "٣", "३", "", "-1", "1.5", " 1"):
        assert not is_number(text), text


def test_a_vlan_id_in_another_script_is_no_vlan(client: SignedClient) -> None:
    for raw in ("%C2%B3", "%D9%A3"):
        response = client.get(f"/my/fabrics/default/vlans/{raw}")
        assert response.status_code == 404, raw
        assert error_of(response)[1] == "ResourceNotFound"
    assert client.get("/my/fabrics/default/vlans/2").status_code == 200
