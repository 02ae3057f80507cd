package config

import (
	"github.com/example/ecommerce-platform/components/centrallog"
	"github.com/example/ecommerce-platform/components/check"
)

// KeyCentralLogs is the central logs section's key: how long the master
// region's log bucket keeps every region's logs.
const KeyCentralLogs = "centralLogs"

// MinProdCentralLogDays is the shortest central retention prod accepts: a
// year, the audit-log history PCI DSS asks of a platform that takes
// payments.
const MinProdCentralLogDays = 365

// CentralLogs configures the central log bucket.
type CentralLogs struct {
	// RetentionDays expires every object of the bucket (S3 lifecycle).
	RetentionDays int `json:"retentionDays"`
}

// defaultCentralLogs is used when the stack does not say; each shipped
// stack sets its own.
var defaultCentralLogs = CentralLogs{RetentionDays: 90}

var centralLogsSection = section{
	keys: []key{
		{KeyCentralLogs, "object", defaultCentralLogs, func(c *Config) any {
			// Fields the stack leaves out keep their defaults.
			c.CentralLogs = defaultCentralLogs
			return &c.CentralLogs
		}},
	},
	validate: func(c *Config, p *check.Problems) {
		d := c.CentralLogs.RetentionDays
		field := KeyCentralLogs + ".retentionDays"
		switch {
		case d < centrallog.MinRetentionDays || d > centrallog.MaxRetentionDays:
			p.Add(field, "%d: allowed %d to %d days (an S3 lifecycle expiration is at least a day)", d, centrallog.MinRetentionDays, centrallog.MaxRetentionDays)
		case c.Environment == "prod" && d < MinProdCentralLogDays:
			p.Add(field, "%d: prod keeps its central logs at least %d days", d, MinProdCentralLogDays)
		}
	},
}
