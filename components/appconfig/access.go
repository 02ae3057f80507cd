package appconfig

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Access is what one service in one region may touch; AccessPolicy turns
// it into the IAM policy of the service's IRSA role (the workloads attach
// it).
type Access struct {
	// Region is the service's region; MasterRegion holds its topic.
	Region, MasterRegion string
	// SecretArn is its runtime secret; KeyArn the region's key that
	// encrypts the secret and its queue.
	SecretArn, KeyArn string
	// QueueArn is set for consumers.
	QueueArn string
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
	via := []string{fmt.Sprintf("secretsmanager.%s.amazonaws.com", a.Region)}
	statements := []map[string]any{{
		"Sid":      "ReadRuntimeSettings",
		"Effect":   "Allow",
		"Action":   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
		"Resource": a.SecretArn,
	}}
	if a.QueueArn != "" {
		via = append(via, fmt.Sprintf("sqs.%s.amazonaws.com", a.Region))
		statements = append(statements, map[string]any{
			"Sid":      "ConsumeOwnQueue",
			"Effect":   "Allow",
			"Action":   []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
			"Resource": a.QueueArn,
		})
	}
	statements = append(statements, map[string]any{
		"Sid":       "DecryptRegionalData",
		"Effect":    "Allow",
		"Action":    "kms:Decrypt",
		"Resource":  a.KeyArn,
		"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": via}},
	})
	if a.TopicArn != "" {
		statements = append(statements,
			map[string]any{
				"Sid":      "PublishOwnTopic",
				"Effect":   "Allow",
				"Action":   "sns:Publish",
				"Resource": a.TopicArn,
			},
			map[string]any{
				"Sid":       "EncryptForTopic",
				"Effect":    "Allow",
				"Action":    []string{"kms:GenerateDataKey*", "kms:Decrypt"},
				"Resource":  a.TopicKeyArn,
				"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("sns.%s.amazonaws.com", a.MasterRegion)}},
			})
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b), err
}
