package config

import (
	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/observe"
)

// KeyAlarms is the alarms section's key: who the alarms notify and their
// thresholds (components/observe.Settings).
const KeyAlarms = "alarms"

var observeSection = section{
	keys: []key{
		{KeyAlarms, "object", observe.DefaultSettings(), func(c *Config) any {
			// Fields the stack leaves out keep their defaults.
			c.Alarms = observe.DefaultSettings()
			return &c.Alarms
		}},
	},
	validate: func(c *Config, p *check.Problems) {
		p.Merge(KeyAlarms, c.Alarms.Check())
	},
}
