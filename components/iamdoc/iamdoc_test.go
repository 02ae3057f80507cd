package iamdoc_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/iamdoc"
)

func TestDocumentShape(t *testing.T) {
	doc, err := iamdoc.Document(
		iamdoc.Statement{Sid: "Read", Effect: iamdoc.Allow, Action: []string{"s3:GetObject"}, Resource: "arn:aws:s3:::b/*"},
		iamdoc.DenyPlainTransport("s3:*", "arn:aws:s3:::b/*"),
	)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &got))
	assert.Equal(t, "2012-10-17", got["Version"])
	stmts := got["Statement"].([]any)
	require.Len(t, stmts, 2)
	first := stmts[0].(map[string]any)
	assert.NotContains(t, first, "Principal", "an identity policy statement has no principal")
	assert.NotContains(t, first, "Condition")
	deny := stmts[1].(map[string]any)
	assert.Equal(t, "*", deny["Principal"])
	assert.Equal(t, map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}, deny["Condition"])
}

func TestServiceTrust(t *testing.T) {
	doc, err := iamdoc.ServiceTrust("monitoring.rds.amazonaws.com", []string{"sts:AssumeRole"}, iamdoc.Equals("aws:SourceAccount", "111122223333"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"Service":"monitoring.rds.amazonaws.com"},"Action":["sts:AssumeRole"],
		"Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`, doc)
}

func TestDocumentRejectsMalformedStatements(t *testing.T) {
	_, err := iamdoc.Document()
	assert.ErrorContains(t, err, "at least one statement")
	_, err = iamdoc.Document(iamdoc.Statement{Sid: "X", Effect: "allow", Action: "s3:*"})
	assert.ErrorContains(t, err, `Effect "allow"`)
	_, err = iamdoc.Document(iamdoc.Statement{Sid: "Y", Effect: iamdoc.Allow})
	assert.ErrorContains(t, err, "Action is required")
}
