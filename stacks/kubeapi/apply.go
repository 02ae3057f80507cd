package kubeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FieldManager is the field manager of every apply, the Pulumi Kubernetes
// provider's own.
const FieldManager = "pulumi-kubernetes"

// Finding is one object the server refused, or accepted with a warning.
type Finding struct {
	Kind, Namespace, Name string
	// Origin is where the object came from (a Pulumi URN), if known.
	Origin string
	// Message is the server's own words.
	Message string
	// Warning is true when the server accepted the object but warned, e.g.
	// that its pod template would violate the namespace's Pod Security level.
	Warning bool
}

func (f Finding) String() string {
	what := "rejected"
	if f.Warning {
		what = "warning"
	}
	ref := f.Kind + " "
	if f.Namespace != "" {
		ref += f.Namespace + "/"
	}
	ref += f.Name
	if f.Origin != "" {
		ref += " (" + f.Origin + ")"
	}
	return fmt.Sprintf("%s %s: %s", ref, what, f.Message)
}

func findingFor(o Object, namespace, message string, warning bool) Finding {
	return Finding{Kind: o.Kind(), Namespace: namespace, Name: o.Name(), Origin: o.Origin, Message: message, Warning: warning}
}

// builtinNamespaces exist on every new cluster.
var builtinNamespaces = map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}

// Check sends objects as the Pulumi provider would to a new cluster:
// CustomResourceDefinitions are applied for real and awaited until
// Established, then Namespaces are applied for real, then every other
// object goes through a server-side dry-run apply. Namespaces created for
// real stay on the server, so a namespaced object whose namespace is
// neither among objects, nor in extraNamespaces (created by something else,
// e.g. a Helm release) nor built in, is refused here as a new cluster
// would refuse it. The error is for a failure to talk to the server; what
// the server refused is in the findings.
func (s *Server) Check(ctx context.Context, objects []Object, extraNamespaces ...string) ([]Finding, error) {
	var crds, namespaces, rest []Object
	for _, o := range objects {
		switch {
		case o.APIVersion() == "apiextensions.k8s.io/v1" && o.Kind() == "CustomResourceDefinition":
			crds = append(crds, o)
		case o.APIVersion() == "v1" && o.Kind() == "Namespace":
			namespaces = append(namespaces, o)
		default:
			rest = append(rest, o)
		}
	}
	findings, err := s.ApplyCRDs(ctx, crds)
	if err != nil {
		return findings, err
	}
	more, err := s.ApplyNamespaces(ctx, namespaces)
	findings = append(findings, more...)
	if err != nil {
		return findings, err
	}

	// CRDs applied by an earlier call stay too: their kinds count only
	// when these objects define them.
	defined := map[string]bool{}
	for _, crd := range crds {
		defined[crdGroupKind(crd)] = true
	}
	known := maps.Clone(builtinNamespaces)
	for _, n := range namespaces {
		known[n.Name()] = true
	}
	for _, n := range extraNamespaces {
		known[n] = true
	}
	var send []Object
	for _, o := range rest {
		ns, namespaced, finding, err := s.target(ctx, o)
		if err != nil {
			return findings, err
		}
		if finding != nil {
			findings = append(findings, *finding)
			continue
		}
		if gk := groupKind(o); s.fromCRD[gk] && !defined[gk] {
			findings = append(findings, findingFor(o, ns, fmt.Sprintf(
				"kind %q is defined by a CustomResourceDefinition these objects do not create, so a new cluster would not serve it", o.Kind()), false))
			continue
		}
		if namespaced && !known[ns] {
			findings = append(findings, findingFor(o, ns, fmt.Sprintf(
				"namespace %q is not created by these objects, so a new cluster would answer: namespaces %q not found", ns, ns), false))
			continue
		}
		send = append(send, o)
	}
	more, err = s.DryRun(ctx, send)
	return append(findings, more...), err
}

// groupKind is "group/Kind" of an object ("/Pod" for the core group).
func groupKind(o Object) string {
	group, _, found := strings.Cut(o.APIVersion(), "/")
	if !found {
		group = ""
	}
	return group + "/" + o.Kind()
}

// crdGroupKind is the "group/Kind" a CustomResourceDefinition defines.
func crdGroupKind(crd Object) string {
	spec, _ := crd.Manifest["spec"].(map[string]any)
	group, _ := spec["group"].(string)
	names, _ := spec["names"].(map[string]any)
	kind, _ := names["kind"].(string)
	return group + "/" + kind
}

// ApplyCRDs applies CustomResourceDefinitions for real and waits until each
// is Established and its kinds are served.
func (s *Server) ApplyCRDs(ctx context.Context, crds []Object) ([]Finding, error) {
	findings, applied, err := s.apply(ctx, crds, false)
	if err != nil || len(applied) == 0 {
		return findings, err
	}
	for _, crd := range applied {
		s.fromCRD[crdGroupKind(crd)] = true
		f, err := s.waitEstablished(ctx, crd)
		if err != nil {
			return findings, err
		}
		if f != nil {
			findings = append(findings, *f)
		}
	}
	clear(s.discovery)
	return findings, nil
}

