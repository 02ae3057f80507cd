package appconfig

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/iamdoc"
)

// Access is what one service in one region may touch, as plain ARNs.
type Access struct {
	// Region is the service's region; MasterRegion holds its topic.
	Region, MasterRegion string
	// SecretArn is its runtime secret; KeyArn the region's data key that
	// encrypts it.
	SecretArn, KeyArn string
	// QueueArn is set for consumers; QueueKeyArn is the region's messaging
	// key that encrypts the queue.
	QueueArn, QueueKeyArn string
	// TopicArn is set for publishers; TopicKeyArn is the master region's
	// key that encrypts the topic.
	TopicArn, TopicKeyArn string
}

// AccessPolicy grants exactly: reading the runtime secret, consuming its
// own queue, publishing to its own topic, and the KMS use each needs,
// limited to those services by kms:ViaService.
func AccessPolicy(a Access) (string, error) {
	if a.Region == "" || a.SecretArn == "" || a.KeyArn == "" {
		return "", errors.New("appconfig: access needs Region, SecretArn and KeyArn")
	}
	if a.TopicArn != "" && (a.TopicKeyArn == "" || a.MasterRegion == "") {
		return "", errors.New("appconfig: a publisher's access needs TopicKeyArn and MasterRegion")
	}
	if a.QueueArn != "" && a.QueueKeyArn == "" {
		return "", errors.New("appconfig: a consumer's access needs QueueKeyArn")
	}
	statements := []iamdoc.Statement{
		{
			Sid:      "ReadRuntimeSettings",
			Effect:   iamdoc.Allow,
			Action:   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
			Resource: a.SecretArn,
		},
		{
			Sid:       "DecryptRuntimeSettings",
			Effect:    iamdoc.Allow,
			Action:    "kms:Decrypt",
			Resource:  a.KeyArn,
			Condition: iamdoc.Equals("kms:ViaService", fmt.Sprintf("secretsmanager.%s.amazonaws.com", a.Region)),
		},
	}
	if a.QueueArn != "" {
		statements = append(statements,
			iamdoc.Statement{
				Sid:      "ConsumeOwnQueue",
				Effect:   iamdoc.Allow,
				Action:   []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
				Resource: a.QueueArn,
			},
			iamdoc.Statement{
				Sid:       "DecryptOwnQueue",
				Effect:    iamdoc.Allow,
				Action:    "kms:Decrypt",
				Resource:  a.QueueKeyArn,
				Condition: iamdoc.Equals("kms:ViaService", fmt.Sprintf("sqs.%s.amazonaws.com", a.Region)),
			})
	}
	if a.TopicArn != "" {
		statements = append(statements,
			iamdoc.Statement{
				Sid:      "PublishOwnTopic",
				Effect:   iamdoc.Allow,
				Action:   "sns:Publish",
				Resource: a.TopicArn,
			},
			iamdoc.Statement{
				Sid:       "EncryptForTopic",
				Effect:    iamdoc.Allow,
				Action:    []string{"kms:GenerateDataKey*", "kms:Decrypt"},
				Resource:  a.TopicKeyArn,
				Condition: iamdoc.Equals("kms:ViaService", fmt.Sprintf("sns.%s.amazonaws.com", a.MasterRegion)),
			})
	}
	return iamdoc.Document(statements...)
}

// accessPolicy resolves the service's ARNs and renders its policy.
func accessPolicy(args *Args, w *Service) pulumi.StringOutput {
	var queueArn, queueKey, topicArn, topicKey pulumi.StringInput = pulumi.String(""), pulumi.String(""), pulumi.String(""), pulumi.String("")
	if w.QueueArn != nil {
		queueArn, queueKey = w.QueueArn, args.QueueKeyArn
	}
	if w.TopicArn != nil {
		topicArn, topicKey = w.TopicArn, args.TopicKeyArn
	}
	region, master := args.Region, args.MasterRegion
	return pulumi.All(w.SecretArn, args.KmsKeyArn, queueArn, queueKey, topicArn, topicKey).ApplyT(func(v []any) (string, error) {
		return AccessPolicy(Access{
			Region: region, MasterRegion: master,
			SecretArn: v[0].(string), KeyArn: v[1].(string), QueueArn: v[2].(string), QueueKeyArn: v[3].(string),
			TopicArn: v[4].(string), TopicKeyArn: v[5].(string),
		})
	}).(pulumi.StringOutput)
}

// MigrationPolicy grants the migration job exactly: reading its secret,
// and the decryption that needs.
func MigrationPolicy(region, secretArn, keyArn string) (string, error) {
	if region == "" || secretArn == "" || keyArn == "" {
		return "", errors.New("appconfig: the migration's access needs region, secret and key")
	}
	return iamdoc.Document(
		iamdoc.Statement{
			Sid:      "ReadMigrationSettings",
			Effect:   iamdoc.Allow,
			Action:   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
			Resource: secretArn,
		},
		iamdoc.Statement{
			Sid:       "DecryptMigrationSettings",
			Effect:    iamdoc.Allow,
			Action:    "kms:Decrypt",
			Resource:  keyArn,
			Condition: iamdoc.Equals("kms:ViaService", fmt.Sprintf("secretsmanager.%s.amazonaws.com", region)),
		},
	)
}
