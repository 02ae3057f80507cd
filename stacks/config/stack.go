package config

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/logs"
)

// Keys of the stack section.
const (
	KeyEnvironment      = "environment"
	KeyAccountID        = "accountId"
	KeyLogRetentionDays = "logRetentionDays"
)

// Environments the platform knows; each selects its own safety defaults.
var Environments = []string{"dev", "staging", "prod"}

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

var stackSection = section{
	keys: []key{
		{KeyEnvironment, "string", "dev", func(c *Config) any { return &c.Environment }},
		{KeyAccountID, "string", nil, func(c *Config) any { return &c.AccountID }},
		{KeyLogRetentionDays, "integer", 90, func(c *Config) any { return &c.LogRetentionDays }},
	},
	validate: func(c *Config, p *check.Problems) {
		if !slices.Contains(Environments, c.Environment) {
			p.Add(KeyEnvironment, "%q is not allowed; allowed: %s", c.Environment, quoteAll(Environments))
		}
		if !accountIDPattern.MatchString(c.AccountID) {
			p.Add(KeyAccountID, "%q is not an AWS account id; allowed: exactly 12 digits", c.AccountID)
		}
		if !logs.ValidRetention(c.LogRetentionDays) {
			p.Add(KeyLogRetentionDays, "%d is not a CloudWatch Logs retention; allowed: %v", c.LogRetentionDays, logs.RetentionDays)
		}
	},
}

// Protected reports whether the environment's data gets deletion
// protection and final snapshots: staging too, since testers' data in it
// is expensive to rebuild; dev never, so it tears down in one command.
func (c *Config) Protected() bool { return c.Environment != "dev" }

// SecretRecoveryWindowDays: dev deletes secrets at once so a stack can be
// rebuilt under the same names; elsewhere a deleted secret stays
// recoverable for a while.
func (c *Config) SecretRecoveryWindowDays() int {
	switch c.Environment {
	case "dev":
		return 0
	case "staging":
		return 7
	default:
		return 30
	}
}

// DisplayName is the name prefix of one region's resources.
func (c *Config) DisplayName(project, region string) string {
	return fmt.Sprintf("%s-%s-%s", project, c.Environment, region)
}

// StackName is the name prefix of the stack's resources that belong to no
// region (topics, stack-wide secrets), e.g. "ecommerce-prod".
func (c *Config) StackName(project string) string {
	return fmt.Sprintf("%s-%s", project, c.Environment)
}

// DefaultTags are put on every taggable AWS resource through the provider.
func (c *Config) DefaultTags(project, region string) map[string]string {
	return map[string]string{
		"project":     project,
		"environment": c.Environment,
		"region":      region,
		"managed-by":  "pulumi",
	}
}

func quoteAll(items []string) string {
	q := ""
	for i, s := range items {
		if i > 0 {
			q += ", "
		}
		q += fmt.Sprintf("%q", s)
	}
	return q
}