// ApplyNamespaces applies Namespaces for real. A namespace that enforces a
// Pod Security level but sets no warn level is given warn at the enforce
// level: enforcement checks only Pods, which no controller creates here,
// while warn makes the server report a Deployment's pod template that the
// ReplicaSet controller could never turn into a Pod.
func (s *Server) ApplyNamespaces(ctx context.Context, namespaces []Object) ([]Finding, error) {
	out := make([]Object, 0, len(namespaces))
	for _, n := range namespaces {
		n, err := n.deepCopy()
		if err != nil {
			return nil, err
		}
		labels, _ := n.metadata()["labels"].(map[string]any)
		const enforce, warn = "pod-security.kubernetes.io/enforce", "pod-security.kubernetes.io/warn"
		if level, ok := labels[enforce]; ok {
			if _, set := labels[warn]; !set {
				labels[warn] = level
				if v, ok := labels[enforce+"-version"]; ok {
					labels[warn+"-version"] = v
				}
			}
		}
		out = append(out, n)
	}
	findings, applied, err := s.apply(ctx, out, false)
	if err != nil {
		return findings, err
	}
	names := make([]string, 0, len(applied))
	for _, n := range applied {
		names = append(names, n.Name())
	}
	return findings, s.defaultServiceAccounts(ctx, names...)
}

// defaultServiceAccounts applies the "default" ServiceAccount in each
// namespace, as the controller manager would.
func (s *Server) defaultServiceAccounts(ctx context.Context, namespaces ...string) error {
	sas := make([]Object, 0, len(namespaces))
	for _, ns := range namespaces {
		sas = append(sas, Object{Manifest: map[string]any{
			"apiVersion": "v1", "kind": "ServiceAccount",
			"metadata": map[string]any{"name": "default", "namespace": ns},
		}})
	}
	findings, _, err := s.apply(ctx, sas, false)
	if err == nil && len(findings) > 0 {
		err = fmt.Errorf("kubeapi: default service accounts: %v", findings)
	}
	return err
}

// DryRun sends each object through a server-side dry-run apply (force, the
// provider's field manager, strict field validation) and returns the
// refusals and warnings.
func (s *Server) DryRun(ctx context.Context, objects []Object) ([]Finding, error) {
	findings, _, err := s.apply(ctx, objects, true)
	return findings, err
}

// apply sends each object; applied lists those the server took.
func (s *Server) apply(ctx context.Context, objects []Object, dryRun bool) (findings []Finding, applied []Object, err error) {
	for _, o := range objects {
		ns, _, finding, err := s.target(ctx, o)
		if err != nil {
			return findings, applied, err
		}
		if finding != nil {
			findings = append(findings, *finding)
			continue
		}
		path, err := s.path(ctx, o, ns)
		if err != nil {
			return findings, applied, err
		}
		q := url.Values{"fieldManager": {FieldManager}, "fieldValidation": {"Strict"}}
		if dryRun {
			q.Set("dryRun", "All")
		}
		method, contentType := http.MethodPatch, "application/apply-patch+yaml"
		if o.Name() == "" {
			// generateName: the provider creates instead of applying, as
			// apply needs a name.
			method, contentType = http.MethodPost, "application/json"
		} else {
			q.Set("force", "true")
		}
		manifest := o.Manifest
		if ns != "" && o.Namespace() == "" {
			c, err := o.deepCopy()
			if err != nil {
				return findings, applied, err
			}
			c.metadata()["namespace"] = ns
			manifest = c.Manifest
		}
		body, err := json.Marshal(manifest)
		if err != nil {
			return findings, applied, fmt.Errorf("kubeapi: %s %s: %w", o.Kind(), o.Name(), err)
		}
		status, resp, warnings, err := s.do(ctx, method, path, q, contentType, body)
		if err != nil {
			return findings, applied, err
		}
		if status >= 300 {
			findings = append(findings, findingFor(o, ns, statusMessage(status, resp), false))
			continue
		}
		applied = append(applied, o)
		for _, w := range warnings {
			findings = append(findings, findingFor(o, ns, w, true))
		}
	}
	return findings, applied, nil
}

// target resolves the object's kind on the server: its namespace (empty if
// cluster-scoped) and whether it is namespaced, or a finding when the
// server serves no such kind.
func (s *Server) target(ctx context.Context, o Object) (ns string, namespaced bool, f *Finding, err error) {
	if o.APIVersion() == "" || o.Kind() == "" {
		f := findingFor(o, o.Namespace(), "apiVersion and kind are required", false)
		return "", false, &f, nil
	}
	if o.Name() == "" && o.GenerateName() == "" {
		f := findingFor(o, o.Namespace(), "metadata.name (or generateName) is required", false)
		return "", false, &f, nil
	}
	res, err := s.resource(ctx, o.APIVersion(), o.Kind())
	if err != nil {
		return "", false, nil, err
	}
	if res == nil {
		f := findingFor(o, o.Namespace(), fmt.Sprintf("the server (Kubernetes %s) serves no kind %q in %q", s.Version, o.Kind(), o.APIVersion()), false)
		return "", false, &f, nil
	}
	if !res.Namespaced {
		return "", false, nil, nil
	}
	ns = o.Namespace()
	if ns == "" {
		ns = o.DefaultNamespace
	}
	if ns == "" {
		ns = "default"
	}
	return ns, true, nil, nil
}

