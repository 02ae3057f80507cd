package pack_test

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/example/ecommerce-platform/policies/pack"
	"github.com/example/ecommerce-platform/policies/rules"
)

// manager collects what a policy reports, as the analyzer server does.
type manager struct{ got []violation }

type violation struct{ message, urn string }

func (m *manager) ReportViolation(message, urn string) {
	m.got = append(m.got, violation{message, urn})
}

func policy(t *testing.T, name string) policyx.Policy {
	t.Helper()
	p, err := pack.New(nil)
	require.NoError(t, err)
	for _, pol := range p.Policies() {
		if pol.Name() == name {
			return pol
		}
	}
	t.Fatalf("no policy %s", name)
	return nil
}

func awsProvider(region, env string) policyx.AnalyzerProviderResource {
	return policyx.AnalyzerProviderResource{
		Type: "pulumi:providers:aws", Name: "aws-" + region, URN: "urn:pulumi:prod::ecommerce::pulumi:providers:aws::aws-" + region,
		Properties: resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(map[string]any{
			"region": region, "defaultTags": map[string]any{"tags": map[string]any{"environment": env}},
		})),
	}
}

func analyzed(typ, name string, inputs resource.PropertyMap, provider policyx.AnalyzerProviderResource) policyx.AnalyzerResource {
	return policyx.AnalyzerResource{
		Type: typ, Name: name, URN: "urn:pulumi:prod::ecommerce::" + typ + "::" + name,
		Properties: resource.FromResourcePropertyMap(inputs), Provider: provider,
	}
}

func validate(t *testing.T, name string, r policyx.AnalyzerResource, config map[string]any) []violation {
	t.Helper()
	m := &manager{}
	rp, ok := policy(t, name).(policyx.ResourceValidationPolicy)
	require.True(t, ok, "%s is a resource policy", name)
	require.NoError(t, rp.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: m, Resource: r, Config: config}))
	return m.got
}

// The pack holds every rule with its own level, description and schema.
func TestPackHoldsEveryRule(t *testing.T) {
	p, err := pack.New(nil)
	require.NoError(t, err)
	assert.Equal(t, pack.Name, p.Name())
	all := rules.All()
	require.Len(t, p.Policies(), len(all))
	for i, pol := range p.Policies() {
		r := all[i]
		assert.Equal(t, r.Name, pol.Name())
		assert.Equal(t, r.Description, pol.Description())
		want := policyx.EnforcementLevelAdvisory
		if r.Level == rules.Mandatory {
			want = policyx.EnforcementLevelMandatory
		}
		assert.Equal(t, want, pol.EnforcementLevel(), r.Name)
		_, isStack := pol.(policyx.StackValidationPolicy)
		assert.Equal(t, r.Stack != nil, isStack, r.Name)
		if len(r.Settings) == 0 {
			assert.Nil(t, pol.ConfigSchema(), r.Name)
			continue
		}
		// The analyzer server sends the schema as a protobuf Struct; it
		// must convert, as GetAnalyzerInfo does.
		m := map[string]any{}
		for k, v := range pol.ConfigSchema().Properties {
			m[k] = v
		}
		_, err := structpb.NewStruct(m)
		assert.NoError(t, err, r.Name)
	}
}

// A resource as the engine sends it (property.Map with secrets and
// unknowns, the region in its provider) is judged as the rules judge it.
func TestResourcePolicyUnderTheEngine(t *testing.T) {
	eu := awsProvider("eu-west-1", "prod")
	replica := resource.NewPropertyMapFromMap(map[string]any{
		"replicateSourceDb": "arn:aws:rds:us-east-1:111111111111:db:primary",
		"kmsKeyId":          "arn:aws:kms:us-east-1:111111111111:key/abc",
		"password":          resource.MakeSecret(resource.NewStringProperty("x")),
		"allocatedStorage":  resource.MakeComputed(resource.NewStringProperty("")),
	})
	got := validate(t, "enforce-kms-key-same-region", analyzed("aws:rds/instance:Instance", "replica", replica, eu), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0].message, `aws:rds/instance:Instance "replica"`)
	assert.Contains(t, got[0].message, "kmsKeyId names a KMS key in us-east-1, but the resource is in eu-west-1")
	assert.Equal(t, "urn:pulumi:prod::ecommerce::aws:rds/instance:Instance::replica", got[0].urn)

	got = validate(t, "disallow-password-on-rds-replica", analyzed("aws:rds/instance:Instance", "replica", replica, eu), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0].message, "password is set on a read replica")
	assert.NotContains(t, got[0].message, `"x"`, "a secret's value is never printed")

	// Types a policy does not read are left alone.
	assert.Empty(t, validate(t, "enable-kms-key-rotation", analyzed("aws:rds/instance:Instance", "replica", replica, eu), nil))
}

