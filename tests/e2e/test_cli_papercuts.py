"""What a newcomer trips on in the CLI's output, against a started platform: the outcome of a
`--wait` said once, a secrets label that tells the truth, one reveal command, an admin told why
they may not reveal another team's secrets, and a start banner that says how to use the portal."""

from __future__ import annotations

from tests.e2e.conftest import ADMIN_TOKEN, Cli, Provisioned, Server


def test_wait_says_succeeded_once(provisioned: Provisioned) -> None:
    said = [line for line in provisioned.result.stdout.splitlines() if "succeeded" in line]
    # Each step's row says its own status; the request's outcome is one line.
    outcome = [line for line in said if line.startswith(f"Request {provisioned.request_id}")]
    assert outcome == [f"Request {provisioned.request_id} succeeded."], provisioned.result.stdout


def test_the_secrets_label_says_they_can_be_revealed_again_and_they_can(
    cli: Cli, provisioned: Provisioned
) -> None:
    assert "shown once" not in provisioned.result.stdout
    assert f"goldenpath secrets reveal {provisioned.request_id}` shows them again" in (
        provisioned.result.stdout
    )

    again = cli("secrets", "reveal", provisioned.request_id)

    assert again.code == 0, again.stderr
    assert f"password: {provisioned.password}" in again.stdout


def test_one_reveal_command(cli: Cli, provisioned: Provisioned) -> None:
    assert cli("requests", "reveal", provisioned.request_id).code == 2  # no such command
    assert "reveal" not in cli("requests", "--help").stdout


def test_an_admin_of_another_team_sees_the_request_and_is_told_why_not_its_secrets(
    cli: Cli, provisioned: Provisioned
) -> None:
    admin = cli.as_user(ADMIN_TOKEN)  # platform admin, member of `default` only, not of `e2e`
    assert admin("requests", "show", provisioned.request_id).code == 0

    refused = admin("secrets", "reveal", provisioned.request_id)

    assert refused.code == 8, refused  # access denied, not 3 (not found)
    assert "only to members of the owning team 'e2e'" in refused.stderr
    assert provisioned.password not in refused.stdout + refused.stderr


def test_the_start_banner_says_how_to_sign_in_to_the_portal(server: Server) -> None:
    banner = server.log.read_text()
    assert f"portal:    {server.url}/ (sign in with a user's name and password" in banner
    assert "goldenpath users passwd NAME" in banner
