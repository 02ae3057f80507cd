// Package workload runs one bundled service on one region's cluster: its
// namespace (restricted Pod Security Standard), service account bound to
// the service's IRSA role, Deployment, ClusterIP Service, autoscaler,
// disruption budget and network policies; a canary beside it when one is
// configured; and, where the service's primary database is, the migration
// job every release runs first.
//
// Pods carry no credential: only non-secret settings and the ARN of the
// service's runtime secret, which the service reads at start through its
// IRSA role. No Kubernetes Secret is created.
package workload

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/check"
)

// The in-cluster shape every service shares with the traffic path.
const (
	// HTTPPort is the container port (the services' HTTP_ADDR).
	HTTPPort = 8080
	// ServicePort is the ClusterIP Service's port.
	ServicePort = 80
	// StableTrack and CanaryTrack are the values of the TrackLabel.
	StableTrack = "stable"
	CanaryTrack = "canary"
	// TrackLabel tells stable pods from canary pods.
	TrackLabel = "ecommerce.example.com/track"
	// AppLabel names the service a pod belongs to.
	AppLabel = "app.kubernetes.io/name"
)

// Shutdown timing, one story from the pod to the load balancer: on SIGTERM
// a service fails /readyz and keeps serving for ShutdownDelay while the
// endpoints and the load balancer stop sending it new requests, then
// drains in-flight requests for at most ShutdownTimeout; the kubelet kills
// it only after GracePeriodSeconds. The target groups keep a deregistered
// pod's open requests for DeregistrationDelaySeconds: the pod's whole
// shutdown (a shorter delay would cut requests it is still finishing),
// under the grace period.
const (
	ShutdownDelaySeconds       = 15
	ShutdownTimeoutSeconds     = 20
	GracePeriodSeconds         = ShutdownDelaySeconds + ShutdownTimeoutSeconds + 10
	DeregistrationDelaySeconds = ShutdownDelaySeconds + ShutdownTimeoutSeconds
)

// RuntimeSecretVariable is the variable that names the secret a service
// process loads its settings from at start.
const RuntimeSecretVariable = "RUNTIME_SECRET_ARN"

// RunAsUser is the distroless "nonroot" user of the images.
const RunAsUser = 65532

// ServiceName is the ClusterIP Service of a service's stable pods; the
// canary's is CanaryServiceName.
func ServiceName(service string) string { return service }

// CanaryServiceName is the ClusterIP Service of a service's canary pods.
func CanaryServiceName(service string) string { return service + "-canary" }

// Args configures one service's workloads in one region. The region's
// Kubernetes provider comes in opts.
type Args struct {
	// Wiring is the service's per-region wiring: names, role ARNs, the
	// runtime secret, pod settings.
	Wiring *appconfig.Service
	// Release is what runs.
	Release Release
	// RepositoryURL is the service's repository in this region.
	RepositoryURL pulumi.StringInput
	// VpcCidr bounds the egress to the database, the cache and the AWS
	// endpoints.
	VpcCidr string
	// LoadBalancerCidrs may reach the HTTP port (the public subnets, where
	// the load balancer's nodes are).
	LoadBalancerCidrs []string
	// Callers are the services whose pods may call this one; Callees the
	// services this one calls.
	Callers, Callees []string
	// NodeSelector places the pods (the workload node group).
	NodeSelector map[string]string
	// Needs are what the pods need answering before they can become ready
	// (the service's databases, the region's cache): the migration job and
	// the Deployments wait for them, or a first deploy would time out
	// waiting for pods that cannot reach a database still being created.
	Needs []pulumi.Resource
	// KubernetesVersion is the cluster's minor ("1.34"): the Pod Security
	// Standard is pinned to it, so admission judges pods by the rules of
	// the version that runs them.
	KubernetesVersion string
}

// Workload is one service's workloads in one region.
type Workload struct {
	pulumi.ResourceState

	// Namespace, ServiceName and CanaryServiceName ("" without a canary)
	// are what the traffic path binds.
	Namespace         string
	ServiceName       string
	CanaryServiceName string
	// CanaryWeight is the canary's share of the traffic, 0 without one.
	CanaryWeight int
}

func (a *Args) check() error {
	p := check.New("workload")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	if a.Wiring == nil {
		p.Require("Wiring", false)
		return p.Err()
	}
	p.Require("RepositoryURL", a.RepositoryURL != nil)
	p.Require("VpcCidr", a.VpcCidr != "")
	p.Require("LoadBalancerCidrs", len(a.LoadBalancerCidrs) > 0)
	p.Require("KubernetesVersion", a.KubernetesVersion != "")
	p.Merge("Release", a.Release.Check())
	for _, s := range append(append([]string{}, a.Callers...), a.Callees...) {
		if s == a.Wiring.Name {
			p.Add("Callers", "%s cannot call itself through the network", s)
		}
	}
	return p.Err()
}

