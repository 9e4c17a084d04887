#!/usr/bin/env bash
# Provision moto (a real IAM/STS implementation, server and HTTPS-proxy modes) and the AWS CLI for the
# integration tests, without PyPI and without installing system packages.
#
# stdout: one line, the PYTHONPATH to run `/usr/bin/python3 -m moto.server` / `-m moto.proxy` / the AWS CLI
#         with. Empty when Debian's python already has everything (then the CLI is /usr/bin/aws); otherwise
#         <cache>/usr/lib/python3/dist-packages, and the CLI is <cache>/usr/bin/aws.
# stderr: progress. Exit status non-zero, with the reason, when anything cannot be fetched or does not work.
#
# How: a private apt configuration (own sources.list with bookworm + trixie `main`, own lists/cache/state,
# nothing under /etc/apt or /var/lib/dpkg touched) downloads the .debs with `apt-get download`; `dpkg -x`
# unpacks them into ${AWS_REKEY_CACHE:-$HOME/.cache/aws-rekey}/moto. A stamp file makes reruns instant.
#
# Versions (checked when this was written: bookworm 12.x, trixie 13.x):
#  - Everything comes from bookworm, so that the compiled modules (cryptography, markupsafe, yaml,
#    awscrt, ruamel.yaml.clib, cffi) match /usr/bin/python3 (3.11), except python3-moto, which bookworm
#    does not have: trixie's (5.1.x) is pure Python (Architecture: all).
#  - moto 5.1 requires boto3>=1.9.201 and botocore>=1.14.0 (!=1.35.45/46): bookworm's boto3 1.26 /
#    botocore 1.29 satisfy that, and IAM/STS (all these tests use) work with them. No newer botocore needed.
#  - bookworm's awscli is AWS CLI v2 (2.9.x). It vendors its own botocore and s3transfer (awscli/botocore),
#    so it never imports bookworm's botocore: the two cannot conflict.
#  - moto's CloudFormation imports openapi_spec_validator, which Debian ships only for trixie's Python 3.13
#    (python3-openapi-spec-validator needs python3-rpds-py, compiled for 3.13): the tests add a stand-in
#    for it (test/support/python/README.md), so nothing here provides it.
#  - Left out on purpose: non-Python dependencies (ca-certificates, tzdata, libssl3, libyaml, groff-base,
#    lsb-release, libjs-*, docutils-common: the base system has what is needed at run time), alternatives
#    already satisfied by python 3.11 (python3-importlib-metadata), and python3-antlr4 (a moto Depends
#    used only by its Step Functions parser, never imported for IAM/STS).
set -euo pipefail

