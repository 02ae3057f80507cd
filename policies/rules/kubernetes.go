package rules

import (
	"fmt"
	"regexp"
	"strings"
)

// podSpecPath returns where a workload keeps its pod spec.
func podSpecPath(typ string) string {
	switch typ {
	case tK8sPod:
		return "spec"
	case tK8sCronJob:
		return "spec.jobTemplate.spec.template.spec"
	default:
		return "spec.template.spec"
	}
}

// container is one container of a pod spec with its path for messages.
type container struct {
	path string
	v    Value
	init bool
}

func containersOf(r *Resource) []container {
	spec := podSpecPath(r.Type)
	var out []container
	for _, k := range []string{"containers", "initContainers", "ephemeralContainers"} {
		for i, c := range r.Get(spec + "." + k).Items() {
			out = append(out, container{path: fmt.Sprintf("%s.%s.%d", spec, k, i), v: c, init: k != "containers"})
		}
	}
	return out
}

// namespacedTypes are the Kubernetes objects that live in a namespace.
var namespacedTypes = join(podTemplateTypes, []string{tK8sService, tK8sConfigMap, tK8sSecret, tK8sSA, tK8sHPA, tK8sPDB, tK8sIngress})

func namespaceOf(r *Resource) (string, bool) {
	path := "metadata.namespace"
	if r.Type == tHelmRelease || r.Type == tHelmChartV4 {
		path = "namespace"
	}
	return r.Get(path).StrOr("default")
}

