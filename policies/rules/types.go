package rules

// Resource type tokens the rules read. Load balancer types have two
// tokens each (aws:alb/... is the legacy alias of aws:lb/...).
const (
	tAwsProvider        = "pulumi:providers:aws"
	tKmsKey             = "aws:kms/key:Key"
	tRdsInstance        = "aws:rds/instance:Instance"
	tRdsCluster         = "aws:rds/cluster:Cluster"
	tRdsParamGroup      = "aws:rds/parameterGroup:ParameterGroup"
	tRdsClusterParams   = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
	tRdsBackupCopy      = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
	tCacheGroup         = "aws:elasticache/replicationGroup:ReplicationGroup"
	tSqsQueue           = "aws:sqs/queue:Queue"
	tSqsQueuePolicy     = "aws:sqs/queuePolicy:QueuePolicy"
	tSqsRedriveAllow    = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
	tSnsTopic           = "aws:sns/topic:Topic"
	tMetricAlarm        = "aws:cloudwatch/metricAlarm:MetricAlarm"
	tCompositeAlarm     = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
	tDashboard          = "aws:cloudwatch/dashboard:Dashboard"
	tSnsTopicPolicy     = "aws:sns/topicPolicy:TopicPolicy"
	tSnsSubscription    = "aws:sns/topicSubscription:TopicSubscription"
	tSecret             = "aws:secretsmanager/secret:Secret"
	tSecretVersion      = "aws:secretsmanager/secretVersion:SecretVersion"
	tSecretPolicy       = "aws:secretsmanager/secretPolicy:SecretPolicy"
	tLaunchTemplate     = "aws:ec2/launchTemplate:LaunchTemplate"
	tEc2Instance        = "aws:ec2/instance:Instance"
	tEbsVolume          = "aws:ebs/volume:Volume"
	tLogGroup           = "aws:cloudwatch/logGroup:LogGroup"
	tLogResourcePolicy  = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"
	tEcrRepo            = "aws:ecr/repository:Repository"
	tEcrRepoPolicy      = "aws:ecr/repositoryPolicy:RepositoryPolicy"
	tEcrLifecycle       = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	tEcrReplication     = "aws:ecr/replicationConfiguration:ReplicationConfiguration"
	tS3BucketPolicy     = "aws:s3/bucketPolicy:BucketPolicy"
	tS3Bucket           = "aws:s3/bucket:Bucket"
	tS3BucketV2         = "aws:s3/bucketV2:BucketV2"
	tS3SSE              = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
	tS3SSEV2            = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tEksCluster         = "aws:eks/cluster:Cluster"
	tEksNodeGroup       = "aws:eks/nodeGroup:NodeGroup"
	tEksAccessEntry     = "aws:eks/accessEntry:AccessEntry"
	tEksAddon           = "aws:eks/addon:Addon"
	tVpc                = "aws:ec2/vpc:Vpc"
	tSubnet             = "aws:ec2/subnet:Subnet"
	tSecurityGroup      = "aws:ec2/securityGroup:SecurityGroup"
	tDefaultSG          = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	tSGRule             = "aws:ec2/securityGroupRule:SecurityGroupRule"
	tSGIngressRule      = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	tIamRole            = "aws:iam/role:Role"
	tIamPolicy          = "aws:iam/policy:Policy"
	tIamRolePolicy      = "aws:iam/rolePolicy:RolePolicy"
	tIamUserPolicy      = "aws:iam/userPolicy:UserPolicy"
	tIamGroupPolicy     = "aws:iam/groupPolicy:GroupPolicy"
	tIamRoleAttach      = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	tIamUserAttach      = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
	tIamGroupAttach     = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
	tIamPolicyAttach    = "aws:iam/policyAttachment:PolicyAttachment"
	tServiceLinkedRole  = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
	tCloudFront         = "aws:cloudfront/distribution:Distribution"
	tCloudFrontFunction = "aws:cloudfront/function:Function"
	tWafAcl             = "aws:wafv2/webAcl:WebAcl"
	tWafLogging         = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
	tRoute53Record      = "aws:route53/record:Record"
	tRoute53HealthCheck = "aws:route53/healthCheck:HealthCheck"
	tLb                 = "aws:lb/loadBalancer:LoadBalancer"
	tAlb                = "aws:alb/loadBalancer:LoadBalancer"
	tLbListener         = "aws:lb/listener:Listener"
	tAlbListener        = "aws:alb/listener:Listener"
	tLbListenerRule     = "aws:lb/listenerRule:ListenerRule"
	tAlbListenerRule    = "aws:alb/listenerRule:ListenerRule"
	tLbTargetGroup      = "aws:lb/targetGroup:TargetGroup"
	tAlbTargetGroup     = "aws:alb/targetGroup:TargetGroup"

	tK8sDeployment  = "kubernetes:apps/v1:Deployment"
	tK8sStatefulSet = "kubernetes:apps/v1:StatefulSet"
	tK8sDaemonSet   = "kubernetes:apps/v1:DaemonSet"
	tK8sReplicaSet  = "kubernetes:apps/v1:ReplicaSet"
	tK8sJob         = "kubernetes:batch/v1:Job"
	tK8sCronJob     = "kubernetes:batch/v1:CronJob"
	tK8sPod         = "kubernetes:core/v1:Pod"
	tK8sService     = "kubernetes:core/v1:Service"
	tK8sNamespace   = "kubernetes:core/v1:Namespace"
	tK8sSecret      = "kubernetes:core/v1:Secret" //nolint:gosec // a type token, not a credential
	tK8sConfigMap   = "kubernetes:core/v1:ConfigMap"
	tK8sSA          = "kubernetes:core/v1:ServiceAccount"
	tK8sHPA         = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
	tK8sPDB         = "kubernetes:policy/v1:PodDisruptionBudget"
	tK8sIngress     = "kubernetes:networking.k8s.io/v1:Ingress"
	tHelmRelease    = "kubernetes:helm.sh/v3:Release"
	tHelmChartV4    = "kubernetes:helm.sh/v4:Chart"
)

var (
	lbTypes          = []string{tLb, tAlb}
	listenerTypes    = []string{tLbListener, tAlbListener}
	listenerRuleType = []string{tLbListenerRule, tAlbListenerRule}
	targetGroupTypes = []string{tLbTargetGroup, tAlbTargetGroup}
	// podTemplateTypes are the workloads whose pod template the Pod
	// Security Standard rules read.
	podTemplateTypes = []string{tK8sDeployment, tK8sStatefulSet, tK8sDaemonSet, tK8sReplicaSet, tK8sJob, tK8sCronJob, tK8sPod}
)

func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
