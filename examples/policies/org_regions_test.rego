package examples.org.regions_test

import data.examples.org.regions

snapshot(region) := {"account_id": "111111111111", "region": region, "errors": []}

test_two_regions_pass if {
	d := regions.decision with input as {
		"account_id": "111111111111",
		"partition": "aws",
		"regions": {"us-east-1": snapshot("us-east-1"), "eu-west-1": snapshot("eu-west-1")},
	}
	d.verdict == "pass"
	d.message == "2 regions collected (eu-west-1, us-east-1)"
}

test_one_region_fails if {
	d := regions.decision with input as {
		"account_id": "111111111111",
		"partition": "aws",
		"regions": {"us-east-1": snapshot("us-east-1")},
	}
	d.verdict == "fail"
	d.message == "only us-east-1 was collected"
	d.location.region == "us-east-1"
}
