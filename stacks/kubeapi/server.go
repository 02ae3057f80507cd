// Package kubeapi checks Kubernetes objects against a real kube-apiserver:
// it starts etcd and kube-apiserver on loopback ports in a temporary
// directory, applies CustomResourceDefinitions and Namespaces for real, and
// sends every other object through a server-side dry-run apply, returning
// what the server refused and the warnings it gave. FromInventory turns a
// mock plan into those objects, the way the Pulumi Kubernetes provider
// would.
//
// The binaries come from scripts/build-kube-apiserver.sh (run by make test
// and .ci/run), linked into the repository's bin/; KUBE_APISERVER and ETCD
// name others.
//
// The client is plain net/http, not client-go: the check needs four calls
// (readyz, version, discovery, apply) and a CRD status read. client-go
// costs little link time here (measured: +0.2 s of 7.5 s, +33 MB of binary,
// the Kubernetes SDK being linked anyway) but adds some 30 modules to the
// infrastructure module and moves google.golang.org/protobuf to a
// pre-release, which recompiles every Pulumi package.
package kubeapi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options say where the binaries are; empty fields take the defaults.
type Options struct {
	// KubeAPIServer and Etcd are the binaries' paths. Default: the
	// KUBE_APISERVER and ETCD environment variables, else bin/kube-apiserver
	// and bin/etcd in the repository holding the working directory.
	KubeAPIServer, Etcd string
	// ReadyTimeout bounds the wait for /readyz (default 90 s).
	ReadyTimeout time.Duration
	// Emulate is a Kubernetes minor ("1.34") for the server to emulate
	// (--emulated-version): the APIs it serves and its feature defaults are
	// those of that release. kube-apiserver emulates up to three minors
	// back; see Emulation. Empty: the binary's own.
	Emulate string
}

// Server is a running etcd and kube-apiserver pair.
type Server struct {
	// URL is the API server's address, https://127.0.0.1:<port>.
	URL string
	// Version is what the server reports at /version, e.g. v1.37.2.
	Version string
	// Emulated is the minor it emulates, e.g. 1.34 (its own if none).
	Emulated string
	// Startup is how long the two processes took to be ready.
	Startup time.Duration

	dir       string
	token     string
	client    *http.Client
	etcd, api *exec.Cmd
	exited    map[*exec.Cmd]chan struct{}

	discovery map[string]*groupVersion // by apiVersion
	fromCRD   map[string]bool          // "group/Kind" defined by an applied CRD
}

// Start starts etcd and kube-apiserver and waits until the API server
// answers /readyz. A port another process takes between being chosen and
// being bound makes it try again with new ports, up to three times.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if err := opts.resolve(); err != nil {
		return nil, err
	}
	var err error
	for range 3 {
		var s *Server
		s, err = start(ctx, opts)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) {
			return nil, err
		}
	}
	return nil, err
}

var errPortTaken = errors.New("a chosen port was taken before it was bound")

func (o *Options) resolve() error {
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 90 * time.Second
	}
	if o.KubeAPIServer == "" {
		o.KubeAPIServer = os.Getenv("KUBE_APISERVER")
	}
	if o.Etcd == "" {
		o.Etcd = os.Getenv("ETCD")
	}
	if o.KubeAPIServer == "" || o.Etcd == "" {
		root, err := repoRoot()
		if err != nil {
			return err
		}
		if o.KubeAPIServer == "" {
			o.KubeAPIServer = filepath.Join(root, "bin", "kube-apiserver")
		}
		if o.Etcd == "" {
			o.Etcd = filepath.Join(root, "bin", "etcd")
		}
	}
	for _, bin := range []string{o.KubeAPIServer, o.Etcd} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("kubeapi: %s is missing: run `bash scripts/build-kube-apiserver.sh` (make test does) "+
				"or set KUBE_APISERVER and ETCD: %w", bin, err)
		}
	}
	return nil
}

// repoRoot is the nearest directory above the working directory that holds
// a go.mod and a bin/ or scripts/ directory: the infrastructure module's root.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "scripts", "build-kube-apiserver.sh")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("kubeapi: no repository root (with scripts/build-kube-apiserver.sh) above %s; set KUBE_APISERVER and ETCD", dir)
		}
	}
}