// New creates the service's workloads.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Workload, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	w := args.Wiring
	out := &Workload{Namespace: w.Namespace, ServiceName: ServiceName(w.Name)}
	if err := ctx.RegisterComponentResource("ecommerce:workload:Service", name, out, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(out)
	b := &builder{ctx: ctx, name: name, args: args, parent: parent}

	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name: pulumi.String(w.Namespace),
			Labels: pulumi.StringMap{
				// The restricted standard, enforced: a pod that asks for
				// more than the services need is refused at admission.
				"pod-security.kubernetes.io/enforce":         pulumi.String("restricted"),
				"pod-security.kubernetes.io/enforce-version": pulumi.String("v" + args.KubernetesVersion),
				"pod-security.kubernetes.io/warn":            pulumi.String("restricted"),
				"pod-security.kubernetes.io/audit":           pulumi.String("restricted"),
				AppLabel:                                     pulumi.String(w.Name),
			},
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	b.ns = ns
	sa, err := b.serviceAccount(name, w.ServiceAccount, w.RoleArn)
	if err != nil {
		return nil, err
	}
	if _, err := b.networkPolicies(); err != nil {
		return nil, err
	}

	before := append([]pulumi.Resource(nil), args.Needs...)
	if w.Migrates() {
		job, err := b.migration()
		if err != nil {
			return nil, err
		}
		// Every region's pods start on the schema the release needs: the
		// master's after its migration job, the replicas' after it too
		// (they replay it).
		before = append(before, job)
	}

	if err := b.track(StableTrack, args.Release.Image, args.Release.MinReplicas, sa, before); err != nil {
		return nil, err
	}
	if c := args.Release.Canary; c != nil {
		if err := b.track(CanaryTrack, c.Image, 2, sa, before); err != nil {
			return nil, err
		}
		out.CanaryServiceName = CanaryServiceName(w.Name)
		out.CanaryWeight = c.Weight
	}
	return out, ctx.RegisterResourceOutputs(out, pulumi.Map{
		"namespace":   pulumi.String(out.Namespace),
		"serviceName": pulumi.String(out.ServiceName),
	})
}

type builder struct {
	ctx    *pulumi.Context
	name   string
	args   *Args
	parent pulumi.ResourceOption
	ns     *corev1.Namespace
}

// meta names an object in the service's namespace, after the namespace.
func (b *builder) meta(name string, labels pulumi.StringMap) metav1.ObjectMetaArgs {
	return metav1.ObjectMetaArgs{
		Name:      pulumi.String(name),
		Namespace: b.ns.Metadata.Name().Elem(),
		Labels:    labels,
	}
}

func (b *builder) labels(track string) pulumi.StringMap {
	l := pulumi.StringMap{AppLabel: pulumi.String(b.args.Wiring.Name), "app.kubernetes.io/part-of": pulumi.String("ecommerce")}
	if track != "" {
		l[TrackLabel] = pulumi.String(track)
	}
	return l
}

func (b *builder) serviceAccount(logical, name string, roleArn pulumi.StringOutput) (*corev1.ServiceAccount, error) {
	return corev1.NewServiceAccount(b.ctx, logical+"-"+name, &corev1.ServiceAccountArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:        pulumi.String(name),
			Namespace:   b.ns.Metadata.Name().Elem(),
			Labels:      b.labels(""),
			Annotations: pulumi.StringMap{"eks.amazonaws.com/role-arn": roleArn},
		},
		// The pods do not talk to the Kubernetes API; the IRSA token is
		// projected by EKS on its own.
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, b.parent)
}

