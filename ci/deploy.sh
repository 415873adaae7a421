#!/usr/bin/env bash
# Deploys one environment from a CI job: the same image to staging, then to production.
#
#   ci/deploy.sh <staging|production> <image>      e.g. ci/deploy.sh staging registry/team/onebox-app:3f2c1e0
#
# Needs, from the CI's secret store: ONEBOX_VAULT_PASSWORD and ONEBOX_SSH_PRIVATE_KEY; from its
# variables: ONEBOX_SSH_KNOWN_HOSTS (the VM's host key line, `ssh-keyscan <vm>`). Steps: check
# mode with a diff (printed, nothing changes), the real run, then a health check through the
# public URL. A failed health check fails the job and says how to roll back.
set -euo pipefail

die() {
  echo "deploy: $*" >&2
  exit 2
}

environment="${1:-}"
image="${2:-}"
case "$environment" in
  staging | production) ;;
  *) die "usage: ci/deploy.sh <staging|production> <image> (got environment '${environment}')" ;;
esac
[[ "$image" == *:* && "$image" != *:latest ]] ||
  die "the image must be pinned by tag or digest, e.g. <repository>:<commit sha> (got '${image}')"

missing=()
for name in ONEBOX_VAULT_PASSWORD ONEBOX_SSH_PRIVATE_KEY ONEBOX_SSH_KNOWN_HOSTS; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
if ((${#missing[@]} > 0)); then
  die "refusing to deploy ${environment}: ${missing[*]} not set. Add ONEBOX_VAULT_PASSWORD and" \
    "ONEBOX_SSH_PRIVATE_KEY as secrets and ONEBOX_SSH_KNOWN_HOSTS as a variable in your CI" \
    "(GitHub: Settings > Secrets and variables > Actions; GitLab: Settings > CI/CD > Variables," \
    "masked and protected). See README.md, 'Deploying from CI'."
fi

cd "$(dirname "$0")/.."
secrets_dir="$(mktemp -d)"
trap 'rm -rf "$secrets_dir"' EXIT
(
  umask 077
  printf '%s\n' "$ONEBOX_VAULT_PASSWORD" >"$secrets_dir/vault-password"
  printf '%s\n' "$ONEBOX_SSH_PRIVATE_KEY" >"$secrets_dir/ssh-key"
  printf '%s\n' "$ONEBOX_SSH_KNOWN_HOSTS" >"$secrets_dir/known_hosts"
)
export ANSIBLE_VAULT_PASSWORD_FILE="$secrets_dir/vault-password"
export ANSIBLE_PRIVATE_KEY_FILE="$secrets_dir/ssh-key"
export ANSIBLE_SSH_COMMON_ARGS="-o UserKnownHostsFile=$secrets_dir/known_hosts -o StrictHostKeyChecking=yes"
export ANSIBLE_FORCE_COLOR=1

make venv
playbook=(.venv/bin/ansible-playbook -i "inventories/${environment}" -e "app_image=${image}")

echo "=== ${environment}: what would change (check mode, nothing is applied)"
"${playbook[@]}" site.yml --check --diff

echo "=== ${environment}: deploying ${image}"
"${playbook[@]}" site.yml

echo "=== ${environment}: health check"
if ! "${playbook[@]}" playbooks/healthcheck.yml; then
  echo "deploy: ${environment} is not healthy after deploying ${image}." >&2
  echo "deploy: roll back to the image deployed before it with:" >&2
  echo "  ansible-playbook playbooks/rollback.yml -i inventories/${environment} --ask-vault-pass" >&2
  exit 1
fi
echo "=== ${environment}: ${image} is live"
