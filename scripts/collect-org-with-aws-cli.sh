#!/usr/bin/env bash
# `collect --organization` with the AWS CLI and jq only (e.g. AWS CloudShell in the management
# account): every ACTIVE account of the organization, each with scripts/collect-with-aws-cli.sh
# (the calling account with its own credentials, every other with the member role's from
# `aws sts assume-role`), then the run manifest OUT/cwl-audit-manifest.json (docs/snapshot-format.md,
# "Run manifest v1"), so that `cwl-audit eval` reports an account that could not be collected as
# unknown instead of leaving it out.
#
#   scripts/collect-org-with-aws-cli.sh --member-role NAME --out DIR [--regions a,b | --all-regions]
#       [--accounts ID,...] [--external-id X] [--profile P] [--redact-endpoints]
#
# One account at a time, and no --ou, --resume or --shard: for those (and for large organizations)
# use the cwl-audit binary. The manifest is written at the end (atomically); an interrupted run
# leaves the previous one. Exit codes as `collect --organization`: 0 every active account
# collected, 3 some failed or partial (see the manifest), 2 nothing usable.
set -uo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "collect-org-with-aws-cli: error: $*" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
OUT="" ROLE="" EXTERNAL_ID="" ONLY="" PASS=()
REGIONS_ARG="" ALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:-}"; shift 2 ;;
    --member-role) ROLE="${2:-}"; shift 2 ;;
    --external-id) EXTERNAL_ID="${2:-}"; shift 2 ;;
    --accounts) ONLY="${2:-}"; shift 2 ;;
    --regions) REGIONS_ARG="${2:-}"; PASS+=(--regions "${2:-}"); shift 2 ;;
    --all-regions) ALL=1; PASS+=(--all-regions); shift ;;
    --profile) export AWS_PROFILE="${2:-}"; shift 2 ;;
    --redact-endpoints) PASS+=(--redact-endpoints); shift ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
[ -n "$OUT" ] && [ -n "$ROLE" ] || usage
ONLY=$(tr -d ' \t' <<<"$ONLY")
[[ "$ROLE" =~ ^[A-Za-z0-9+=,.@_-]{1,64}$ ]] || die "--member-role $ROLE is not a role name"
command -v aws >/dev/null || die "the AWS CLI (aws) is not on PATH"
command -v jq >/dev/null || die "jq is not on PATH"
export AWS_PAGER=""
WORK=$(mktemp -d) || die "cannot create a temporary directory"
trap 'rm -rf "$WORK"' EXIT

STS_REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null)}}
STS_REGION=${STS_REGION:-$(cut -d, -f1 <<<"${REGIONS_ARG:-us-east-1}")}
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
identity=$(aws sts get-caller-identity --region "$STS_REGION" --output json 2>"$WORK/err") \
  || die "cannot identify the account (STS GetCallerIdentity): $(tr '\n' ' ' <"$WORK/err")"
CALLER=$(jq -r .Account <<<"$identity")
PARTITION=$(jq -r '.Arn | split(":")[1]' <<<"$identity")
[[ "$CALLER" =~ ^[0-9]{12}$ ]] || die "STS returned the account id $CALLER, which is not 12 digits"
case "$PARTITION" in aws-cn) ORG_REGION=cn-northwest-1 ;; aws-us-gov) ORG_REGION=us-gov-west-1 ;; *) ORG_REGION=us-east-1 ;; esac
org=$(aws organizations describe-organization --region "$ORG_REGION" --output json 2>"$WORK/err") \
  || die "cannot read the organization (Organizations DescribeOrganization): $(tr '\n' ' ' <"$WORK/err")"
listed=$(aws organizations list-accounts --region "$ORG_REGION" --output json 2>"$WORK/err") \
  || die "cannot list the accounts (Organizations ListAccounts): $(tr '\n' ' ' <"$WORK/err")"

