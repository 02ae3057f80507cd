package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestStubAcceptsInputsPlansNoChangeRefusesLookups(t *testing.T) {
	ctx := context.Background()
	s := &stub{pkg: "aws"}
	news, err := structpb.NewStruct(map[string]any{"cidrBlock": "10.0.0.0/16", "tags": map[string]any{"project": "ecommerce"}})
	require.NoError(t, err)

	checked, err := s.Check(ctx, &pulumirpc.CheckRequest{News: news})
	require.NoError(t, err)
	assert.Equal(t, news.AsMap(), checked.GetInputs().AsMap(), "inputs are accepted as they are")
	assert.Empty(t, checked.GetFailures())

	diff, err := s.Diff(ctx, &pulumirpc.DiffRequest{News: news})
	require.NoError(t, err)
	assert.Equal(t, pulumirpc.DiffResponse_DIFF_NONE, diff.GetChanges())

	_, err = s.Invoke(ctx, &pulumirpc.InvokeRequest{Tok: "aws:index/getCallerIdentity:getCallerIdentity"})
	require.Error(t, err)
	assert.Equal(t, codes.FailedPrecondition, status.Code(err))
	assert.Contains(t, err.Error(), "aws:index/getCallerIdentity:getCallerIdentity", "the refusal names the lookup")

	_, err = s.Create(ctx, &pulumirpc.CreateRequest{Urn: "urn:pulumi:dev::ecommerce::aws:ec2/vpc:Vpc::main"})
	require.Error(t, err, "the stand-in never creates anything")
}
