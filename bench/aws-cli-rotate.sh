#!/usr/bin/env bash
# For comparison: a key rotation the way the AWS blog and most hand-written scripts do it, one `aws` call
# per step (and no verification that survives propagation, no rollback, no lossless file edit).
# Needs: AWS (the command that runs the AWS CLI), PROFILE, ENDPOINT.
set -euo pipefail
: "${AWS:?}" "${PROFILE:?}" "${ENDPOINT:?}"
aws() { $AWS --endpoint-url "$ENDPOINT" "$@"; }

arn=$(aws sts get-caller-identity --profile "$PROFILE" --query Arn --output text)
user=${arn##*/}
old=$(aws configure get aws_access_key_id --profile "$PROFILE")
count=$(aws iam list-access-keys --user-name "$user" --profile "$PROFILE" --query 'length(AccessKeyMetadata)' --output text)
if [ "$count" -ge 2 ]; then echo "user $user already has two keys" >&2; exit 1; fi
read -r new_id new_secret < <(aws iam create-access-key --user-name "$user" --profile "$PROFILE" \
  --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
aws configure set aws_access_key_id "$new_id" --profile "$PROFILE"
aws configure set aws_secret_access_key "$new_secret" --profile "$PROFILE"
aws sts get-caller-identity --profile "$PROFILE" > /dev/null
aws iam update-access-key --user-name "$user" --access-key-id "$old" --status Inactive --profile "$PROFILE"
