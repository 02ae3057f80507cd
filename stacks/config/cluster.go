package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/cluster"
)

// Keys of the cluster section.
const (
	KeyKubernetesVersion = "kubernetesVersion"
	KeyPublicAccessCidrs = "clusterPublicAccessCidrs"
	KeyAdminRoleArn      = "clusterAdminRoleArn"
	KeyDeployerArn       = "deployerRoleArn"
	KeySystemNodeGroup   = "systemNodeGroup"
	KeyWorkloadNodeGroup = "workloadNodeGroup"
)

// Cluster is the EKS part of the configuration.
type Cluster struct {
	KubernetesVersion string
	PublicAccessCidrs []string
	AdminRoleArn      string
	// DeployerArn runs `pulumi up`; the Kubernetes provider deploys as it.
	DeployerArn   string
	SystemNodes   cluster.NodeGroupArgs
	WorkloadNodes cluster.NodeGroupArgs
}

// KubernetesVersions are the EKS versions the platform is tested against.
var KubernetesVersions = []string{"1.31", "1.32", "1.33", "1.34", "1.35"}

var (
	roleArnPattern  = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	deployerPattern = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}$`)
)

var clusterSection = section{
	keys: []key{
		{KeyKubernetesVersion, "string", "1.34", func(c *Config) any { return &c.Cluster.KubernetesVersion }},
		{KeyPublicAccessCidrs, "array", []string{}, func(c *Config) any { return &c.Cluster.PublicAccessCidrs }},
		{KeyAdminRoleArn, "string", "", func(c *Config) any { return &c.Cluster.AdminRoleArn }},
		// No default: with explicit access entries only, whoever runs
		// `pulumi up` can reach the clusters only if named here.
		{KeyDeployerArn, "string", nil, func(c *Config) any { return &c.Cluster.DeployerArn }},
		{KeySystemNodeGroup, "object", cluster.NodeGroupArgs{InstanceTypes: []string{"m6i.large"}, MinSize: 2, DesiredSize: 2, MaxSize: 4, DiskSizeGiB: 50},
			func(c *Config) any { return &c.Cluster.SystemNodes }},
		{KeyWorkloadNodeGroup, "object", cluster.NodeGroupArgs{InstanceTypes: []string{"m6i.xlarge"}, MinSize: 2, DesiredSize: 3, MaxSize: 10, DiskSizeGiB: 80},
			func(c *Config) any { return &c.Cluster.WorkloadNodes }},
	},
	validate: validateCluster,
}

func validateCluster(c *Config, p *check.Problems) {
	k := c.Cluster
	if !slices.Contains(KubernetesVersions, k.KubernetesVersion) {
		p.Add(KeyKubernetesVersion, "%q is not supported; allowed: %s", k.KubernetesVersion, quoteAll(KubernetesVersions))
	}
	for i, s := range k.PublicAccessCidrs {
		prefix, err := netip.ParsePrefix(s)
		key := fmt.Sprintf("%s[%d]", KeyPublicAccessCidrs, i)
		switch {
		case err != nil:
			p.Add(key, "%q is not a CIDR block", s)
		case prefix.Bits() == 0:
			p.Add(key, "%q opens the API server to the whole internet; list your operators' networks instead, or none for a private-only endpoint", s)
		}
	}
	if k.AdminRoleArn != "" {
		if !roleArnPattern.MatchString(k.AdminRoleArn) {
			p.Add(KeyAdminRoleArn, "%q is not an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admin", k.AdminRoleArn)
		} else if accountIDPattern.MatchString(c.AccountID) && !strings.HasPrefix(k.AdminRoleArn, "arn:aws:iam::"+c.AccountID+":") {
			p.Add(KeyAdminRoleArn, "%q belongs to another account than accountId %s", k.AdminRoleArn, c.AccountID)
		}
	}
	switch {
	case !deployerPattern.MatchString(k.DeployerArn):
		p.Add(KeyDeployerArn, "%q is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-deployer (the identity that runs pulumi up; for an SSO role, the role's ARN without its aws-reserved path)", k.DeployerArn)
	case accountIDPattern.MatchString(c.AccountID) && !strings.HasPrefix(k.DeployerArn, "arn:aws:iam::"+c.AccountID+":"):
		p.Add(KeyDeployerArn, "%q belongs to another account than accountId %s", k.DeployerArn, c.AccountID)
	}
	p.Merge(KeySystemNodeGroup, k.SystemNodes.Check())
	p.Merge(KeyWorkloadNodeGroup, k.WorkloadNodes.Check())
}
