#!/usr/bin/env bash
# Offline checks of the infrastructure code in deploy/: Terraform formatting, validation and its
# tests (`terraform test`: deploy/terraform/tests/*.tftest.hcl on a mock AWS provider), against a
# local provider mirror since no registry is reachable; Packer formatting and validation;
# and the shell scripts checked by ShellCheck. A missing tool FAILS the check with how to install it
# (.ci/run installs what a fresh machine lacks): nothing is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/../.."

ok() { printf '  ok    %s\n' "$*"; }
skip() { printf '  SKIP  %s\n' "$*" >&2; }
missing() {
  printf '  FAIL  %s\n' "$*" >&2
  exit 1
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# --- Terraform ---------------------------------------------------------------------------------
if command -v terraform >/dev/null 2>&1; then
  # Our own CLI configuration, whatever the machine's says (it may name a file that is absent).
  export TF_CLI_CONFIG_FILE="$tmp/terraformrc" TF_IN_AUTOMATION=1
  : >"$TF_CLI_CONFIG_FILE"
  terraform fmt -check -recursive -diff deploy/terraform
  ok "terraform fmt -check -recursive deploy/terraform"

  # A provider mirror: WARMPOOL_TF_PROVIDER_MIRROR, else the usual places one is kept.
  mirror=""
  for d in "${WARMPOOL_TF_PROVIDER_MIRROR:-}" /opt/tf-plugins "$HOME/.terraform.d/plugins" \
    /usr/share/terraform/plugins /usr/local/share/terraform/plugins; do
    if [ -n "$d" ] && compgen -G "$d/registry.terraform.io/hashicorp/aws/*" >/dev/null; then
      mirror="$d"
      break
    fi
  done
  if [ -n "$mirror" ]; then
    # Work on a copy: init writes .terraform/ and a lock file that do not belong in the repo.
    cp -r deploy/terraform "$tmp/terraform"
    cat >"$TF_CLI_CONFIG_FILE" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
RC
    # Validating the example root validates the module it calls; one provider start (~6 s CPU).
    (
      cd "$tmp/terraform/examples/basic"
      export TF_DATA_DIR="$PWD/.terraform"
      unset TF_PLUGIN_CACHE_DIR
      terraform init -backend=false -input=false -no-color >"$tmp/init.log" 2>&1 ||
        { cat "$tmp/init.log" >&2; exit 1; }
      terraform validate -no-color
    ) >/dev/null
    ok "terraform validate deploy/terraform/examples/basic and the module (providers from $mirror)"

    # The module's own tests (mock AWS provider: no account, no network).
    (
      cd "$tmp/terraform"
      data="$PWD/.terraform"
      TF_DATA_DIR="$data" TF_PLUGIN_CACHE_DIR="" terraform init -backend=false -input=false -no-color \
        >"$tmp/init-module.log" 2>&1 || { cat "$tmp/init-module.log" >&2; exit 1; }
      TF_DATA_DIR="$data" TF_PLUGIN_CACHE_DIR="" terraform test -no-color >"$tmp/test.log" 2>&1 ||
        { cat "$tmp/test.log" >&2; exit 1; }
      grep -E '^Success!' "$tmp/test.log"
    ) | sed 's/^/        /'
    ok "terraform test deploy/terraform ($(find deploy/terraform/tests -name '*.tftest.hcl' | wc -l) test files)"
  else
    missing "terraform: no AWS provider mirror found: set WARMPOOL_TF_PROVIDER_MIRROR to a filesystem mirror holding registry.terraform.io/hashicorp/aws (\`terraform providers mirror DIR\` on a connected machine)"
  fi
else
  missing "terraform not installed: install it from HashiCorp's apt repository (apt-get install terraform) or its release zip into /usr/local/bin"
fi

# --- Packer ------------------------------------------------------------------------------------
if command -v packer >/dev/null 2>&1; then
  packer fmt -check deploy/packer >/dev/null || { packer fmt -check -diff deploy/packer; exit 1; }
  ok "packer fmt -check deploy/packer"
  packer validate -syntax-only deploy/packer >/dev/null
  ok "packer validate -syntax-only deploy/packer"
  # Packer before 1.10 bundles the amazon-ebs builder, so the full schema check needs no plugin.
  version="$(packer version | head -1 | sed -E 's/^Packer v([0-9]+\.[0-9]+).*/\1/')"
  if printf '%s\n1.10\n' "$version" | sort -V -C && [ "$version" != "1.10" ]; then
    (cd deploy/packer && packer validate -var region=eu-west-1 \
      -var pool_image=registry.example/agent@sha256:0000000000000000000000000000000000000000000000000000000000000000 .) >/dev/null
    ok "packer validate deploy/packer (amazon-ebs builder of Packer $version)"
  else
    skip "packer validate (full): Packer $version has no bundled amazon-ebs builder offline"
  fi
else
  missing "packer not installed: apt-get install packer"
fi

# --- shell in deploy/ --------------------------------------------------------------------------
for f in deploy/packer/scripts/*.sh deploy/docker/warmpool.sh; do bash -n "$f"; done
if command -v shellcheck >/dev/null 2>&1; then
  shellcheck -s bash deploy/packer/scripts/*.sh hack/checks/*.sh .ci/run
  shellcheck -s sh deploy/docker/warmpool.sh
  ok "shellcheck deploy/packer/scripts deploy/docker"
else
  missing "shellcheck not installed: apt-get install shellcheck"
fi
