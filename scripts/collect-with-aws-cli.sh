#!/usr/bin/env bash
# Collects cwl-audit snapshots with the AWS CLI and jq only, for accounts where no binary may run
# (e.g. AWS CloudShell). Writes the same files as `cwl-audit collect`: OUT/<account>/<region>.json,
# docs/snapshot-format.md. Makes exactly the calls of `cwl-audit iam-policy`, all read-only.
#
#   scripts/collect-with-aws-cli.sh --out DIR [--regions a,b | --all-regions] [--profile P] [--redact-endpoints]
#
# Region default: AWS_REGION, else the profile's region. The CLI's own settings apply (credentials,
# AWS_ENDPOINT_URL, retries: set AWS_RETRY_MODE=adaptive for large accounts).
# Exit codes as `collect`: 0 complete, 3 partial (failed calls are in the snapshots' `errors`),
# 2 nothing usable (no credentials, no region, every call failed).
set -uo pipefail

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "collect-with-aws-cli: error: $*" >&2; exit 2; }

OUT="" REGIONS="" ALL=0 REDACT=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:-}"; shift 2 ;;
    --regions) REGIONS="${2:-}"; shift 2 ;;
    --all-regions) ALL=1; shift ;;
    --profile) export AWS_PROFILE="${2:-}"; shift 2 ;;
    --redact-endpoints) REDACT=1; shift ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
[ -n "$OUT" ] || usage
command -v aws >/dev/null || die "the AWS CLI (aws) is not on PATH"
command -v jq >/dev/null || die "jq is not on PATH"
export AWS_PAGER=""

WORK=$(mktemp -d) || die "cannot create a temporary directory"
trap 'rm -rf "$WORK"' EXIT
ERRORS_TOTAL=0 OK_TOTAL=0

# call SERVICE OPERATION RESOURCE OUTFILE -- aws ARGS...: runs one CLI call (the CLI paginates);
# on failure appends {service, operation, resource, code, message} to $ERRFILE and returns 1.
call() {
  local service=$1 operation=$2 resource=$3 outfile=$4; shift 5
  if aws "$@" --output json >"$outfile" 2>"$WORK/stderr"; then
    OK_TOTAL=$((OK_TOTAL + 1)); return 0
  fi
  local text code message
  text=$(tr '\n' ' ' <"$WORK/stderr" | sed 's/  *$//')
  # "An error occurred (CODE) when calling the OPERATION operation: MESSAGE"
  code=$(printf '%s' "$text" | sed -n 's/.*An error occurred (\([^)]*\)).*/\1/p')
  message=$(printf '%s' "$text" | sed -n 's/.*An error occurred ([^)]*) when calling the [A-Za-z]* operation[^:]*: *//p')
  case "$code" in
    "") code="CliError"; message="$text" ;;
    403) code="AccessDenied" ;;   # a 403 without an AWS error code, as `cwl-audit collect` reads it
  esac
  jq -n --arg s "$service" --arg o "$operation" --arg r "$resource" --arg c "$code" --arg m "$message" \
    '{service: $s, operation: $o, resource: (if $r == "" then null else $r end), code: $c, message: $m}' >>"$ERRFILE"
  ERRORS_TOTAL=$((ERRORS_TOTAL + 1))
  return 1
}

# Timestamps as ISO-8601 strings whatever the CLI's cli_timestamp_format (v1 prints epoch numbers).
ISO='def iso: if type == "number" then todate else . end;'

CONFIGURED_REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null)}}
STS_REGION=${CONFIGURED_REGION:-$(cut -d, -f1 <<<"$REGIONS")}
identity=$(aws sts get-caller-identity --region "${STS_REGION:-us-east-1}" --output json 2>"$WORK/stderr") \
  || die "cannot identify the account (STS GetCallerIdentity): $(tr '\n' ' ' <"$WORK/stderr")"
ACCOUNT=$(jq -r .Account <<<"$identity")
PARTITION=$(jq -r '.Arn | split(":")[1]' <<<"$identity")

DEFAULT_REGIONS="ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-north-1 eu-west-1 eu-west-2 eu-west-3 sa-east-1 us-east-1 us-east-2 us-west-1 us-west-2"
case "$PARTITION" in
  aws-cn) DEFAULT_REGIONS="cn-north-1 cn-northwest-1"; ACCOUNT_API_REGION=cn-northwest-1 ;;
  aws-us-gov) DEFAULT_REGIONS="us-gov-east-1 us-gov-west-1"; ACCOUNT_API_REGION=us-gov-west-1 ;;
  *) ACCOUNT_API_REGION=us-east-1 ;;
esac
if [ "$ALL" = 1 ]; then
  if listed=$(aws account list-regions --region "$ACCOUNT_API_REGION" \
      --region-opt-status-contains ENABLED ENABLED_BY_DEFAULT --output json 2>"$WORK/stderr") \
     && [ -n "$(jq -r '.Regions[]?.RegionName' <<<"$listed")" ]; then
    REGIONS=$(jq -r '[.Regions[].RegionName] | join(",")' <<<"$listed")
  else
    echo "warning: cannot list the enabled regions (Account ListRegions); collecting the regions enabled by default in every account, so opt-in regions are not collected" >&2
    REGIONS=$(tr ' ' ',' <<<"$DEFAULT_REGIONS")
  fi
elif [ -z "$REGIONS" ]; then
  REGIONS=$CONFIGURED_REGION
fi
[ -n "$REGIONS" ] || die "no region to collect: pass --regions or --all-regions, or configure a region"

COLLECTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
CLI_VERSION=$(aws --version 2>&1 | head -n1)
WRITTEN=0

