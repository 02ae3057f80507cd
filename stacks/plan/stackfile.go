package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"gopkg.in/yaml.v3"
)

// Project is what the plan needs from Pulumi.yaml.
type Project struct {
	Name           string
	StackConfigDir string
	// Defaults are the declared defaults, by full key ("ecommerce:regions").
	Defaults map[string]string
}

// LoadProject reads and validates Pulumi.yaml in dir with the Pulumi SDK's
// own loader, so a project file the CLI would reject fails here too.
func LoadProject(dir string) (*Project, error) {
	proj, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}
	p := &Project{Name: proj.Name.String(), StackConfigDir: proj.StackConfigDir, Defaults: map[string]string{}}
	for key, t := range proj.Config {
		if t.Default == nil {
			continue
		}
		v, err := encode(t.Default)
		if err != nil {
			return nil, fmt.Errorf("config %s declared in Pulumi.yaml: %w", key, err)
		}
		p.Defaults[p.fullKey(key)] = v
	}
	return p, nil
}

func (p *Project) fullKey(key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return p.Name + ":" + key
}

// Config merges the project defaults with the stack file's values, as the
// Pulumi CLI does, into the map a program receives (objects and arrays
// JSON-encoded). Encrypted values cannot be read offline and are refused.
func (p *Project) Config(dir, stack string) (map[string]string, error) {
	path := filepath.Join(dir, p.StackConfigDir, "Pulumi."+stack+".yaml")
	b, err := os.ReadFile(path) //nolint:gosec // reading the named stack file is the point
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("stack %q: no stack file %s", stack, path)
	}
	if err != nil {
		return nil, err
	}
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(map[string]string, len(p.Defaults)+len(file.Config))
	for k, v := range p.Defaults {
		out[k] = v
	}
	for key, value := range file.Config {
		if m, ok := value.(map[string]any); ok {
			if _, secure := m["secure"]; secure && len(m) == 1 {
				return nil, fmt.Errorf("%s: %s is encrypted; the offline plan cannot decrypt it", path, key)
			}
		}
		v, err := encode(value)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		out[p.fullKey(key)] = v
	}
	return out, nil
}

// encode renders a YAML value the way Pulumi passes config to programs.
func encode(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool, int, int64, float64:
		return fmt.Sprint(t), nil
	default:
		b, err := json.Marshal(t)
		return string(b), err
	}
}
