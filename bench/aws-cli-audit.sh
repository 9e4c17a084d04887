#!/usr/bin/env bash
# For comparison: an access-key audit the way shell scripts do it, with the AWS CLI.
#   per-user: list the users, then for the first $SAMPLE of them list their keys and each key's last use.
#   report:   generate the credential report and download it.
# Needs: AWS (the command that runs the AWS CLI), PROFILE, ENDPOINT, SAMPLE.
set -euo pipefail
: "${AWS:?}" "${PROFILE:?}" "${ENDPOINT:?}"
aws() { $AWS --endpoint-url "$ENDPOINT" --profile "$PROFILE" "$@"; }

case "${1:-}" in
  per-user)
    for user in $(aws iam list-users --max-items "${SAMPLE:?}" --query 'Users[].UserName' --output text | head -n 1); do
      for key in $(aws iam list-access-keys --user-name "$user" --query 'AccessKeyMetadata[].AccessKeyId' --output text); do
        aws iam get-access-key-last-used --access-key-id "$key" --output text > /dev/null
      done
    done
    ;;
  report)
    until [ "$(aws iam generate-credential-report --query State --output text)" = COMPLETE ]; do sleep 1; done
    aws iam get-credential-report --query Content --output text | base64 -d > /dev/null
    ;;
  *) echo "usage: $0 per-user|report" >&2; exit 2 ;;
esac