for REGION in $(tr ',' '\n' <<<"$REGIONS" | sed '/^$/d' | sort -u); do
  D="$WORK/$REGION"; mkdir -p "$D"
  ERRFILE="$D/errors.jsonl"; : >"$ERRFILE"
  R=(--region "$REGION")

  if call cloudtrail DescribeTrails "" "$D/trails.json" -- cloudtrail describe-trails --include-shadow-trails "${R[@]}"; then
    echo '{}' >"$D/status.json"; echo '{}' >"$D/selectors.json"
    for ARN in $(jq -r --arg r "$REGION" '.trailList[]? | select(.HomeRegion == $r) | .TrailARN' "$D/trails.json"); do
      if call cloudtrail GetTrailStatus "$ARN" "$D/st.json" -- cloudtrail get-trail-status --name "$ARN" "${R[@]}"; then
        jq --arg a "$ARN" --slurpfile s "$D/st.json" "$ISO"'. + {($a): ($s[0] | del(.ResponseMetadata) | with_entries(if (.key | test("Time$")) then .value |= iso else . end))}' \
          "$D/status.json" >"$D/tmp" && mv "$D/tmp" "$D/status.json"
      fi
      if call cloudtrail GetEventSelectors "$ARN" "$D/sel.json" -- cloudtrail get-event-selectors --trail-name "$ARN" "${R[@]}"; then
        jq --arg a "$ARN" --slurpfile s "$D/sel.json" '. + {($a): ($s[0] | del(.ResponseMetadata))}' \
          "$D/selectors.json" >"$D/tmp" && mv "$D/tmp" "$D/selectors.json"
      fi
    done
    jq --slurpfile st "$D/status.json" --slurpfile se "$D/selectors.json" \
      '{cloudtrail: {trailList: ((.trailList // []) | sort_by(.TrailARN)), status: $st[0], selectors: $se[0]}}' \
      "$D/trails.json" >"$D/part-cloudtrail.json"
  fi
  if call logs DescribeMetricFilters "" "$D/filters.json" -- logs describe-metric-filters "${R[@]}"; then
    jq '{logs: {metricFilters: ((.metricFilters // []) | sort_by(.logGroupName, .filterName))}}' \
      "$D/filters.json" >"$D/part-logs.json"
  fi
  if call cloudwatch DescribeAlarms "" "$D/alarms.json" -- cloudwatch describe-alarms --alarm-types MetricAlarm CompositeAlarm "${R[@]}"; then
    jq "$ISO"'def times: with_entries(if (.key | test("Timestamp$")) then .value |= iso else . end);
      {cloudwatch: {MetricAlarms: ((.MetricAlarms // []) | map(times) | sort_by(.AlarmArn)),
                    CompositeAlarms: ((.CompositeAlarms // []) | map(times) | sort_by(.AlarmArn))}}' \
      "$D/alarms.json" >"$D/part-cloudwatch.json"
  fi
  if call sns ListSubscriptions "" "$D/subs.json" -- sns list-subscriptions "${R[@]}"; then
    jq '{sns: {Subscriptions: ((.Subscriptions // []) | sort_by(.SubscriptionArn))}}' "$D/subs.json" >"$D/part-sns.json"
    if [ "$REDACT" = 1 ]; then
      map='{}'
      while IFS= read -r ep; do
        h=$(printf '%s' "$ep" | sha256sum | cut -d' ' -f1)
        map=$(jq --arg e "$ep" --arg h "redacted:sha256:$h" '. + {($e): $h}' <<<"$map")
      done < <(jq -r '.sns.Subscriptions[].Endpoint // empty' "$D/part-sns.json")
      jq --argjson m "$map" '.sns.Subscriptions |= map(if .Endpoint then .Endpoint = $m[.Endpoint] else . end)' \
        "$D/part-sns.json" >"$D/tmp" && mv "$D/tmp" "$D/part-sns.json"
    fi
  fi

  mkdir -p "$OUT/$ACCOUNT" || die "cannot create $OUT/$ACCOUNT"
  target="$OUT/$ACCOUNT/$REGION.json"
  tmp=$(mktemp "$OUT/$ACCOUNT/.cwl-audit-XXXXXX.tmp") || die "cannot write in $OUT/$ACCOUNT"
  jq -S -s --arg account "$ACCOUNT" --arg partition "$PARTITION" --arg region "$REGION" \
      --arg at "$COLLECTED_AT" --arg cli "$CLI_VERSION" --slurpfile errors <(jq -s 'sort_by(.service, .operation, .resource, .code)' "$ERRFILE") \
    'add // {} | . + {format: "cwl-audit.snapshot/v1", account_id: $account, partition: $partition,
       region: $region, collected_at: $at,
       collector: {name: "collect-with-aws-cli.sh", version: $cli}, errors: $errors[0]}' \
    "$D"/part-*.json /dev/null >"$tmp" && mv "$tmp" "$target" || die "cannot write $target"
  WRITTEN=$((WRITTEN + 1))
  if [ -s "$ERRFILE" ]; then
    jq -r --arg r "$REGION" '"error: \($r): \(.service) \(.operation)\(if .resource then " " + .resource else "" end): \(.code): \(.message)"' "$ERRFILE" >&2
  fi
done

echo "account $ACCOUNT ($PARTITION): $WRITTEN snapshots written to $OUT/$ACCOUNT, $ERRORS_TOTAL calls failed" >&2
if [ "$OK_TOTAL" -eq 0 ]; then
  echo "collect-with-aws-cli: error: nothing usable was collected: every call failed" >&2; exit 2
elif [ "$ERRORS_TOTAL" -gt 0 ]; then
  echo "collect-with-aws-cli: partial collection: $ERRORS_TOTAL calls failed (recorded in the snapshots' errors)" >&2; exit 3
fi
exit 0