# A name as a terminal may show it: control, line-separator and bidi characters become spaces (as
# cwl-audit's own output does), so an account name cannot colour, move or reorder the log.
shown() {
  printf '%s' "$1" | LC_ALL=C sed $'s/[\x01-\x1f\x7f]/ /g; s/\xc2[\x80-\x9f]/ /g; s/\xd8\x9c/ /g; s/\xe2\x80[\x8e\x8f\xa8-\xae]/ /g; s/\xe2\x81[\xa6-\xa9]/ /g'
}

# An --accounts id that is not in the organization is a usage error (a typo would collect nothing).
if [ -n "$ONLY" ]; then
  members=$(jq -r '.Accounts[].Id' <<<"$listed")
  for want in ${ONLY//,/ }; do
    grep -qx -- "$want" <<<"$members" || die "--accounts: $(shown "$want") not in the organization; nothing was collected"
  done
fi

# The AWS error code of a failed CLI call's stderr ("An error occurred (CODE) when calling ...").
error_code() { sed -n 's/.*An error occurred (\([^)]*\)).*/\1/p' "$1" | head -n1; }

: >"$WORK/entries.jsonl"
: >"$WORK/invalid.jsonl"
ok=0 bad=0
# Names go through base64: @tsv would turn a tab, a newline or a backslash in a name into
# escapes, and the manifest must hold the name exactly as Organizations has it.
while IFS=$'\t' read -r id name64 state; do
  name=$(printf '%s' "$name64" | base64 -d)
  if ! [[ "$id" =~ ^[0-9]{12}$ ]]; then
    # Never a path; recorded so that the run is partial and eval says the organization is not proven.
    echo "warning: Organizations listed the account id $(shown "$id"), which is not 12 digits: not collected" >&2
    jq -Rn --arg id "$id" '$id | tojson' >>"$WORK/invalid.jsonl"; continue
  fi
  entry=$(jq -cn --arg id "$id" --arg name "$name" --arg state "$state" \
    '{account_id: $id, name: $name} + (if $state == "" then {} else {state: $state} end)')
  if [ "$state" != ACTIVE ]; then
    reason=$(tr 'A-Z_' 'a-z ' <<<"${state:-no state reported by Organizations}")
    jq -c --arg r "$reason" '. + {status: "skipped", reason: $r}' <<<"$entry" >>"$WORK/entries.jsonl"; continue
  fi
  if [ -n "$ONLY" ] && ! tr ',' '\n' <<<"$ONLY" | grep -qx "$id"; then
    jq -c '. + {status: "skipped", reason: "not in --accounts"}' <<<"$entry" >>"$WORK/entries.jsonl"; continue
  fi
  echo "account $id ($(shown "$name"))" >&2
  code=0
  if [ "$id" = "$CALLER" ]; then
    "$HERE/collect-with-aws-cli.sh" --out "$OUT" "${PASS[@]}" 2>"$WORK/err" || code=$?
  else
    x=(); [ -n "$EXTERNAL_ID" ] && x=(--external-id "$EXTERNAL_ID")
    if ! creds=$(aws sts assume-role --region "$STS_REGION" --role-arn "arn:$PARTITION:iam::$id:role/$ROLE" \
        --role-session-name cwl-audit "${x[@]}" --output json 2>"$WORK/err"); then
      c=$(error_code "$WORK/err")
      echo "error: account $id ($(shown "$name")) failed: AssumeRole: ${c:-CliError}" >&2
      jq -c --arg c "${c:-CliError}" --arg m "$(tr '\n' ' ' <"$WORK/err")" \
        '. + {status: "failed", error: {operation: "AssumeRole", code: $c, message: $m}}' <<<"$entry" >>"$WORK/entries.jsonl"
      bad=$((bad + 1)); continue
    fi
    # The role's credentials replace the caller's: environment credentials, no profile.
    env -u AWS_PROFILE AWS_ACCESS_KEY_ID="$(jq -r .Credentials.AccessKeyId <<<"$creds")" \
      AWS_SECRET_ACCESS_KEY="$(jq -r .Credentials.SecretAccessKey <<<"$creds")" \
      AWS_SESSION_TOKEN="$(jq -r .Credentials.SessionToken <<<"$creds")" \
      "$HERE/collect-with-aws-cli.sh" --out "$OUT" "${PASS[@]}" 2>"$WORK/err" || code=$?
  fi
  grep -E '^(error|warning|collect-with-aws-cli):' "$WORK/err" >&2
  # The regions written by this collection, complete or partial by their `errors`.
  regions='{}'
  for f in "$OUT/$id"/*.json; do
    # Only this run's (a file of an earlier run may be there for another region).
    if [ -f "$f" ] && jq -e --arg t "$STARTED_AT" '.collected_at >= $t' "$f" >/dev/null; then
      regions=$(jq -c --arg r "$(basename "$f" .json)" --slurpfile s "$f" \
        '. + {($r): (if ($s[0].errors | length) == 0 then "complete" else "partial" end)}' <<<"$regions")
    fi
  done
  case "$code" in
    0) status=collected; ok=$((ok + 1)) ;;
    3) status=partial; ok=$((ok + 1)); bad=$((bad + 1)) ;;
    *) status=failed; bad=$((bad + 1)) ;;
  esac
  if [ "$status" = failed ]; then
    c=$(cat "$OUT/$id"/*.json 2>/dev/null | jq -rs '[.[].errors[]?.code] | group_by(.) | max_by(length) | .[0] // "NoRegion"')
    echo "error: account $id ($(shown "$name")) failed: collect: $c" >&2
    jq -c --arg c "$c" --argjson r "$regions" \
      '. + {status: "failed", error: {operation: "collect", code: $c}} + (if $r == {} then {} else {regions: $r} end)' \
      <<<"$entry" >>"$WORK/entries.jsonl"
  else
    jq -c --arg s "$status" --argjson r "$regions" '. + {status: $s, regions: $r}' <<<"$entry" >>"$WORK/entries.jsonl"
  fi
done < <(jq -r '.Accounts[] | [.Id, ((.Name // "") | @base64), (.State // .Status // "")] | @tsv' <<<"$listed")

mkdir -p "$OUT" || die "cannot create $OUT"
tmp=$(mktemp "$OUT/.cwl-audit-XXXXXX.tmp") || die "cannot write in $OUT"
if ! jq -s --argjson org "$org" --arg caller "$CALLER" --arg partition "$PARTITION" --arg role "$ROLE" \
    --arg regions "$([ "$ALL" = 1 ] && echo "" || echo "$REGIONS_ARG")" --argjson all "$([ "$ALL" = 1 ] && echo true || echo false)" \
    --arg only "$ONLY" --arg started "$STARTED_AT" --arg finished "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --arg cli "$(aws --version 2>&1 | head -n1)" --slurpfile invalid "$WORK/invalid.jsonl" \
  '{format: "cwl-audit.manifest/v1",
    organization: {id: $org.Organization.Id, management_account_id: $org.Organization.MasterAccountId, partition: $partition},
    caller_account_id: $caller, member_role: $role,
    regions: ($regions | split(",") | map(select(. != "")) | unique)}
   + (if $all then {all_regions: true} else {} end)
   + {selection: (if $only == "" then {} else {accounts: ($only | split(",") | unique)} end),
      started_at: $started, finished_at: $finished,
      collector: {name: "collect-org-with-aws-cli.sh", version: $cli},
      accounts: (. | sort_by(.account_id))}
   + (if ($invalid | length) > 0 then {invalid_account_ids: $invalid} else {} end)' \
  "$WORK/entries.jsonl" >"$tmp"; then
  die "cannot write the manifest"
fi
mv "$tmp" "$OUT/cwl-audit-manifest.json" || die "cannot write the manifest"

echo "organization $(jq -r .Organization.Id <<<"$org"): $ok accounts collected, $bad failed or partial; manifest $OUT/cwl-audit-manifest.json" >&2
if [ "$ok" -eq 0 ] && [ "$bad" -gt 0 ]; then exit 2; fi
[ "$bad" -gt 0 ] && exit 3
[ -s "$WORK/invalid.jsonl" ] && exit 3
exit 0
