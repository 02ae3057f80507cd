package rules

const image = "111111111111.dkr.ecr.us-east-1.amazonaws.com/product:1.4.2"

func goodContainer() M {
	return M{
		"name": "product", "image": image,
		"ports":           []any{M{"containerPort": 8080}},
		"env":             []any{M{"name": "RUNTIME_SECRET_ARN", "value": "arn:aws:secretsmanager:us-east-1:1:secret:x"}},
		"securityContext": M{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": M{"drop": []any{"ALL"}}},
		"resources":       M{"requests": M{"cpu": "100m", "memory": "128Mi"}, "limits": M{"memory": "256Mi"}},
		"readinessProbe":  M{"httpGet": M{"path": "/readyz", "port": 8080}},
		"livenessProbe":   M{"httpGet": M{"path": "/livez", "port": 8080}},
	}
}

func goodPodSpec() M {
	return M{
		"serviceAccountName": "product",
		"securityContext":    M{"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": M{"type": "RuntimeDefault"}},
		"topologySpreadConstraints": []any{M{"topologyKey": "topology.kubernetes.io/zone", "maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway",
			"labelSelector": M{"matchLabels": M{"app": "product"}}}},
		"containers": []any{goodContainer()},
	}
}

func goodDeployment() M {
	return M{
		"metadata": M{"name": "product", "namespace": "product", "labels": M{"app": "product"}},
		"spec": M{
			"replicas": 3, "selector": M{"matchLabels": M{"app": "product"}},
			"strategy": M{"type": "RollingUpdate", "rollingUpdate": M{"maxUnavailable": 0, "maxSurge": 1}},
			"template": M{"metadata": M{"labels": M{"app": "product"}}, "spec": goodPodSpec()},
		},
	}
}

func dep(mut ...func(M)) *Resource {
	d := goodDeployment()
	for _, f := range mut {
		f(d)
	}
	return res(tK8sDeployment, "product", d)
}

func at(path string, v any) func(M) { return func(m M) { set(m, path, v) } }

const c0 = "spec.template.spec.containers.0"

func pdb(mut ...func(M)) *Resource {
	m := M{"metadata": M{"name": "product", "namespace": "product"}, "spec": M{"maxUnavailable": 1, "selector": M{"matchLabels": M{"app": "product"}}}}
	for _, f := range mut {
		f(m)
	}
	return res(tK8sPDB, "product-pdb", m)
}

func hpa(min, max int) *Resource {
	return res(tK8sHPA, "product-hpa", M{"metadata": M{"name": "product", "namespace": "product"},
		"spec": M{"scaleTargetRef": M{"apiVersion": "apps/v1", "kind": "Deployment", "name": "product"}, "minReplicas": min, "maxReplicas": max}})
}

func kubernetesCases() []tc {
	return []tc{
		pass("enforce-pod-non-root", "pod-level non-root", dep()),
		pass("enforce-pod-non-root", "container-level non-root", dep(at("spec.template.spec.securityContext.runAsNonRoot", nil), at(c0+".securityContext.runAsNonRoot", true))),
		fail("enforce-pod-non-root", "root allowed", c0+".securityContext.runAsNonRoot", dep(at("spec.template.spec.securityContext.runAsNonRoot", nil))),
		fail("enforce-pod-non-root", "uid 0", "runAsUser is 0", dep(at(c0+".securityContext.runAsUser", 0))),
		fail("enforce-pod-non-root", "cron job", "spec.jobTemplate.spec.template.spec.containers.0.securityContext.runAsNonRoot",
			res(tK8sCronJob, "cron", M{"metadata": M{"namespace": "ops"}, "spec": M{"schedule": "@daily", "jobTemplate": M{"spec": M{"template": M{"spec": M{"containers": []any{goodContainer()}}}}}}})),

		pass("disallow-privilege-escalation", "false", dep()),
		fail("disallow-privilege-escalation", "default allows", c0+".securityContext.allowPrivilegeEscalation", dep(at(c0+".securityContext.allowPrivilegeEscalation", nil))),
		fail("disallow-privilege-escalation", "privileged", c0+".securityContext.privileged", dep(at(c0+".securityContext.privileged", true))),

		pass("enforce-drop-all-capabilities", "drops ALL", dep()),
		pass("enforce-drop-all-capabilities", "adds NET_BIND_SERVICE", dep(at(c0+".securityContext.capabilities.add", []any{"NET_BIND_SERVICE"}))),
		fail("enforce-drop-all-capabilities", "keeps the defaults", c0+".securityContext.capabilities.drop", dep(at(c0+".securityContext.capabilities", nil))),
		fail("enforce-drop-all-capabilities", "adds NET_ADMIN", c0+".securityContext.capabilities.add", dep(at(c0+".securityContext.capabilities.add", []any{"NET_ADMIN"}))),

		pass("enforce-seccomp-runtime-default", "pod RuntimeDefault", dep()),
		fail("enforce-seccomp-runtime-default", "none", c0+".securityContext.seccompProfile.type", dep(at("spec.template.spec.securityContext.seccompProfile", nil))),
		fail("enforce-seccomp-runtime-default", "unconfined", "spec.template.spec.securityContext.seccompProfile.type", dep(at("spec.template.spec.securityContext.seccompProfile.type", "Unconfined"))),

		pass("enforce-read-only-root-filesystem", "read-only", dep()),
		fail("enforce-read-only-root-filesystem", "writable", c0+".securityContext.readOnlyRootFilesystem", dep(at(c0+".securityContext.readOnlyRootFilesystem", nil))),

		pass("disallow-host-namespaces-paths-ports", "none", dep()),
		fail("disallow-host-namespaces-paths-ports", "host network", "spec.template.spec.hostNetwork", dep(at("spec.template.spec.hostNetwork", true))),
		fail("disallow-host-namespaces-paths-ports", "hostPath", "spec.template.spec.volumes.0", dep(at("spec.template.spec.volumes", []any{M{"name": "docker", "hostPath": M{"path": "/var/run/docker.sock"}}}))),
		fail("disallow-host-namespaces-paths-ports", "hostPort", c0+".ports.0.hostPort", dep(at(c0+".ports.0.hostPort", 8080))),

		pass("disallow-untrusted-image-registry", "ECR", dep()),
		fail("disallow-untrusted-image-registry", "Docker Hub", c0+".image", dep(at(c0+".image", "nginx:1.27"))),

		pass("disallow-mutable-image-reference", "version tag", dep()),
		pass("disallow-mutable-image-reference", "digest", dep(at(c0+".image", "111111111111.dkr.ecr.us-east-1.amazonaws.com/product@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))),
		fail("disallow-mutable-image-reference", "latest", c0+".image", dep(at(c0+".image", "111111111111.dkr.ecr.us-east-1.amazonaws.com/product:latest"))),
		fail("disallow-mutable-image-reference", "no tag", c0+".image", dep(at(c0+".image", "111111111111.dkr.ecr.us-east-1.amazonaws.com/product"))),

		pass("disallow-default-namespace", "own namespace", dep()),
		fail("disallow-default-namespace", "no namespace", "metadata.namespace", dep(at("metadata.namespace", nil))),
		fail("disallow-default-namespace", "helm release in default", "namespace", res(tHelmRelease, "lbc", M{"chart": "aws-load-balancer-controller", "version": "1.13.0"})),

		pass("disallow-loadbalancer-service", "ClusterIP", res(tK8sService, "svc", M{"metadata": M{"namespace": "product"}, "spec": M{"type": "ClusterIP"}})),
		fail("disallow-loadbalancer-service", "LoadBalancer", "spec.type", res(tK8sService, "svc", M{"metadata": M{"namespace": "product"}, "spec": M{"type": "LoadBalancer"}})),

		pass("enforce-helm-chart-version-pinned", "exact", res(tHelmRelease, "lbc", M{"chart": "aws-load-balancer-controller", "version": "1.13.0", "namespace": "kube-system"})),
		pass("enforce-helm-chart-version-pinned", "local chart", res(tHelmChartV4, "local", M{"chart": "./charts/product", "namespace": "product"})),
		fail("enforce-helm-chart-version-pinned", "no version", "version", res(tHelmRelease, "lbc", M{"chart": "aws-load-balancer-controller", "namespace": "kube-system"})),
		fail("enforce-helm-chart-version-pinned", "range", "version", res(tHelmChartV4, "as", M{"chart": "oci://registry/cluster-autoscaler", "version": "^9.0.0", "namespace": "kube-system"})),

		pass("disallow-secret-in-pod-env", "ARN only", dep()),
		pass("disallow-secret-in-pod-env", "from a secret reference", dep(at(c0+".env", []any{M{"name": "API_TOKEN", "valueFrom": M{"secretKeyRef": M{"name": "x", "key": "y"}}}}))),
		fail("disallow-secret-in-pod-env", "literal password", c0+".env.0", dep(at(c0+".env", []any{M{"name": "DB_PASSWORD", "value": "hunter2"}}))),

		pass("missing-namespace-pod-security-label", "restricted", res(tK8sNamespace, "ns", M{"metadata": M{"name": "product", "labels": M{"pod-security.kubernetes.io/enforce": "restricted"}}})),
		fail("missing-namespace-pod-security-label", "baseline", "pod-security.kubernetes.io/enforce", res(tK8sNamespace, "ns", M{"metadata": M{"name": "product", "labels": M{"pod-security.kubernetes.io/enforce": "baseline"}}})),

		pass("missing-probes", "both probes", dep()),
		fail("missing-probes", "no readiness", c0+".readinessProbe", dep(at(c0+".readinessProbe", nil))),

		pass("missing-resource-requests-limits", "set", dep()),
		fail("missing-resource-requests-limits", "no memory limit", c0+".resources.limits.memory", dep(at(c0+".resources.limits", nil))),

		pass("enforce-max-unavailable-zero", "0", dep()),
		pass("enforce-max-unavailable-zero", "0%", dep(at("spec.strategy.rollingUpdate.maxUnavailable", "0%"))),
		fail("enforce-max-unavailable-zero", "default 25%", "spec.strategy.rollingUpdate.maxUnavailable", dep(at("spec.strategy", nil))),
		fail("enforce-max-unavailable-zero", "Recreate", "spec.strategy.type", dep(at("spec.strategy", M{"type": "Recreate"}))),

		pass("missing-zone-topology-spread", "zones", dep()),
		fail("missing-zone-topology-spread", "hostname only", "spec.template.spec.topologySpreadConstraints", dep(at("spec.template.spec.topologySpreadConstraints.0.topologyKey", "kubernetes.io/hostname"))),

		pass("enforce-hpa-min-replicas", "2 to 10", hpa(2, 10)),
		fail("enforce-hpa-min-replicas", "min 1", "spec.minReplicas", hpa(1, 10)),
		fail("enforce-hpa-min-replicas", "cannot scale", "spec.maxReplicas", hpa(3, 3)),

		pass("disallow-blocking-pod-disruption-budget", "maxUnavailable 1", pdb()),
		fail("disallow-blocking-pod-disruption-budget", "maxUnavailable 0", "spec.maxUnavailable", pdb(at("spec.maxUnavailable", 0))),
		fail("disallow-blocking-pod-disruption-budget", "minAvailable 100%", "spec.minAvailable", pdb(at("spec.maxUnavailable", nil), at("spec.minAvailable", "100%"))),

		pass("enforce-deployment-replicas", "3 replicas", dep()),
		pass("enforce-deployment-replicas", "left to an HPA", dep(at("spec.replicas", nil)), hpa(2, 10)),
		fail("enforce-deployment-replicas", "one replica by default", "spec.replicas", dep(at("spec.replicas", nil))),

		pass("missing-pod-disruption-budget", "budget selects the pods", dep(), pdb()),
		fail("missing-pod-disruption-budget", "no budget", "PodDisruptionBudget", dep()),
		fail("missing-pod-disruption-budget", "budget in another namespace", "namespace product", dep(), pdb(at("metadata.namespace", "other"))),
		fail("missing-pod-disruption-budget", "minAvailable equals replicas", "minAvailable 3", dep(), pdb(at("spec.maxUnavailable", nil), at("spec.minAvailable", 3))),
	}
}