PY=/usr/bin/python3
MIRROR=${AWS_REKEY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

BOOKWORM_PACKAGES=(
  # moto's server and proxy
  python3-boto3 python3-botocore python3-s3transfer python3-jmespath
  python3-flask python3-flask-cors python3-werkzeug python3-markupsafe python3-itsdangerous python3-click
  python3-blinker python3-jinja2 python3-responses python3-requests python3-urllib3 python3-idna
  python3-certifi python3-charset-normalizer python3-chardet python3-six python3-xmltodict
  python3-cryptography python3-cffi-backend python3-dateutil python3-yaml python3-multipart
  # the AWS CLI (v2)
  awscli python3-awscrt python3-colorama python3-distro python3-docutils python3-roman python3-pyasn1
  python3-prompt-toolkit python3-wcwidth python3-ruamel.yaml python3-ruamel.yaml.clib
)
TRIXIE_PACKAGES=(python3-moto)

log() { printf 'provision-moto: %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

[[ -x $PY ]] || die "$PY not found: moto runs on Debian's own python3 (apt-get install python3)"

# 1. Already there (a system-wide moto[server] and AWS CLI for Debian's python)?
if $PY -c 'import moto.server, moto.proxy, flask, flask_cors' >/dev/null 2>&1 && [[ -x /usr/bin/aws ]]; then
  log "moto and the AWS CLI are already available to $PY"
  echo ""
  exit 0
fi

CACHE_ROOT=${AWS_REKEY_CACHE:-$HOME/.cache/aws-rekey}
TREE=$CACHE_ROOT/moto
SITE=$TREE/usr/lib/python3/dist-packages
STAMP=$TREE/.provisioned
# The stamp names what was provisioned: changing the package lists (or the python) provisions anew.
WANT="v1 $($PY -c 'import sys; print(sys.version.split()[0])') bookworm:${BOOKWORM_PACKAGES[*]} trixie:${TRIXIE_PACKAGES[*]}"

if [[ -f $STAMP && "$(head -n1 "$STAMP")" == "$WANT" ]]; then
  echo "$SITE"
  exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found: this script needs a Debian-like system"
command -v dpkg >/dev/null || die "dpkg not found: this script needs a Debian-like system"
command -v flock >/dev/null || die "flock not found (util-linux)"
[[ -r $KEYRING ]] || die "$KEYRING not found (package debian-archive-keyring)"

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/moto.lock"
if ! flock -n 9; then
  log "waiting for another provisioning to finish ($CACHE_ROOT/moto.lock)"
  flock 9
fi
# Someone else may have finished while we waited.
if [[ -f $STAMP && "$(head -n1 "$STAMP")" == "$WANT" ]]; then
  echo "$SITE"
  exit 0
fi

START=$(date +%s)
WORK=$(mktemp -d "$CACHE_ROOT/moto.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
APT=$WORK/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/preferences.d" "$WORK/debs" "$WORK/tree"
touch "$APT/status"
cat >"$APT/sources.list" <<EOF
deb [signed-by=$KEYRING] $MIRROR bookworm main
deb [signed-by=$KEYRING] $MIRROR trixie main
EOF
APT_OPTS=(
  -o "Dir::Etc::SourceList=$APT/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::Etc::Preferences=/dev/null"
  -o "Dir::Etc::PreferencesParts=$APT/preferences.d"
  -o "Dir::State::Lists=$APT/lists"
  -o "Dir::State::status=$APT/status"
  -o "Dir::Cache=$APT/cache"
  -o "APT::Default-Release=bookworm"
  -o "Acquire::Languages=none"
  -o "Acquire::Retries=3"
  -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1"
)

log "apt-get update (private lists: bookworm + trixie main from $MIRROR)"
if ! apt-get "${APT_OPTS[@]}" -q update >"$WORK/update.log" 2>&1; then
  cat "$WORK/update.log" >&2
  die "apt-get update failed"
fi
# apt-get update exits 0 on some fetch failures: insist on both indexes.
for suite in bookworm trixie; do
  compgen -G "$APT/lists/*_dists_${suite}_main_binary-*_Packages*" >/dev/null || {
    cat "$WORK/update.log" >&2
    die "no package index for $suite main was fetched"
  }
done

SPECS=()
for p in "${BOOKWORM_PACKAGES[@]}"; do SPECS+=("$p/bookworm"); done
for p in "${TRIXIE_PACKAGES[@]}"; do SPECS+=("$p/trixie"); done
log "apt-get download ${#SPECS[@]} packages"
if ! (cd "$WORK/debs" && apt-get "${APT_OPTS[@]}" -q download "${SPECS[@]}") >"$WORK/download.log" 2>&1; then
  cat "$WORK/download.log" >&2
  die "apt-get download failed"
fi
shopt -s nullglob
DEBS=("$WORK"/debs/*.deb)
shopt -u nullglob
((${#DEBS[@]} == ${#SPECS[@]})) || {
  cat "$WORK/download.log" >&2
  die "expected ${#SPECS[@]} .deb files, got ${#DEBS[@]}"
}

log "unpacking with dpkg -x"
for deb in "${DEBS[@]}"; do
  dpkg -x "$deb" "$WORK/tree" || die "dpkg -x $(basename "$deb") failed"
  dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb" >>"$WORK/versions"
done

W_SITE=$WORK/tree/usr/lib/python3/dist-packages
log "checking the unpacked tree with $PY"
# -s: no user site-packages; the system dist-packages stay on the path after ours, harmlessly.
if ! PYTHONPATH=$W_SITE PYTHONNOUSERSITE=1 PYTHONDONTWRITEBYTECODE=1 $PY -c '
import moto, moto.server, moto.proxy, flask, flask_cors, boto3, botocore
print("moto", moto.__version__, "boto3", boto3.__version__, "botocore", botocore.__version__)
' >"$WORK/check.log" 2>&1; then
  cat "$WORK/check.log" >&2
  die "moto does not import from the unpacked packages"
fi
log "$(cat "$WORK/check.log")"
if ! PYTHONPATH=$W_SITE PYTHONNOUSERSITE=1 PYTHONDONTWRITEBYTECODE=1 $PY "$WORK/tree/usr/bin/aws" --version >"$WORK/aws.log" 2>&1; then
  cat "$WORK/aws.log" >&2
  die "the AWS CLI does not run from the unpacked packages"
fi
log "$(cat "$WORK/aws.log")"

rm -rf "$TREE"
mv "$WORK/tree" "$TREE"
# Compile ahead (in place, so tracebacks name the real files) so that the first moto start is not slowed
# down by it. Not fatal: python compiles on import anyway.
PYTHONPATH=$SITE $PY -m compileall -q -j 0 "$SITE/moto/core" "$SITE/moto/iam" "$SITE/moto/sts" \
  "$SITE/moto/moto_server" "$SITE/moto/moto_proxy" "$SITE/moto/moto_api" >/dev/null 2>&1 || true
{
  echo "$WANT"
  sort "$WORK/versions"
} >"$STAMP"
log "provisioned $TREE in $(($(date +%s) - START)) s"
echo "$SITE"
