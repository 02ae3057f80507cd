package config

import (
	"slices"

	"github.com/example/ecommerce-platform/components/backup"
	"github.com/example/ecommerce-platform/components/check"
)

// KeyBackup is the backup section's key (components/backup.Settings).
const KeyBackup = "backup"

// MinProdLockDays is the shortest vault lock floor prod accepts: a week,
// the time an account-level mistake or intrusion takes to be noticed.
const MinProdLockDays = 7

// defaultBackup is the plan when the stack does not say: five weeks of
// dailies, three months of weeklies, prod's lock floor.
var defaultBackup = backup.Settings{DailyRetentionDays: 35, WeeklyRetentionDays: 90, LockMinRetentionDays: MinProdLockDays}

var backupSection = section{
	keys: []key{
		{KeyBackup, "object", defaultBackup, func(c *Config) any {
			// Fields the stack leaves out keep their defaults.
			c.Backup = defaultBackup
			return &c.Backup
		}},
	},
	validate: func(c *Config, p *check.Problems) {
		b := c.Backup
		p.Merge(KeyBackup, b.Check())
		if r := b.CopyRegion; r != "" {
			switch {
			case !slices.ContainsFunc(c.Regions, func(x Region) bool { return x.Name == r }):
				p.Add(KeyBackup+".copyRegion", "%q is not one of the configured regions; the copies go to a vault the stack creates", r)
			case r == c.MasterRegion:
				p.Add(KeyBackup+".copyRegion", "%q is the master region: copies must survive its loss; leave it empty for the first region after the master", r)
			}
		}
		if c.Environment == "prod" && b.LockMinRetentionDays < MinProdLockDays {
			p.Add(KeyBackup+".lockMinRetentionDays", "%d: prod locks its vaults with a floor of at least %d days", b.LockMinRetentionDays, MinProdLockDays)
		}
	},
}

// BackupCopyRegion is where the plan copies the master's recovery points:
// the configured one (validation keeps it off the master), else the first
// region after the master ("" with a single region: no copy).
func (c *Config) BackupCopyRegion() string {
	if c.Backup.CopyRegion != "" {
		return c.Backup.CopyRegion
	}
	return c.BackupRegion()
}

// VaultLock is the lock of every vault: prod only (a lock in dev would keep
// a torn-down stack's snapshots for weeks).
func (c *Config) VaultLock() *backup.Lock {
	if c.Environment != "prod" {
		return nil
	}
	return &backup.Lock{MinRetentionDays: c.Backup.LockMinRetentionDays, ChangeableForDays: c.Backup.LockChangeableForDays}
}