func start(ctx context.Context, opts Options) (s *Server, err error) {
	began := time.Now()
	removeStale()
	dir, err := os.MkdirTemp("", "kubeapi-")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, err
	}
	s = &Server{dir: dir, exited: map[*exec.Cmd]chan struct{}{}, discovery: map[string]*groupVersion{}, fromCRD: map[string]bool{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdClient := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	etcdPeer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	s.URL = "https://127.0.0.1:" + strconv.Itoa(ports[2])

	creds, err := writeCredentials(dir)
	if err != nil {
		return nil, err
	}
	s.token = creds.token
	roots := x509.NewCertPool()
	roots.AddCert(creds.serving)
	s.client = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			// Loopback only: a proxy from the environment must not see the token.
			Proxy: nil,
		},
	}

	// etcd on loopback without TLS: it holds nothing but this test's objects
	// and lives as long as the test. No fsync for the same reason.
	s.etcd, err = s.spawn("etcd", opts.Etcd,
		"--name=test",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdClient,
		"--advertise-client-urls="+etcdClient,
		"--listen-peer-urls="+etcdPeer,
		"--initial-advertise-peer-urls="+etcdPeer,
		"--initial-cluster=test="+etcdPeer,
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	if err != nil {
		return nil, err
	}
	// kube-apiserver retries etcd until it answers, so both start at once.
	args := []string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[2]),
		"--tls-cert-file=" + creds.certFile,
		"--tls-private-key-file=" + creds.keyFile,
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--etcd-servers=" + etcdClient,
		"--token-auth-file=" + creds.tokenFile,
		"--anonymous-auth=false",
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + creds.saKeyFile,
		"--service-account-signing-key-file=" + creds.saKeyFile,
		"--service-cluster-ip-range=10.96.0.0/16",
		// No controller manager or nodes run, so nothing reconciles the
		// kubernetes Service's endpoints.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		// As on EKS: privileged pods are the Pod Security levels' to refuse.
		"--allow-privileged=true",
	}
	if opts.Emulate != "" {
		args = append(args, "--emulated-version=kube="+opts.Emulate)
	}
	s.api, err = s.spawn("kube-apiserver", opts.KubeAPIServer, args...)
	if err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, opts.ReadyTimeout); err != nil {
		return nil, err
	}
	// Every namespace of a real cluster has the default ServiceAccount
	// (the controller manager makes it, which does not run here); a Pod
	// without one is refused.
	if err := s.defaultServiceAccounts(ctx, "default", "kube-system"); err != nil {
		return nil, err
	}
	s.Startup = time.Since(began)
	return s, nil
}

// spawn starts a binary with its output in <dir>/<name>.log, in its own
// process group, killed with the test process if that dies first.
func (s *Server) spawn(name, bin string, args ...string) (*exec.Cmd, error) {
	logFile, err := os.Create(filepath.Join(s.dir, name+".log")) //nolint:gosec // our own temporary directory
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...) //nolint:gosec // the binaries the build script made, by design
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("kubeapi: start %s: %w", name, err)
	}
	done := make(chan struct{})
	s.exited[cmd] = done
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(done)
	}()
	return cmd, nil
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		for _, c := range []struct {
			name string
			cmd  *exec.Cmd
		}{{"etcd", s.etcd}, {"kube-apiserver", s.api}} {
			select {
			case <-s.exited[c.cmd]:
				return s.startError(c.name, fmt.Sprintf("%s exited: %v", c.name, c.cmd.ProcessState))
			default:
			}
		}
		status, body, _, err := s.do(ctx, http.MethodGet, "/readyz", nil, "", nil)
		if err == nil && status == http.StatusOK {
			_, body, _, err = s.do(ctx, http.MethodGet, "/version", nil, "", nil)
			if err != nil {
				return err
			}
			var v struct {
				GitVersion     string `json:"gitVersion"`
				Major          string `json:"major"`
				Minor          string `json:"minor"`
				EmulationMajor string `json:"emulationMajor"`
				EmulationMinor string `json:"emulationMinor"`
			}
			if err := decodeJSON(body, &v); err != nil {
				return fmt.Errorf("kubeapi: /version: %w", err)
			}
			s.Version = v.GitVersion
			s.Emulated = v.Major + "." + v.Minor
			if v.EmulationMinor != "" {
				s.Emulated = v.EmulationMajor + "." + v.EmulationMinor
			}
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("/readyz answered %d: %s", status, bytes.TrimSpace(body))
		}
		select {
		case <-ctx.Done():
			return s.startError("kube-apiserver", fmt.Sprintf("not ready after %s (last: %s)", timeout, last))
		case <-tick.C:
		}
	}
}