// securityContexts are the restricted standard's, and then some.
func securityContexts() (*corev1.PodSecurityContextArgs, *corev1.SecurityContextArgs) {
	pod := &corev1.PodSecurityContextArgs{
		RunAsNonRoot:   pulumi.Bool(true),
		RunAsUser:      pulumi.Int(RunAsUser),
		RunAsGroup:     pulumi.Int(RunAsUser),
		FsGroup:        pulumi.Int(RunAsUser),
		SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
	container := &corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		RunAsNonRoot:             pulumi.Bool(true),
		Privileged:               pulumi.Bool(false),
		Capabilities:             corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		SeccompProfile:           corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
	return pod, container
}

// env is what a pod of the service carries: no credential, ever.
func (b *builder) env(secretArn pulumi.StringOutput) corev1.EnvVarArray {
	w := b.args.Wiring
	limit, _ := MiB(b.args.Release.Memory.Limit)
	vars := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String(RuntimeSecretVariable), Value: secretArn},
		corev1.EnvVarArgs{Name: pulumi.String("HTTP_ADDR"), Value: pulumi.String(fmt.Sprintf(":%d", HTTPPort))},
		corev1.EnvVarArgs{Name: pulumi.String("SHUTDOWN_DELAY"), Value: pulumi.String(fmt.Sprintf("%ds", ShutdownDelaySeconds))},
		corev1.EnvVarArgs{Name: pulumi.String("SHUTDOWN_TIMEOUT"), Value: pulumi.String(fmt.Sprintf("%ds", ShutdownTimeoutSeconds))},
		// The Go runtime collects harder near this, so a burst is slowed
		// down rather than killed at the container's limit.
		corev1.EnvVarArgs{Name: pulumi.String("GOMEMLIMIT"), Value: pulumi.String(GoMemLimit(limit))},
		// The load balancer appends the client's address to
		// X-Forwarded-For; the services believe it only from there.
		corev1.EnvVarArgs{Name: pulumi.String("TRUSTED_PROXY_CIDRS"), Value: pulumi.String(strings.Join(b.args.LoadBalancerCidrs, ","))},
	}
	keys := make([]string, 0, len(w.Env))
	for k := range w.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vars = append(vars, corev1.EnvVarArgs{Name: pulumi.String(k), Value: pulumi.String(w.Env[k])})
	}
	return vars
}

// PodEnvNames are the variables every pod of a service carries besides
// its wiring's Env (for the runtime contract).
func PodEnvNames() []string {
	return []string{RuntimeSecretVariable, "HTTP_ADDR", "SHUTDOWN_DELAY", "SHUTDOWN_TIMEOUT", "GOMEMLIMIT", "TRUSTED_PROXY_CIDRS"}
}

// GoMemLimit is 80% of the container's memory limit (in MiB), in the Go
// runtime's notation: room for what the runtime does not count.
func GoMemLimit(limitMiB int) string { return fmt.Sprintf("%dMiB", limitMiB*8/10) }

func (b *builder) image(image string) pulumi.StringOutput {
	return pulumi.All(b.args.RepositoryURL).ApplyT(func(v []any) string {
		return ImageRef(v[0].(string), image)
	}).(pulumi.StringOutput)
}