func (s *Server) path(ctx context.Context, o Object, ns string) (string, error) {
	res, err := s.resource(ctx, o.APIVersion(), o.Kind())
	if err != nil {
		return "", err
	}
	p := groupVersionPath(o.APIVersion())
	if ns != "" {
		p += "/namespaces/" + url.PathEscape(ns)
	}
	p += "/" + res.Name
	if o.Name() != "" {
		p += "/" + url.PathEscape(o.Name())
	}
	return p, nil
}

func groupVersionPath(apiVersion string) string {
	if !strings.Contains(apiVersion, "/") {
		return "/api/" + apiVersion
	}
	return "/apis/" + apiVersion
}

type apiResource struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Namespaced bool   `json:"namespaced"`
}

type groupVersion struct {
	byKind map[string]*apiResource
}

// resource returns the served resource of a kind, nil if not served.
func (s *Server) resource(ctx context.Context, apiVersion, kind string) (*apiResource, error) {
	gv, ok := s.discovery[apiVersion]
	if !ok {
		status, body, _, err := s.do(ctx, http.MethodGet, groupVersionPath(apiVersion), nil, "", nil)
		if err != nil {
			return nil, err
		}
		gv = &groupVersion{byKind: map[string]*apiResource{}}
		switch status {
		case http.StatusOK:
			var list struct {
				Resources []*apiResource `json:"resources"`
			}
			if err := decodeJSON(body, &list); err != nil {
				return nil, fmt.Errorf("kubeapi: discovery of %s: %w", apiVersion, err)
			}
			for _, r := range list.Resources {
				if !strings.Contains(r.Name, "/") { // not a subresource
					gv.byKind[r.Kind] = r
				}
			}
		case http.StatusNotFound:
		default:
			return nil, fmt.Errorf("kubeapi: discovery of %s: %s", apiVersion, statusMessage(status, body))
		}
		s.discovery[apiVersion] = gv
	}
	return gv.byKind[kind], nil
}

// waitEstablished waits until a CRD is Established and each served version
// is in discovery; a CRD whose names are not accepted is a finding.
func (s *Server) waitEstablished(ctx context.Context, crd Object) (*Finding, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	path := "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + url.PathEscape(crd.Name())
	for {
		status, body, _, err := s.do(ctx, http.MethodGet, path, nil, "", nil)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("kubeapi: get CRD %s: %s", crd.Name(), statusMessage(status, body))
		}
		var got struct {
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
				Versions []struct {
					Name   string `json:"name"`
					Served bool   `json:"served"`
				} `json:"versions"`
			} `json:"spec"`
			Status struct {
				Conditions []struct {
					Type, Status, Message string
				} `json:"conditions"`
			} `json:"status"`
		}
		if err := decodeJSON(body, &got); err != nil {
			return nil, fmt.Errorf("kubeapi: CRD %s: %w", crd.Name(), err)
		}
		established := false
		for _, c := range got.Status.Conditions {
			if c.Type == "NamesAccepted" && c.Status == "False" {
				f := findingFor(crd, "", "names not accepted: "+c.Message, false)
				return &f, nil
			}
			if c.Type == "Established" && c.Status == "True" {
				established = true
			}
		}
		if established {
			served := true
			for _, v := range got.Spec.Versions {
				if !v.Served {
					continue
				}
				delete(s.discovery, got.Spec.Group+"/"+v.Name)
				res, err := s.resource(ctx, got.Spec.Group+"/"+v.Name, got.Spec.Names.Kind)
				if err != nil {
					return nil, err
				}
				served = served && res != nil
			}
			if served {
				return nil, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("kubeapi: CRD %s not established and served within 30 s: %w", crd.Name(), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// do sends one request with the admin token and returns the status, the
// body and the server's warnings.
func (s *Server) do(ctx context.Context, method, path string, q url.Values, contentType string, body []byte) (int, []byte, []string, error) {
	u := s.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("kubeapi: %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("kubeapi: %s %s: %w", method, path, err)
	}
	var warnings []string
	for _, w := range resp.Header.Values("Warning") {
		warnings = append(warnings, warningText(w))
	}
	return resp.StatusCode, b, warnings, nil
}

// warningText takes the text out of an RFC 7234 warning header,
// `299 - "text"`.
func warningText(h string) string {
	i := strings.IndexByte(h, '"')
	if i < 0 {
		return h
	}
	if t, err := strconv.Unquote(h[i:]); err == nil {
		return t
	}
	return h[i:]
}

// statusMessage is the message of a Kubernetes Status body, or the body.
func statusMessage(code int, body []byte) string {
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &st) == nil && st.Message != "" {
		return st.Message
	}
	return fmt.Sprintf("HTTP %d: %s", code, bytes.TrimSpace(body))
}

func decodeJSON(b []byte, v any) error { return json.Unmarshal(b, v) }

// SortFindings orders findings by kind, namespace and name, for stable output.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}
