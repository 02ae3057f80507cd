package stacks

// DataConfig holds the database, cache and messaging settings (filled in by
// the data layer).
type DataConfig struct{}

func dataKeys() []string { return nil }

func parseData(_ *reader, _ *Config) {}

func parsedDataValidate(_ *Config, _ *problems) {}