// track creates one Deployment with its Service, autoscaler and budget.
func (b *builder) track(track, image string, minReplicas int, sa *corev1.ServiceAccount, after []pulumi.Resource) error {
	w, r := b.args.Wiring, b.args.Release
	name, logical := ServiceName(w.Name), b.name
	if track == CanaryTrack {
		name, logical = CanaryServiceName(w.Name), b.name+"-canary"
	}
	podSC, containerSC := securityContexts()
	selector := pulumi.StringMap{AppLabel: pulumi.String(w.Name), TrackLabel: pulumi.String(track)}
	probe := func(path string, period, failures int) *corev1.ProbeArgs {
		return &corev1.ProbeArgs{
			HttpGet:          corev1.HTTPGetActionArgs{Path: pulumi.String(path), Port: pulumi.Int(HTTPPort)},
			PeriodSeconds:    pulumi.Int(period),
			FailureThreshold: pulumi.Int(failures),
			TimeoutSeconds:   pulumi.Int(2),
		}
	}
	spread := func(key string) corev1.TopologySpreadConstraintArgs {
		return corev1.TopologySpreadConstraintArgs{
			MaxSkew:           pulumi.Int(1),
			TopologyKey:       pulumi.String(key),
			WhenUnsatisfiable: pulumi.String("ScheduleAnyway"),
			LabelSelector:     metav1.LabelSelectorArgs{MatchLabels: selector},
		}
	}
	_, err := appsv1.NewDeployment(b.ctx, logical, &appsv1.DeploymentArgs{
		Metadata: b.meta(name, b.labels(track)),
		Spec: appsv1.DeploymentSpecArgs{
			// No replicas: the autoscaler owns the count; a field here
			// would fight it on every update.
			Selector: metav1.LabelSelectorArgs{MatchLabels: selector},
			Strategy: appsv1.DeploymentStrategyArgs{
				Type: pulumi.String("RollingUpdate"),
				// Never fewer ready pods than before, during a rollout.
				RollingUpdate: appsv1.RollingUpdateDeploymentArgs{MaxUnavailable: pulumi.Int(0), MaxSurge: pulumi.String("25%")},
			},
			MinReadySeconds:         pulumi.Int(5),
			ProgressDeadlineSeconds: pulumi.Int(600),
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: b.labels(track)},
				Spec: corev1.PodSpecArgs{
					ServiceAccountName:            sa.Metadata.Name().Elem(),
					AutomountServiceAccountToken:  pulumi.Bool(false),
					SecurityContext:               podSC,
					TerminationGracePeriodSeconds: pulumi.Int(GracePeriodSeconds),
					NodeSelector:                  pulumi.ToStringMap(b.args.NodeSelector),
					TopologySpreadConstraints: corev1.TopologySpreadConstraintArray{
						spread("topology.kubernetes.io/zone"),
						spread("kubernetes.io/hostname"),
					},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String(w.Name),
						Image:           b.image(image),
						ImagePullPolicy: pulumi.String("IfNotPresent"),
						Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{
							Name: pulumi.String("http"), ContainerPort: pulumi.Int(HTTPPort), Protocol: pulumi.String("TCP"),
						}},
						Env: b.env(w.SecretArn),
						Resources: corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String(r.CPU.Request), "memory": pulumi.String(r.Memory.Request)},
							Limits:   pulumi.StringMap{"cpu": pulumi.String(r.CPU.Limit), "memory": pulumi.String(r.Memory.Limit)},
						},
						// Startup allows a minute for migrations to settle
						// and the secret to load; liveness checks only the
						// process, readiness its dependencies.
						StartupProbe:    probe("/healthz", 2, 30),
						LivenessProbe:   probe("/healthz", 10, 3),
						ReadinessProbe:  probe("/readyz", 5, 2),
						SecurityContext: containerSC,
						VolumeMounts:    corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")}},
					}},
					Volumes: corev1.VolumeArray{corev1.VolumeArgs{
						Name:     pulumi.String("tmp"),
						EmptyDir: corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("64Mi")},
					}},
				},
			},
		},
	}, b.parent, pulumi.DependsOn(after))
	if err != nil {
		return err
	}
	if _, err := corev1.NewService(b.ctx, logical, &corev1.ServiceArgs{
		Metadata: b.meta(name, b.labels(track)),
		Spec: corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: selector,
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("http"), Port: pulumi.Int(ServicePort), TargetPort: pulumi.String("http"), Protocol: pulumi.String("TCP"),
			}},
		},
	}, b.parent); err != nil {
		return err
	}
	if _, err := autoscalingv2.NewHorizontalPodAutoscaler(b.ctx, logical, &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: b.meta(name, b.labels(track)),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReferenceArgs{
				// By name, not by the Deployment's output: the autoscaler
				// need not wait for the rollout.
				ApiVersion: pulumi.String("apps/v1"), Kind: pulumi.String("Deployment"), Name: pulumi.String(name),
			},
			MinReplicas: pulumi.Int(minReplicas),
			MaxReplicas: pulumi.Int(r.MaxReplicas),
			Metrics: autoscalingv2.MetricSpecArray{autoscalingv2.MetricSpecArgs{
				Type: pulumi.String("Resource"),
				Resource: autoscalingv2.ResourceMetricSourceArgs{
					Name:   pulumi.String("cpu"),
					Target: autoscalingv2.MetricTargetArgs{Type: pulumi.String("Utilization"), AverageUtilization: pulumi.Int(r.TargetCPUPercent)},
				},
			}},
		},
	}, b.parent); err != nil {
		return err
	}
	_, err = policyv1.NewPodDisruptionBudget(b.ctx, logical, &policyv1.PodDisruptionBudgetArgs{
		Metadata: b.meta(name, b.labels(track)),
		Spec: policyv1.PodDisruptionBudgetSpecArgs{
			// One pod at a time: drains proceed, the service stays up.
			MaxUnavailable: pulumi.Int(1),
			Selector:       metav1.LabelSelectorArgs{MatchLabels: selector},
		},
	}, b.parent)
	return err
}