// The environment comes from the resource's provider's default tags, and
// the engine's config (JSON numbers) tunes the settings.
func TestEnvironmentAndConfigUnderTheEngine(t *testing.T) {
	db := resource.NewPropertyMapFromMap(map[string]any{"backupRetentionPeriod": 3, "instanceClass": "db.t4g.micro"})
	assert.Empty(t, validate(t, "enforce-rds-backup-retention", analyzed("aws:rds/instance:Instance", "db", db, awsProvider("us-east-1", "dev")), nil))
	got := validate(t, "enforce-rds-backup-retention", analyzed("aws:rds/instance:Instance", "db", db, awsProvider("us-east-1", "prod")), nil)
	require.Len(t, got, 1)
	assert.Contains(t, got[0].message, "backupRetentionPeriod is 3; prod keeps at least 7 days")

	got = validate(t, "enforce-rds-backup-retention", analyzed("aws:rds/instance:Instance", "db", db, awsProvider("us-east-1", "dev")),
		map[string]any{"minimumDays": map[string]any{"dev": 5.0}})
	require.Len(t, got, 1, "config raises dev's minimum")

	rp := policy(t, "enforce-rds-backup-retention").(policyx.ResourceValidationPolicy)
	err := rp.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: &manager{},
		Resource: analyzed("aws:rds/instance:Instance", "db", db, awsProvider("us-east-1", "dev")),
		Config:   map[string]any{"minimumDays": "many"}})
	assert.ErrorContains(t, err, "enforce-rds-backup-retention.minimumDays: must be an object of integers keyed by environment")

	// Without a provider tag, the stack's ecommerce:environment config or
	// name decides; here neither, so prod's rules hold.
	got = validate(t, "enforce-rds-backup-retention", analyzed("aws:rds/instance:Instance", "db", db, policyx.AnalyzerProviderResource{}), nil)
	assert.Len(t, got, 1)
}

// IgnoreChanges reaches the rules from the resource options.
func TestIgnoreChangesUnderTheEngine(t *testing.T) {
	ng := analyzed("aws:eks/nodeGroup:NodeGroup", "nodes", resource.NewPropertyMapFromMap(map[string]any{
		"scalingConfig": map[string]any{"minSize": 2, "desiredSize": 2, "maxSize": 4},
	}), awsProvider("us-east-1", "prod"))
	assert.Len(t, validate(t, "enforce-node-group-autoscaler-desired-size", ng, nil), 1)
	ng.Options.IgnoreChanges = []string{"scalingConfig.desiredSize"}
	assert.Empty(t, validate(t, "enforce-node-group-autoscaler-desired-size", ng, nil))
}

// Stack policies see every resource with its dependencies.
func TestStackPolicyUnderTheEngine(t *testing.T) {
	us := awsProvider("us-east-1", "prod")
	key := analyzed("aws:kms/key:Key", "key", resource.NewPropertyMapFromMap(map[string]any{
		"policy": `{"Statement":[{"Sid":"ASG","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"},"Action":"kms:CreateGrant","Resource":"*"}]}`,
	}), us)
	slr := analyzed("aws:iam/serviceLinkedRole:ServiceLinkedRole", "asg", resource.NewPropertyMapFromMap(map[string]any{
		"awsServiceName": "autoscaling.amazonaws.com",
	}), us)
	sp := policy(t, "disallow-service-linked-role-principal").(policyx.StackValidationPolicy)

	m := &manager{}
	require.NoError(t, sp.Validate(context.Background(), policyx.StackValidationArgs{Manager: m, Resources: []policyx.AnalyzerResource{key, slr}}))
	require.Len(t, m.got, 1)
	assert.Contains(t, m.got[0].message, "does not depend on the stack's service-linked role")
	assert.Equal(t, key.URN, m.got[0].urn)

	key.Dependencies = []string{slr.URN}
	m = &manager{}
	require.NoError(t, sp.Validate(context.Background(), policyx.StackValidationArgs{Manager: m, Resources: []policyx.AnalyzerResource{key, slr}}))
	assert.Empty(t, m.got)
}
