// Command stubprovider stands in for the AWS, Kubernetes and random resource
// providers when the engine test previews a stack with the real Pulumi CLI
// and no cloud account. The real AWS provider cannot be had here, and none
// of the three may reach a network in a test.
//
// Installed as pulumi-resource-<package>, it accepts every configuration
// and every input as they are, plans no change to an existing resource,
// computes no output (every output stays unknown, as for a real provider
// before the cloud answers), answers the few lookups listed in
// stacks/plan/lookups as the mock engine does, and refuses every other
// lookup (invoke), method calls, reads and actual creation, each with an
// error that names the operation.
// So a preview through it shows what the engine itself checks: the
// program's registrations, URNs, parents, explicit providers, config
// schema and plugin versions. The providers' own input checks are not
// reproduced; see README.md, "Test ladder".
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/example/ecommerce-platform/stacks/plan/lookups"
)

func main() {
	// The engine starts a provider plugin by its file name,
	// pulumi-resource-<package>; the package name is only used in errors.
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-resource-")
	if err := serve(&stub{pkg: name}); err != nil {
		fmt.Fprintf(os.Stderr, "stand-in %s provider: %v\n", name, err)
		os.Exit(1)
	}
}

// serve speaks the plugin start-up protocol: listen on a free loopback
// port, print it for the engine, serve until the engine stops the process.
// (The SDK's provider.Main does the same but would add OpenTelemetry
// bridges to go.mod for a test tool.)
func serve(s pulumirpc.ResourceProviderServer) error {
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, s)
			return nil
		},
	})
	if err != nil {
		return err
	}
	fmt.Println(handle.Port)
	return <-handle.Done
}

// stub implements the provider protocol by accepting and echoing.
type stub struct {
	pulumirpc.UnimplementedResourceProviderServer
	pkg string

	mu     sync.Mutex
	region string // from Configure, for the lookups that differ by region
}

func (s *stub) refuse(what string) error {
	return status.Errorf(codes.FailedPrecondition,
		"stand-in %s provider: %s is refused: this provider exists only for offline previews and reaches no cloud", s.pkg, what)
}

// GetPluginInfo reports the version the stand-in is installed as, which
// the engine compares with the version the program asked for. The engine
// starts it by its path in the plugin cache, .../resource-<pkg>-v<version>/.
func (s *stub) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	dir := filepath.Base(filepath.Dir(os.Args[0]))
	version, ok := strings.CutPrefix(dir, "resource-"+s.pkg+"-v")
	if !ok {
		version = ""
	}
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (s *stub) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *stub) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// Configure accepts secrets, resource references and outputs as inputs, so
// the engine sends them unchanged; without preview support the engine asks
// for no planned outputs and leaves them unknown.
func (s *stub) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	region := req.GetVariables()[s.pkg+":config:region"]
	if r, ok := req.GetArgs().GetFields()["region"]; ok && r.GetStringValue() != "" {
		region = r.GetStringValue()
	}
	s.mu.Lock()
	s.region = region
	s.mu.Unlock()
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, AcceptResources: true, AcceptOutputs: true}, nil
}

func (s *stub) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *stub) Diff(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// Invoke answers a lookup of package lookups, as the mock engine does, and
// refuses any other.
func (s *stub) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	s.mu.Lock()
	region := s.region
	s.mu.Unlock()
	out, ok, err := lookups.Answer(req.GetTok(), req.GetArgs().AsMap(), region)
	if !ok {
		return nil, s.refuse(fmt.Sprintf("lookup %s (the program must run without a cloud account, so it may not look anything up; answered offline: %v)", req.GetTok(), lookups.Tokens()))
	}
	if err != nil {
		return nil, s.refuse(fmt.Sprintf("lookup %s: %v", req.GetTok(), err))
	}
	ret, err := structpb.NewStruct(out)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "stand-in %s provider: lookup %s: %v", s.pkg, req.GetTok(), err)
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}

func (s *stub) Call(_ context.Context, req *pulumirpc.CallRequest) (*pulumirpc.CallResponse, error) {
	return nil, s.refuse("method call " + req.GetTok())
}

func (s *stub) Construct(_ context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	return nil, s.refuse("remote component " + req.GetType())
}

func (s *stub) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	return nil, s.refuse("creating " + req.GetUrn())
}

func (s *stub) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return nil, s.refuse("reading " + req.GetUrn())
}

func (s *stub) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	return nil, s.refuse("updating " + req.GetUrn())
}

func (s *stub) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return nil, s.refuse("deleting " + req.GetUrn())
}

func (s *stub) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