// imageParts splits an image reference into registry/repository, tag and
// digest.
func imageParts(image string) (repo, tag, digest string) {
	repo = image
	if i := strings.Index(repo, "@"); i >= 0 {
		repo, digest = repo[:i], repo[i+1:]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	return repo, tag, digest
}

var exactVersionRE = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

var (
	secretEnvRE = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|DATABASE_URL|_DSN$)`)
	// A name ending like these refers to a secret without holding it.
	secretRefEnvRE = regexp.MustCompile(`(?i)_(ARN|NAME|ID|PATH|FILE|REF|REGION)$`)
)

// zeroish tells whether an int-or-percent value is 0 or "0%".
func zeroish(v Value) (bool, bool) {
	if n, ok := v.Num(); ok {
		return n == 0, true
	}
	if s, ok := v.Str(); ok {
		return strings.TrimSpace(s) == "0%" || strings.TrimSpace(s) == "0", true
	}
	return false, false
}

func kubernetesPolicies() []*Policy {
	return []*Policy{
		{
			Name:  "enforce-pod-non-root",
			Group: Security, Level: Mandatory,
			Description: "Pods run as a non-root user (Pod Security Standard restricted: runAsNonRoot true, never runAsUser 0).",
			Types:       podTemplateTypes,
			Resource: func(c *ResourceCheck) {
				spec := podSpecPath(c.Type)
				podNonRoot, _ := c.Get(spec + ".securityContext.runAsNonRoot").Bool()
				if uid, ok := c.Get(spec + ".securityContext.runAsUser").Num(); ok && uid == 0 {
					c.Fail("%s.securityContext.runAsUser is 0 (root)", spec)
				}
				for _, ct := range containersOf(c.Resource) {
					nr := ct.v.Field("securityContext").Field("runAsNonRoot")
					b, ok := nr.Bool()
					if nr.Unknown() {
						continue
					}
					if (ok && !b) || (!ok && !podNonRoot) {
						c.Fail("%s.securityContext.runAsNonRoot is not true (nor set on the pod); set it", ct.path)
					}
					if uid, ok := ct.v.Field("securityContext").Field("runAsUser").Num(); ok && uid == 0 {
						c.Fail("%s.securityContext.runAsUser is 0 (root)", ct.path)
					}
				}
			},
		},
		{
			Name:  "disallow-privilege-escalation",
			Group: Security, Level: Mandatory,
			Description: "Containers are not privileged and set allowPrivilegeEscalation false.",
			Types:       podTemplateTypes,
			Resource: func(c *ResourceCheck) {
				for _, ct := range containersOf(c.Resource) {
					sc := ct.v.Field("securityContext")
					if p, ok := sc.Field("privileged").Bool(); ok && p {
						c.Fail("%s.securityContext.privileged is true", ct.path)
					}
					v := sc.Field("allowPrivilegeEscalation")
					if b, ok := v.BoolOr(true); ok && b && !v.Unknown() {
						c.Fail("%s.securityContext.allowPrivilegeEscalation is not false; set it to false", ct.path)
					}
				}
			},
		},
		{
			Name:  "enforce-drop-all-capabilities",
			Group: Security, Level: Mandatory,
			Description: "Containers drop ALL Linux capabilities and add back at most NET_BIND_SERVICE.",
			Types:       podTemplateTypes,
			Resource: func(c *ResourceCheck) {
				for _, ct := range containersOf(c.Resource) {
					caps := ct.v.Field("securityContext").Field("capabilities")
					if caps.Unknown() {
						continue
					}
					drop, _ := caps.Field("drop").Strings()
					if !contains(drop, "ALL") {
						c.Fail("%s.securityContext.capabilities.drop does not include ALL", ct.path)
					}
					add, _ := caps.Field("add").Strings()
					for _, a := range add {
						if a != "NET_BIND_SERVICE" {
							c.Fail("%s.securityContext.capabilities.add includes %s; only NET_BIND_SERVICE may be added", ct.path, a)
						}
					}
				}
			},
		},
		{
			Name:  "enforce-seccomp-runtime-default",
			Group: Security, Level: Mandatory,
			Description: "Pods run under the RuntimeDefault (or a Localhost) seccomp profile.",
			Types:       podTemplateTypes,
			Resource: func(c *ResourceCheck) {
				spec := podSpecPath(c.Type)
				ok := func(v Value) (bool, bool) {
					t, known := v.Str()
					return t == "RuntimeDefault" || t == "Localhost", known
				}
				podOK, podSet := ok(c.Get(spec + ".securityContext.seccompProfile.type"))
				if podSet && !podOK {
					c.Fail("%s.securityContext.seccompProfile.type is not RuntimeDefault or Localhost", spec)
					return
				}
				for _, ct := range containersOf(c.Resource) {
					good, set := ok(ct.v.Field("securityContext").Field("seccompProfile").Field("type"))
					if (set && !good) || (!set && !podOK) {
						c.Fail("%s.securityContext.seccompProfile.type is not RuntimeDefault (nor set on the pod)", ct.path)
					}
				}
			},
		},
		{
			Name:  "enforce-read-only-root-filesystem",
			Group: Security, Level: Mandatory,
			Description: "Containers mount their root filesystem read-only.",
			Types:       podTemplateTypes,
			Resource: func(c *ResourceCheck) {
				for _, ct := range containersOf(c.Resource) {
					v := ct.v.Field("securityContext").Field("readOnlyRootFilesystem")
					if b, ok := v.BoolOr(false); ok && !b {
						c.Fail("%s.securityContext.readOnlyRootFilesystem is not true", ct.path)
					}
				}
			},
		},
		{
			Name:  "disallow-host-namespaces-paths-ports",
			Group: Security, Level: Mandatory,
			Description: "Pods share no host namespace (network, PID, IPC), mount no hostPath and bind no hostPort.",
			Types:       podTemplateTypes,
			Resource: func(c *ResourceCheck) {
				spec := podSpecPath(c.Type)
				for _, k := range []string{"hostNetwork", "hostPID", "hostIPC"} {
					if b, ok := c.Get(spec + "." + k).Bool(); ok && b {
						c.Fail("%s.%s is true", spec, k)
					}
				}
				for i, v := range c.Get(spec + ".volumes").Items() {
					if v.Field("hostPath").Known() {
						c.Fail("%s.volumes.%d mounts a hostPath", spec, i)
					}
				}
				for _, ct := range containersOf(c.Resource) {
					for j, p := range ct.v.Field("ports").Items() {
						if hp, ok := p.Field("hostPort").Num(); ok && hp != 0 {
							c.Fail("%s.ports.%d.hostPort is %v", ct.path, j, hp)
						}
					}
				}
			},
		},
		{
			Name:  "disallow-untrusted-image-registry",
			Group: Security, Level: Mandatory,
			Description: "Container images come from the project's registries (its ECR repositories).",
			Types:       podTemplateTypes,
			Settings: []Setting{{
				Name:        "allowedRegistries",
				Description: "Image reference patterns (* and ? wildcards) images must match.",
				Default:     []string{"*.dkr.ecr.*.amazonaws.com/*"},
			}},
			Resource: func(c *ResourceCheck) {
				for _, ct := range containersOf(c.Resource) {
					img, ok := ct.v.Field("image").Str()
					if !ok {
						continue
					}
					allowed := false
					for _, p := range c.Settings.Strings("allowedRegistries") {
						if wildcardMatch(p, img) {
							allowed = true
						}
					}
					if !allowed {
						c.Fail("%s.image %q is not from an allowed registry %v", ct.path, img, c.Settings.Strings("allowedRegistries"))
					}
				}
			},
		},
		{
			Name:  "disallow-mutable-image-reference",
			Group: Security, Level: Mandatory,
			Description: "Container images are pinned by digest or an immutable version tag, never latest or no tag.",
			Types:       podTemplateTypes,
			Settings: []Setting{{
				Name: "mutableTags", Description: "Tags that move and may not be deployed.",
				Default: []string{"latest", "main", "master", "stable", "dev", "edge"},
			}},
			Resource: func(c *ResourceCheck) {
				for _, ct := range containersOf(c.Resource) {
					img, ok := ct.v.Field("image").Str()
					if !ok {
						continue
					}
					_, tag, digest := imageParts(img)
					switch {
					case digest != "":
					case tag == "":
						c.Fail("%s.image %q has no tag (means latest); pin a version tag or digest", ct.path, img)
					case contains(c.Settings.Strings("mutableTags"), tag):
						c.Fail("%s.image %q uses the moving tag %q; pin a version tag or digest", ct.path, img, tag)
					}
				}
			},
		},
		{
			Name:  "disallow-default-namespace",
			Group: Security, Level: Mandatory,
			Description: "Kubernetes objects and Helm releases live in their own namespace, not default.",
			Types:       join(namespacedTypes, []string{tHelmRelease, tHelmChartV4}),
			Resource: func(c *ResourceCheck) {
				ns, ok := namespaceOf(c.Resource)
				if ok && ns == "default" {
					path := "metadata.namespace"
					if c.Type == tHelmRelease || c.Type == tHelmChartV4 {
						path = "namespace"
					}
					c.Fail("%s is default (or not set); put the object in its service's namespace", path)
				}
			},
		},
		{
			Name:  "disallow-loadbalancer-service",
			Group: Security, Level: Mandatory,
			Description: "No Service of type LoadBalancer: traffic enters through the Pulumi-managed ALB only.",
			Types:       []string{tK8sService},
			Resource: func(c *ResourceCheck) {
				if t, ok := c.Get("spec.type").Str(); ok && t == "LoadBalancer" {
					c.Fail("spec.type is LoadBalancer, which opens a load balancer outside the ALB; use ClusterIP behind the ALB's target group")
				}
			},
		},
		{
			Name:  "enforce-helm-chart-version-pinned",
			Group: Security, Level: Mandatory,
			Description: "Helm charts from a repository are pinned to an exact version.",
			Types:       []string{tHelmRelease, tHelmChartV4},
			Resource: func(c *ResourceCheck) {
				chart, _ := c.Get("chart").Str()
				if strings.HasPrefix(chart, ".") || strings.HasPrefix(chart, "/") || strings.HasSuffix(chart, ".tgz") {
					return // a chart in the repository is pinned by the repository
				}
				v := c.Get("version")
				if v.Unknown() {
					return
				}
				s, _ := v.Str()
				if !exactVersionRE.MatchString(s) {
					if s == "" {
						s = "not set (the latest chart)"
					}
					c.Fail("version is %s; pin an exact chart version", s)
				}
			},
		},
		{
			Name:  "disallow-secret-in-pod-env",
			Group: Security, Level: Mandatory,
			Description: "No credential in a pod spec: environment variables that look like secrets take no literal value (services read their runtime secret from Secrets Manager).",
			Types:       podTemplateTypes,
			Resource: func(c *ResourceCheck) {
				for _, ct := range containersOf(c.Resource) {
					for j, e := range ct.v.Field("env").Items() {
						name, _ := e.Field("name").Str()
						if secretEnvRE.MatchString(name) && !secretRefEnvRE.MatchString(name) && !e.Field("value").Missing() {
							c.Fail("%s.env.%d (%s) holds a literal value; pass the runtime secret's ARN and read it from Secrets Manager", ct.path, j, name)
						}
					}
				}
			},
		},
		{
			Name:  "missing-namespace-pod-security-label",
			Group: Security, Level: Mandatory,
			Description: "Namespaces enforce the restricted Pod Security Standard (label pod-security.kubernetes.io/enforce=restricted).",
			Types:       []string{tK8sNamespace},
			Resource: func(c *ResourceCheck) {
				labels := c.Get("metadata.labels")
				if labels.Unknown() {
					return
				}
				if l, _ := labels.Field("pod-security.kubernetes.io/enforce").Str(); l != "restricted" {
					c.Fail("metadata.labels[pod-security.kubernetes.io/enforce] is %q; set restricted", l)
				}
			},
		},
		// Reliability of workloads.
		{
			Name:  "missing-probes",
			Group: Reliability, Level: Mandatory,
			Description: "Long-running containers have readiness and liveness probes.",
			Types:       []string{tK8sDeployment, tK8sStatefulSet},
			Resource: func(c *ResourceCheck) {
				for _, ct := range containersOf(c.Resource) {
					if ct.init {
						continue
					}
					for _, p := range []string{"readinessProbe", "livenessProbe"} {
						if ct.v.Field(p).Missing() {
							c.Fail("%s.%s is not set", ct.path, p)
						}
					}
				}
			},
		},
		{
			Name:  "missing-resource-requests-limits",
			Group: Reliability, Level: Mandatory,
			Description: "Containers request CPU and memory and limit memory, so the scheduler and the autoscaler can plan.",
			Types:       podTemplateTypes,
			Resource: func(c *ResourceCheck) {
				for _, ct := range containersOf(c.Resource) {
					res := ct.v.Field("resources")
					if res.Unknown() {
						continue
					}
					for _, p := range []string{"requests.cpu", "requests.memory", "limits.memory"} {
						if res.Path(p).Missing() {
							c.Fail("%s.resources.%s is not set", ct.path, p)
						}
					}
				}
			},
		},
		{
			Name:  "enforce-max-unavailable-zero",
			Group: Reliability, Level: Mandatory,
			Description: "Deployments roll out with maxUnavailable 0, so capacity never drops during a rollout.",
			Types:       []string{tK8sDeployment},
			Resource: func(c *ResourceCheck) {
				t, ok := c.Get("spec.strategy.type").StrOr("RollingUpdate")
				if !ok {
					return
				}
				if t != "RollingUpdate" {
					c.Fail("spec.strategy.type is %s; use RollingUpdate with maxUnavailable 0", t)
					return
				}
				v := c.Get("spec.strategy.rollingUpdate.maxUnavailable")
				if v.Missing() {
					c.Fail("spec.strategy.rollingUpdate.maxUnavailable is not set (default 25%%); set it to 0")
					return
				}
				if zero, ok := zeroish(v); ok && !zero {
					c.Fail("spec.strategy.rollingUpdate.maxUnavailable is not 0; set it to 0")
				}
			},
		},
		{
			Name:  "missing-zone-topology-spread",
			Group: Reliability, Level: Mandatory,
			Description: "Replicated workloads spread their pods across availability zones.",
			Types:       []string{tK8sDeployment, tK8sStatefulSet},
			Resource: func(c *ResourceCheck) {
				v := c.Get(podSpecPath(c.Type) + ".topologySpreadConstraints")
				if v.Unknown() {
					return
				}
				for _, t := range v.Items() {
					if k, _ := t.Field("topologyKey").Str(); k == "topology.kubernetes.io/zone" {
						return
					}
				}
				c.Fail("%s.topologySpreadConstraints has no constraint on topology.kubernetes.io/zone", podSpecPath(c.Type))
			},
		},
		{
			Name:  "enforce-hpa-min-replicas",
			Group: Reliability, Level: Mandatory,
			Description: "Horizontal pod autoscalers keep at least two replicas and can scale above their minimum.",
			Types:       []string{tK8sHPA},
			Settings: []Setting{{
				Name: "minimumReplicas", Description: "Lowest minReplicas allowed.", Default: 2,
			}},
			Resource: func(c *ResourceCheck) {
				lo, ok := c.Get("spec.minReplicas").NumOr(1)
				if !ok {
					return
				}
				if int(lo) < c.Settings.Int("minimumReplicas") {
					c.Fail("spec.minReplicas is %v; keep at least %d so one pod can fail or move", lo, c.Settings.Int("minimumReplicas"))
				}
				if hi, ok := c.Get("spec.maxReplicas").Num(); ok && hi <= lo {
					c.Fail("spec.maxReplicas (%v) is not above spec.minReplicas (%v); the autoscaler cannot scale", hi, lo)
				}
			},
		},
		{
			Name:  "disallow-blocking-pod-disruption-budget",
			Group: Reliability, Level: Mandatory,
			Description: "Pod disruption budgets allow at least one voluntary disruption, so node drains and upgrades can proceed.",
			Types:       []string{tK8sPDB},
			Resource: func(c *ResourceCheck) {
				if v := c.Get("spec.maxUnavailable"); !v.Missing() {
					if zero, ok := zeroish(v); ok && zero {
						c.Fail("spec.maxUnavailable is 0, so no pod may ever be evicted; allow 1")
					}
				}
				if s, ok := c.Get("spec.minAvailable").Str(); ok && strings.TrimSpace(s) == "100%" {
					c.Fail("spec.minAvailable is 100%%, so no pod may ever be evicted")
				}
			},
		},
		{
			Name:  "enforce-deployment-replicas",
			Group: Reliability, Level: Mandatory,
			Description: "Deployments run at least two replicas, or leave the count to an autoscaler whose minimum is at least two.",
			Types:       []string{tK8sDeployment, tK8sHPA},
			Stack: func(c *StackCheck) {
				for _, d := range c.OfType(tK8sDeployment) {
					if hpaFor(c, d) != nil {
						continue
					}
					n, ok := d.Get("spec.replicas").NumOr(1)
					if ok && n < 2 {
						c.Fail(d, "spec.replicas is %v and no HorizontalPodAutoscaler targets it; run at least 2", n)
					}
				}
			},
		},
		{
			Name:  "missing-pod-disruption-budget",
			Group: Reliability, Level: Mandatory,
			Description: "Every Deployment and StatefulSet has a PodDisruptionBudget selecting its pods that still allows a disruption.",
			Types:       []string{tK8sDeployment, tK8sStatefulSet, tK8sPDB},
			Stack: func(c *StackCheck) {
				pdbs := c.OfType(tK8sPDB)
				for _, w := range c.OfType(tK8sDeployment, tK8sStatefulSet) {
					labels := w.Get("spec.template.metadata.labels")
					if labels.Unknown() {
						continue
					}
					ns, _ := namespaceOf(w)
					var match *Resource
					for _, p := range pdbs {
						pns, _ := namespaceOf(p)
						sel := p.Get("spec.selector.matchLabels")
						if pns != ns || !sel.IsObject() {
							continue
						}
						all := true
						for _, k := range sel.Keys() {
							want, _ := sel.Field(k).Str()
							have, _ := labels.Field(k).Str()
							if want != have {
								all = false
							}
						}
						if all && len(sel.Keys()) > 0 {
							match = p
						}
					}
					if match == nil {
						c.Fail(w, "no PodDisruptionBudget in namespace %s selects spec.template.metadata.labels; add one with maxUnavailable 1", ns)
						continue
					}
					if hpaFor(c, w) != nil {
						continue
					}
					replicas, ok1 := w.Get("spec.replicas").NumOr(1)
					minAvail, ok2 := match.Get("spec.minAvailable").Num()
					if ok1 && ok2 && minAvail >= replicas {
						c.Fail(w, "PodDisruptionBudget %s has minAvailable %v with spec.replicas %v, which allows no disruption", match.Name, minAvail, replicas)
					}
				}
			},
		},
	}
}

// hpaFor returns the HorizontalPodAutoscaler scaling a workload, if any:
// its scaleTargetRef names the workload, or it depends on it.
func hpaFor(c *StackCheck, w *Resource) *Resource {
	name, _ := w.Get("metadata.name").Str()
	ns, _ := namespaceOf(w)
	kind := strings.TrimSuffix(w.Type[strings.LastIndex(w.Type, ":")+1:], "")
	for _, h := range c.OfType(tK8sHPA) {
		hns, _ := namespaceOf(h)
		tk, _ := h.Get("spec.scaleTargetRef.kind").Str()
		tn, _ := h.Get("spec.scaleTargetRef.name").Str()
		if hns == ns && tk == kind && name != "" && tn == name {
			return h
		}
		if h.DependsOn(w.URN) && tk == kind {
			return h
		}
	}
	return nil
}
