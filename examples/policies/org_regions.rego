# METADATA
# title: Every account has snapshots of at least two regions
# description: |
#   Regions that are never collected cannot be audited. An organization-level rule that looks only at
#   which snapshots were loaded, not at their contents.
# related_resources:
#   - ref: https://example.com/runbooks/collection
#     description: Internal collection runbook
# custom:
#   id: ORG-001
#   severity: LOW
#   recommended_action: Collect every enabled region (cwl-audit collect --all-regions).
#   frameworks:
#     internal: ["COLL-2"]
#   remediation: |
#     Collect every region enabled for the account:
#
#     ```sh
#     cwl-audit collect --all-regions --out snapshots/
#     ```
package examples.org.regions

# The regions of this account that have a snapshot.
regions := sort(object.keys(input.regions))

decision := {
	"verdict": "pass",
	"message": sprintf("%d regions collected (%s)", [count(regions), concat(", ", regions)]),
} if {
	count(regions) >= 2
} else := {
	"verdict": "fail",
	"message": sprintf("only %s was collected", [regions[0]]),
	"link": "regions",
	"resource": sprintf("arn:aws:organizations::%s:account", [input.account_id]),
	"location": {"account_id": input.account_id, "region": regions[0], "pointer": ""},
}
