package platform

import "testing"

func TestRegionOfARN(t *testing.T) {
	for _, tc := range []struct{ arn, fallback, want string }{
		{"arn:aws:sns:us-east-1:123456789012:ecommerce-prod-order-events", "eu-west-1", "us-east-1"},
		{"arn:aws:sns:ap-south-1:000000000000:local-topic", "us-east-1", "ap-south-1"},
		{"arn:aws:iam::123456789012:role/x", "eu-west-1", "eu-west-1"},
		{"not-an-arn", "eu-west-1", "eu-west-1"},
		{"", "us-east-1", "us-east-1"},
	} {
		if got := RegionOfARN(tc.arn, tc.fallback); got != tc.want {
			t.Errorf("RegionOfARN(%q, %q) = %q, want %q", tc.arn, tc.fallback, got, tc.want)
		}
	}
}
