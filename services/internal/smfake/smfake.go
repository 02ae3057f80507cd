// Package smfake is an HTTP server that speaks the part of the AWS Secrets
// Manager JSON protocol the services use (GetSecretValue), for tests. No
// Secrets Manager emulator can be had here (goaws has none), and the SDK
// client under test is the real one: it signs, sends and decodes exactly
// what it would send to AWS, reached through its endpoint override.
package smfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
)

// Server holds secrets by ARN.
type Server struct {
	*httptest.Server

	mu      sync.Mutex
	secrets map[string]string
	denied  map[string]bool
	// Regions records the region each request was signed for.
	regions []string
}

// New starts a server; Close stops it.
func New() *Server {
	s := &Server{secrets: map[string]string{}, denied: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Put stores a secret's string value.
func (s *Server) Put(arn, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[arn] = value
}

// Deny makes reads of arn fail as IAM would for a role without access.
func (s *Server) Deny(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[arn] = true
}

// SignedRegions returns the region of every request's signature so far.
func (s *Server) SignedRegions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.regions...)
}

var scope = regexp.MustCompile(`Credential=[^/]+/[0-9]{8}/([^/]+)/secretsmanager/aws4_request`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", typ)
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	m := scope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		fail(http.StatusBadRequest, "IncompleteSignatureException", "the request is not signed for secretsmanager")
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		fail(http.StatusBadRequest, "InvalidAction", "only secretsmanager.GetSecretValue is served here")
		return
	}
	var in struct{ SecretId string } //nolint:revive // the protocol's field name
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	s.regions = append(s.regions, m[1])
	value, ok := s.secrets[in.SecretId]
	denied := s.denied[in.SecretId]
	s.mu.Unlock()
	switch {
	case denied:
		fail(http.StatusBadRequest, "AccessDeniedException",
			"User: arn:aws:sts::123456789012:assumed-role/test/session is not authorized to perform: secretsmanager:GetSecretValue on resource: "+in.SecretId)
	case !ok:
		fail(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"ARN": in.SecretId, "Name": in.SecretId, "SecretString": value,
			"VersionId": "00000000-0000-0000-0000-000000000001", "VersionStages": []string{"AWSCURRENT"},
			"CreatedDate": 1.7e9,
		})
	}
}
