package edge_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/edge"
)

func TestOriginRecordsPerModel(t *testing.T) {
	const api = "api.shop.example.com"
	origin, standby := "origin."+api, "standby.origin."+api
	cases := []struct {
		name, model, master string
		regions             []string
		want                []edge.OriginRecord
	}{
		{"single region: a plain alias", edge.SingleRegion, "us-east-1", []string{"us-east-1"}, []edge.OriginRecord{
			{Logical: "origin", Name: origin, Target: "us-east-1"},
		}},
		{"active-active: latency, each with its check", edge.ActiveActive, "us-east-1", []string{"us-east-1", "eu-west-1"}, []edge.OriginRecord{
			{Logical: "origin-us-east-1", Name: origin, SetIdentifier: "us-east-1", Latency: "us-east-1", Target: "us-east-1", HealthCheck: "us-east-1"},
			{Logical: "origin-eu-west-1", Name: origin, SetIdentifier: "eu-west-1", Latency: "eu-west-1", Target: "eu-west-1", HealthCheck: "eu-west-1"},
		}},
		{"primary-standby, one standby", edge.PrimaryStandby, "us-east-1", []string{"us-east-1", "eu-west-1"}, []edge.OriginRecord{
			{Logical: "origin-primary", Name: origin, SetIdentifier: "primary", Failover: edge.Primary, Target: "us-east-1", HealthCheck: "us-east-1"},
			{Logical: "origin-secondary", Name: origin, SetIdentifier: "secondary", Failover: edge.Secondary, Target: "eu-west-1", HealthCheck: "eu-west-1"},
		}},
		{"primary-standby after a failover: roles move, names stay", edge.PrimaryStandby, "eu-west-1", []string{"us-east-1", "eu-west-1"}, []edge.OriginRecord{
			{Logical: "origin-primary", Name: origin, SetIdentifier: "primary", Failover: edge.Primary, Target: "eu-west-1", HealthCheck: "eu-west-1"},
			{Logical: "origin-secondary", Name: origin, SetIdentifier: "secondary", Failover: edge.Secondary, Target: "us-east-1", HealthCheck: "us-east-1"},
		}},
		{"primary-standby, two standbys behind latency records", edge.PrimaryStandby, "us-east-1", []string{"us-east-1", "eu-west-1", "ap-south-1"}, []edge.OriginRecord{
			{Logical: "origin-primary", Name: origin, SetIdentifier: "primary", Failover: edge.Primary, Target: "us-east-1", HealthCheck: "us-east-1"},
			{Logical: "origin-secondary", Name: origin, SetIdentifier: "secondary", Failover: edge.Secondary, AliasName: standby},
			{Logical: "standby-eu-west-1", Name: standby, SetIdentifier: "eu-west-1", Latency: "eu-west-1", Target: "eu-west-1", HealthCheck: "eu-west-1"},
			{Logical: "standby-ap-south-1", Name: standby, SetIdentifier: "ap-south-1", Latency: "ap-south-1", Target: "ap-south-1", HealthCheck: "ap-south-1"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := edge.OriginRecords(tc.model, tc.master, tc.regions, api)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestOriginRecordsRefuseWhatRoute53Would(t *testing.T) {
	for _, tc := range []struct {
		model, master string
		regions       []string
	}{
		{edge.SingleRegion, "us-east-1", []string{"us-east-1", "eu-west-1"}},
		{edge.PrimaryStandby, "us-east-1", []string{"us-east-1"}},
		{edge.ActiveActive, "us-east-1", []string{"us-east-1"}},
		{edge.ActiveActive, "us-west-2", []string{"us-east-1", "eu-west-1"}},
		{"round-robin", "us-east-1", []string{"us-east-1", "eu-west-1"}},
	} {
		_, err := edge.OriginRecords(tc.model, tc.master, tc.regions, "api.shop.example.com")
		assert.Error(t, err, "%s with master %s on %v", tc.model, tc.master, tc.regions)
	}
}

// Whatever the model, every routed record answers with a health check,
// or aliases a set of records that do.
func TestEveryRoutedRecordIsHealthChecked(t *testing.T) {
	regions := []string{"us-east-1", "eu-west-1", "ap-south-1"}
	for _, model := range []string{edge.PrimaryStandby, edge.ActiveActive} {
		for n := 2; n <= len(regions); n++ {
			recs, err := edge.OriginRecords(model, "eu-west-1", regions[:n], "api.shop.example.com")
			require.NoError(t, err)
			for _, r := range recs {
				require.NotEmpty(t, r.SetIdentifier, "%s: %s is routed", model, r.Logical)
				assert.True(t, r.HealthCheck != "" || r.AliasName != "", "%s with %d regions: %s has a health check", model, n, r.Logical)
			}
		}
	}
}