// startError names what failed with the end of each log; a port taken by
// someone else is errPortTaken, so Start tries other ports.
func (s *Server) startError(name, what string) error {
	var logs strings.Builder
	taken := false
	for _, n := range []string{"etcd", "kube-apiserver"} {
		b, _ := os.ReadFile(filepath.Join(s.dir, n+".log")) //nolint:gosec // our own temporary directory
		if bytes.Contains(b, []byte("address already in use")) {
			taken = true
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Fprintf(&logs, "\n--- last lines of %s.log:\n%s", n, strings.Join(lines, "\n"))
	}
	err := fmt.Errorf("kubeapi: %s: %s%s", name, what, logs.String())
	if taken {
		return fmt.Errorf("%w: %w", errPortTaken, err)
	}
	return err
}

// Close stops both processes and removes the temporary directory. The data
// is throwaway, so they are killed rather than drained.
func (s *Server) Close() {
	for _, cmd := range []*exec.Cmd{s.api, s.etcd} {
		if cmd == nil || cmd.Process == nil {
			continue
		}
		// The whole process group, in case either ever forks.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited[cmd]
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// removeStale removes the directories of servers whose test process died
// without Close (a panic, a -timeout): the kernel killed the servers, but
// their directories, some 120 MB each with etcd's write-ahead log, stay.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "kubeapi-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner")) //nolint:gosec // our own naming scheme in the temp directory
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}

// freePorts reserves n distinct loopback ports by listening on them, then
// releases them for the servers to bind.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer func() { _ = l.Close() }()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

type credentials struct {
	certFile, keyFile, tokenFile, saKeyFile string
	serving                                 *x509.Certificate
	token                                   string
}

// writeCredentials makes what a private test server needs and no more: a
// self-signed serving certificate for 127.0.0.1 (the client pins it), a
// random admin token in system:masters, and a service-account signing key.
// All files are 0600 in the 0700 temporary directory.
func writeCredentials(dir string) (*credentials, error) {
	c := &credentials{
		certFile:  filepath.Join(dir, "serving.crt"),
		keyFile:   filepath.Join(dir, "serving.key"),
		tokenFile: filepath.Join(dir, "tokens.csv"),
		saKeyFile: filepath.Join(dir, "service-account.key"),
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "kubeapi test server"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	if c.serving, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	saDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	c.token = hex.EncodeToString(secret)

	files := map[string][]byte{
		c.certFile:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		c.keyFile:   pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		c.saKeyFile: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: saDER}),
		// token,user,uid,"groups"
		c.tokenFile: []byte(c.token + `,kubeapi-admin,kubeapi-admin,"system:masters"` + "\n"),
	}
	for path, b := range files {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Emulation is the minor a kube-apiserver of minor binary should emulate
// to check objects for a cluster at minor cluster: the cluster's own when
// the binary can emulate it (from three minors back up to its own), else
// the nearest it can, with a note saying so.
func Emulation(cluster, binary string) (emulate, note string, err error) {
	c, err := minorOf(cluster)
	if err != nil {
		return "", "", err
	}
	b, err := minorOf(binary)
	if err != nil {
		return "", "", err
	}
	switch {
	case c > b:
		return "", "", fmt.Errorf("kubeapi: cluster version %s is newer than kube-apiserver %s: build a newer one (tools/kube-apiserver/go.mod)", cluster, binary)
	case c < b-3:
		return fmt.Sprintf("1.%d", b-3), fmt.Sprintf("kube-apiserver %s emulates back to 1.%d only, so a %s cluster is checked as 1.%d", binary, b-3, cluster, b-3), nil
	}
	return fmt.Sprintf("1.%d", c), "", nil
}

// minorOf reads the minor of "1.34", "v1.37.2" and the like.
func minorOf(v string) (int, error) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 || parts[0] != "1" {
		return 0, fmt.Errorf("kubeapi: %q is not a Kubernetes 1.x version", v)
	}
	m, err := strconv.Atoi(parts[1])
	if err != nil {
		return 0, fmt.Errorf("kubeapi: %q is not a Kubernetes 1.x version", v)
	}
	return m, nil
}

// BinaryVersion is what the kube-apiserver binary says it is (v1.37.2),
// without starting a server.
func BinaryVersion(opts Options) (string, error) {
	if err := opts.resolve(); err != nil {
		return "", err
	}
	out, err := exec.Command(opts.KubeAPIServer, "--version").Output() //nolint:gosec // the binary the build script made
	if err != nil {
		return "", fmt.Errorf("kubeapi: %s --version: %w", opts.KubeAPIServer, err)
	}
	// "Kubernetes v1.37.2"
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return "", fmt.Errorf("kubeapi: %s --version said %q", opts.KubeAPIServer, out)
	}
	return f[1], nil
}
