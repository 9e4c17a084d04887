# Seeds moto's backends in-process, before its server answers (bench/org.ts starts moto with it through
# test/support/moto.ts, AWS_REKEY_MOTO_SEED): an organisation (the management account 123456789012 and
# `accounts` accounts made by CreateAccount), then in each account `users` IAM users with one access key each.
# Over HTTP the same seeding took 635 s for 20 x 500 users on a busy machine; in-process it takes seconds.
#
# Arguments (JSON in AWS_REKEY_MOTO_SEED_ARGS):
#   accounts, users  the organisation's size;
#   ownerEvery       every n-th user gets the tag aws-rekey:owner=team-<i % 7>@example.com (0: none);
#   ageSpreadDays    0: every key created now; n: the keys' ages spread evenly over 0..n-1 days, user i's key
#                    (i * n // users) days old (moto sets CreateDate to
#                    now and has no call to change it; here the model's create_date is set directly).
#
# One change to moto's behaviour, for speed only: GetAccessKeyLastUsed in moto scans every key of every user
# of every account for each call (O(all users)); with 10,000 users that scan, not aws-rekey, is the
# benchmark. It is given an index by key id first and falls back to moto's own scan, so its answers stay
# moto's (a deleted or unknown key is still looked up, and refused, by moto's code). Keys made later
# (CreateAccessKey) join the index.
import datetime
import json
import os

from moto.iam.models import IAMBackend, iam_backends
from moto.organizations.models import organizations_backends

MANAGEMENT_ACCOUNT = "123456789012"

args = json.loads(os.environ.get("AWS_REKEY_MOTO_SEED_ARGS") or "{}")
accounts = int(args.get("accounts", 0))
users = int(args.get("users", 0))
owner_every = int(args.get("ownerEvery", 0))
age_spread = int(args.get("ageSpreadDays", 0))

organizations = organizations_backends[MANAGEMENT_ACCOUNT]["aws"]
organizations.create_organization(region="us-east-1", FeatureSet="ALL")
account_ids = []
for index in range(accounts):
    status = organizations.create_account(AccountName=f"bench-{index}", Email=f"bench-{index}@example.com")
    account_ids.append(status["CreateAccountStatus"]["AccountId"])

now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
index_by_key = {}
for account_index, account_id in enumerate(account_ids):
    iam = iam_backends[account_id]["aws"]
    for i in range(users):
        user_name = f"svc-{account_index}-{i:04d}"
        tags = [{"Key": "aws-rekey:owner", "Value": f"team-{i % 7}@example.com"}] if owner_every and i % owner_every == 0 else []
        iam.create_user(region_name="us-east-1", user_name=user_name, tags=tags)
        key = iam.create_access_key(user_name)
        if age_spread:
            key.create_date = now - datetime.timedelta(days=i * age_spread // users, minutes=1)
        index_by_key[key.access_key_id] = (account_id, user_name)

moto_get_access_key_last_used = IAMBackend.get_access_key_last_used


def get_access_key_last_used(self, access_key_id):
    found = index_by_key.get(access_key_id)
    if found:
        account_id, user_name = found
        user = iam_backends[account_id][self.partition].users.get(user_name)
        for key in user.access_keys if user else []:
            if key.access_key_id == access_key_id:
                return {"user_name": key.user_name, "last_used": key.last_used}
    return moto_get_access_key_last_used(self, access_key_id)


moto_create_access_key = IAMBackend.create_access_key


def create_access_key(self, user_name, *more, **named):
    key = moto_create_access_key(self, user_name, *more, **named)
    index_by_key[key.access_key_id] = (self.account_id, user_name)
    return key


IAMBackend.get_access_key_last_used = get_access_key_last_used
IAMBackend.create_access_key = create_access_key
print(f"moto-seed: {accounts} accounts x {users} users", flush=True)