// migration runs the release's migrations as the schema owner before any
// pod of the release starts. The job's name carries the image, so each
// release runs its own once.
func (b *builder) migration() (*batchv1.Job, error) {
	w, r := b.args.Wiring, b.args.Release
	sa, err := b.serviceAccount(b.name, w.MigrationServiceAccount, w.MigrationRoleArn)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(r.Image))
	name := fmt.Sprintf("%s-migrate-%s", w.Name, hex.EncodeToString(sum[:])[:10])
	podSC, containerSC := securityContexts()
	return batchv1.NewJob(b.ctx, b.name+"-migrate", &batchv1.JobArgs{
		Metadata: b.meta(name, b.labels("migrate")),
		Spec: batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(3),
			ActiveDeadlineSeconds: pulumi.Int(900),
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: b.labels("migrate")},
				Spec: corev1.PodSpecArgs{
					RestartPolicy:                pulumi.String("Never"),
					ServiceAccountName:           sa.Metadata.Name().Elem(),
					AutomountServiceAccountToken: pulumi.Bool(false),
					SecurityContext:              podSC,
					NodeSelector:                 pulumi.ToStringMap(b.args.NodeSelector),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("migrate"),
						Image: b.image(r.Image),
						Args:  pulumi.StringArray{pulumi.String("migrate")},
						Env: corev1.EnvVarArray{
							corev1.EnvVarArgs{Name: pulumi.String(RuntimeSecretVariable), Value: w.MigrationSecretArn},
						},
						Resources: corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("128Mi")},
							Limits:   pulumi.StringMap{"cpu": pulumi.String("500m"), "memory": pulumi.String("128Mi")},
						},
						SecurityContext: containerSC,
					}},
				},
			},
		},
	}, b.parent, pulumi.DependsOn(b.args.Needs))
}

// networkPolicies deny everything in the namespace, then admit exactly the
// service's traffic: HTTP from the load balancer's subnets and from its
// callers; out, DNS, the VPC's database, cache and endpoint ports, the
// services it calls, and AWS APIs of other regions (the master region's
// topics) over HTTPS.
func (b *builder) networkPolicies() ([]pulumi.Resource, error) {
	w, a := b.args.Wiring, b.args
	tcp := func(port int) networkingv1.NetworkPolicyPortArgs {
		return networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)}
	}
	inNamespace := func(ns string) networkingv1.NetworkPolicyPeerArgs {
		return networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: metav1.LabelSelectorArgs{
			MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(ns)},
		}}
	}
	cidr := func(c string) networkingv1.NetworkPolicyPeerArgs {
		return networkingv1.NetworkPolicyPeerArgs{IpBlock: networkingv1.IPBlockArgs{Cidr: pulumi.String(c)}}
	}

	from := networkingv1.NetworkPolicyPeerArray{}
	for _, c := range a.LoadBalancerCidrs {
		from = append(from, cidr(c))
	}
	for _, caller := range a.Callers {
		from = append(from, inNamespace(appconfig.Namespace(caller)))
	}
	dns := networkingv1.NetworkPolicyEgressRuleArgs{
		To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
			NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")}},
			PodSelector:       metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"k8s-app": pulumi.String("kube-dns")}},
		}},
		Ports: networkingv1.NetworkPolicyPortArray{
			networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(53)},
			tcp(53),
		},
	}
	egress := networkingv1.NetworkPolicyEgressRuleArray{
		dns,
		networkingv1.NetworkPolicyEgressRuleArgs{
			To:    networkingv1.NetworkPolicyPeerArray{cidr(a.VpcCidr)},
			Ports: networkingv1.NetworkPolicyPortArray{tcp(5432), tcp(6379), tcp(443)},
		},
		networkingv1.NetworkPolicyEgressRuleArgs{
			To:    networkingv1.NetworkPolicyPeerArray{cidr("0.0.0.0/0")},
			Ports: networkingv1.NetworkPolicyPortArray{tcp(443)},
		},
	}
	if len(a.Callees) > 0 {
		to := networkingv1.NetworkPolicyPeerArray{}
		for _, callee := range a.Callees {
			to = append(to, inNamespace(appconfig.Namespace(callee)))
		}
		egress = append(egress, networkingv1.NetworkPolicyEgressRuleArgs{To: to, Ports: networkingv1.NetworkPolicyPortArray{tcp(HTTPPort)}})
	}
	policies := []struct {
		name string
		spec networkingv1.NetworkPolicySpecArgs
	}{
		{"default-deny", networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
		}},
		{w.Name, networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{AppLabel: pulumi.String(w.Name)}},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From:  from,
				Ports: networkingv1.NetworkPolicyPortArray{tcp(HTTPPort)},
			}},
			Egress: egress,
		}},
	}
	var out []pulumi.Resource
	for _, p := range policies {
		np, err := networkingv1.NewNetworkPolicy(b.ctx, b.name+"-"+p.name, &networkingv1.NetworkPolicyArgs{
			Metadata: b.meta(p.name, b.labels("")),
			Spec:     p.spec,
		}, b.parent)
		if err != nil {
			return nil, err
		}
		out = append(out, np)
	}
	return out, nil
}
