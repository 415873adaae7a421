"""A secret given with -e is checked for template markers like the vault's secrets.

ansible-core 2.19 trusts every -e value as a template, whatever its form (key=value, JSON, a
@file): `-e vault_postgres_password='x{{ 7*7 }}'` reaches the app as x49. Only `!unsafe` in a
-e @file keeps the value as written.
"""

from conftest import REPO, run_playbook
from test_preflight import GOOD_BASE, SANDBOX_SETTINGS


def test_a_secret_given_with_e_that_reads_as_a_template_is_refused(tmp_path):
    unsafe_file = tmp_path / "secrets.yml"
    unsafe_file.write_text("vault_ingress_basic_auth_password: !unsafe 'b{{ 7*7 }}'\n")
    result = run_playbook(
        REPO / "playbooks/preflight.yml",
        "-i",
        str(REPO / "tests/inventory/local.yml"),
        *SANDBOX_SETTINGS,
        # As an operator types it on the command line.
        "-e",
        "vault_postgres_password=x{{ 7*7 }}",
        "-e",
        f"@{unsafe_file}",
        # JSON (run_playbook's -e comes last).
        extra_vars={**GOOD_BASE, "vault_django_secret_key": "k{{ 6*7 }}"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    # Both named, in onebox_required_secrets' order; the basic-auth password, marked !unsafe in
    # its -e @file (taken as written), is not (it would come last in the list).
    named = "vault_postgres_password, vault_django_secret_key given with -e"
    assert named in output, output[-3000:]
    assert "!unsafe" in output
