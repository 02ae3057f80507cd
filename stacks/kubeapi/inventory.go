package kubeapi

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/example/ecommerce-platform/stacks/plan"
)

// Cluster is the objects one Kubernetes provider (one cluster) would create.
type Cluster struct {
	// Provider is the provider's logical name; Region its region.
	Provider, Region string
	Objects          []Object
	// Namespaces are created on it by something this check cannot render
	// (a Helm release with createNamespace).
	Namespaces []string
}

// Skipped is a Kubernetes resource that yields no object to check.
type Skipped struct {
	Type, Name, Reason string
}

func (s Skipped) String() string { return s.Type + " " + s.Name + ": " + s.Reason }

// Objects is what FromInventory found.
type Objects struct {
	// Clusters in the order their providers were registered.
	Clusters []*Cluster
	Skipped  []Skipped
}

// Count is the number of objects over all clusters.
func (o *Objects) Count() int {
	n := 0
	for _, c := range o.Clusters {
		n += len(c.Objects)
	}
	return n
}

const providerType = "pulumi:providers:kubernetes"

// FromInventory turns every Kubernetes resource of a mock plan into the
// object the Pulumi Kubernetes provider would send, grouped by the provider
// (cluster) it goes to:
//
//   - apiVersion and kind from the inputs, else from the type token
//     (kubernetes:apps/v1:Deployment; core/v1 is plain v1);
//   - metadata.name from the inputs or, when neither name nor generateName
//     is set, the provider's auto-name: logical name, a dash and 8
//     pseudo-random hex digits (seeded by the URN here, so runs repeat)
//     with the pulumi.com/autonamed annotation;
//   - a namespaced object without a namespace goes to its provider's
//     namespace, else "default".
//
// Providers, Helm releases and charts, YAML and kustomize groups (rendered
// by the provider at deploy time, so not offline), patches of objects the
// program does not own, and component resources are skipped and listed.
//
// It fails on an object that carries a secret value: by design no
// Kubernetes object holds a credential (the services read theirs from
// Secrets Manager). It fails as well on a value unknown at plan time, which
// could not be sent.
func FromInventory(inv *plan.Inventory) (*Objects, error) {
	out := &Objects{}
	clusters := map[string]*Cluster{}
	cluster := func(p *plan.Resource) *Cluster {
		c, ok := clusters[p.URN]
		if !ok {
			c = &Cluster{Provider: p.Name, Region: p.Region}
			clusters[p.URN] = c
			out.Clusters = append(out.Clusters, c)
		}
		return c
	}
	// The charts each cluster's Helm releases install, for the kinds whose
	// CRDs come with a chart.
	charts := map[string]map[string]bool{}
	for _, r := range inv.Resources {
		if strings.HasPrefix(r.Type, "kubernetes:helm.sh/") {
			if p, c := inv.ProviderOf(r), r.Inputs["chart"]; p != nil && c.IsString() {
				if charts[p.URN] == nil {
					charts[p.URN] = map[string]bool{}
				}
				charts[p.URN][c.StringValue()] = true
			}
		}
	}
	var problems []string
	for _, r := range inv.Resources {
		if r.Type == providerType {
			cluster(r)
			out.Skipped = append(out.Skipped, Skipped{r.Type, r.Name, "a provider: it configures the connection to a cluster, it is no object"})
			continue
		}
		if !strings.HasPrefix(r.Type, "kubernetes:") {
			continue
		}
		reason := skipReason(r)
		if chart, ok := chartKinds[r.Type]; ok && reason == "" {
			// Skipped only where the chart that defines the kind is
			// installed on the same cluster; elsewhere the server says
			// it serves no such kind, as a new cluster would.
			if p := inv.ProviderOf(r); p != nil && charts[p.URN][chart] {
				reason = fmt.Sprintf("its CRD comes with the %s chart, rendered by Helm at deploy time; the stack tests check its fields", chart)
			}
		}
		if reason != "" {
			out.Skipped = append(out.Skipped, Skipped{r.Type, r.Name, reason})
			if ns := helmNamespace(r); ns != "" {
				if p := inv.ProviderOf(r); p != nil {
					c := cluster(p)
					c.Namespaces = append(c.Namespaces, ns)
				}
			}
			continue
		}
		p := inv.ProviderOf(r)
		if p == nil {
			problems = append(problems, fmt.Sprintf("%s: created without an explicit Kubernetes provider, so the cluster it lands on is unknown", r.URN))
			continue
		}
		obj, err := toObject(r)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if ns := p.Inputs["namespace"]; ns.IsString() {
			obj.DefaultNamespace = ns.StringValue()
		}
		c := cluster(p)
		c.Objects = append(c.Objects, obj)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("kubeapi: %d Kubernetes resource(s) cannot be sent to a server:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return out, nil
}

// chartKinds are the custom resource kinds the program creates whose CRDs
// a Helm chart of the program installs, with that chart. The server here
// does not serve them (the charts cannot be fetched offline), so they are
// skipped where their chart is installed.
var chartKinds = map[string]string{
	"kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding": "aws-load-balancer-controller",
}

// skipReason says why a Kubernetes resource yields no object, or "".
func skipReason(r *plan.Resource) string {
	module, kind := tokenParts(r.Type)
	switch {
	case strings.HasPrefix(module, "helm.sh/"):
		return "rendered by Helm at deploy time; its chart cannot be fetched offline"
	case strings.HasPrefix(module, "yaml"), strings.HasPrefix(module, "kustomize"):
		return "its objects are rendered by the provider at deploy time, not offline"
	case !r.Custom:
		return "a component: the objects it creates are checked as its children"
	case strings.HasSuffix(kind, "Patch"):
		return "patches an object it does not create (server-side apply of a partial object)"
	case strings.HasSuffix(kind, "List"):
		return "a list type: create its items as their own resources to have them checked"
	}
	return ""
}

// helmNamespace is the namespace a Helm release creates, if it does.
func helmNamespace(r *plan.Resource) string {
	if !strings.HasPrefix(r.Type, "kubernetes:helm.sh/") {
		return ""
	}
	if c := r.Inputs["createNamespace"]; !c.IsBool() || !c.BoolValue() {
		return ""
	}
	if ns := r.Inputs["namespace"]; ns.IsString() {
		return ns.StringValue()
	}
	return ""
}

// tokenParts splits kubernetes:apps/v1:Deployment into apps/v1, Deployment.
func tokenParts(token string) (module, kind string) {
	parts := strings.SplitN(token, ":", 3)
	if len(parts) != 3 {
		return "", ""
	}
	return parts[1], parts[2]
}

func toObject(r *plan.Resource) (Object, error) {
	m := map[string]any{}
	for k, v := range r.Inputs {
		// The SDK's bookkeeping keys are no part of the object.
		if strings.HasPrefix(string(k), "__") {
			continue
		}
		pv, err := plainValue(string(k), v)
		if err != nil {
			return Object{}, fmt.Errorf("%s: %w", r.URN, err)
		}
		m[string(k)] = pv
	}
	module, kind := tokenParts(r.Type)
	if _, ok := m["apiVersion"]; !ok {
		m["apiVersion"] = strings.TrimPrefix(module, "core/")
	}
	if _, ok := m["kind"]; !ok {
		m["kind"] = kind
	}
	md, ok := m["metadata"].(map[string]any)
	if !ok {
		if m["metadata"] != nil {
			return Object{}, fmt.Errorf("%s: metadata is not an object", r.URN)
		}
		md = map[string]any{}
		m["metadata"] = md
	}
	if name, _ := md["name"].(string); name == "" && md["generateName"] == nil {
		name, err := resource.NewUniqueName([]byte(r.URN), r.Name+"-", 0, 0, nil)
		if err != nil {
			return Object{}, fmt.Errorf("%s: %w", r.URN, err)
		}
		md["name"] = name
		ann, _ := md["annotations"].(map[string]any)
		if ann == nil {
			ann = map[string]any{}
			md["annotations"] = ann
		}
		ann["pulumi.com/autonamed"] = "true"
	}
	return Object{Manifest: m, Origin: r.URN}, nil
}

// plainValue turns an input into its JSON value; a secret or a value
// unknown at plan time is an error naming its path.
func plainValue(path string, v resource.PropertyValue) (any, error) {
	switch {
	case v.IsSecret():
		return nil, fmt.Errorf("%s is a secret: no Kubernetes object may hold a credential; "+
			"the pods read their runtime secret from Secrets Manager", path)
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return plainValue(path, resource.MakeSecret(o.Element))
		}
		if !o.Known {
			return nil, fmt.Errorf("%s is unknown at plan time (the mocks should return it), so the object cannot be sent", path)
		}
		return plainValue(path, o.Element)
	case v.IsComputed():
		return nil, fmt.Errorf("%s is unknown at plan time (the mocks should return it), so the object cannot be sent", path)
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			pv, err := plainValue(fmt.Sprintf("%s[%d]", path, i), e)
			if err != nil {
				return nil, err
			}
			out[i] = pv
		}
		return out, nil
	case v.IsObject():
		obj := v.ObjectValue()
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			pv, err := plainValue(path+"."+string(k), e)
			if err != nil {
				return nil, err
			}
			out[string(k)] = pv
		}
		return out, nil
	case v.IsResourceReference():
		return nil, fmt.Errorf("%s is a resource reference, which no Kubernetes field takes", path)
	case v.IsAsset(), v.IsArchive():
		return nil, fmt.Errorf("%s is an asset or archive, which no Kubernetes field takes", path)
	case v.IsNull():
		return nil, nil
	default:
		return v.V, nil
	}
}
