package itest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

// tlsServer is a PostgreSQL server of the test's own, shaped like RDS: TLS
// only, SCRAM passwords, and a master user "app" that is not a superuser
// but owns the service's database and the maintenance database.
type tlsServer struct {
	Port    int
	CAFile  string // the CA that signed the server's certificate
	Socket  string // the Unix socket directory (the bootstrap superuser's way in)
	OtherCA string // a CA that did not
}

// certPair makes a key and a certificate signed by parent (self-signed
// when parent is nil).
func certPair(t *testing.T, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	cert, key, certPEM, _ := certPair(t, &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	return cert, key, certPEM
}

// startTLSServer runs initdb and postgres from Debian's packages into a
// temporary directory, as the postgres user when the test runs as root
// (PostgreSQL refuses to run as root), and stops it when the test ends.
func startTLSServer(t *testing.T) *tlsServer {
	t.Helper()
	skip := func(format string, args ...any) {
		msg := fmt.Sprintf("SKIPPING the TLS server test: "+format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		skip("no /usr/lib/postgresql/*/bin/initdb (Debian's postgresql package)")
	}
	sort.Slice(bins, func(i, j int) bool { return versionOf(bins[i]) > versionOf(bins[j]) })
	binDir := filepath.Dir(bins[0])

	dir, err := os.MkdirTemp("", "itest-pgtls-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			skip("running as root and there is no postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)} //nolint:gosec // ids from the password database
	}
	own := func(path string) {
		if cred != nil {
			if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
				t.Fatal(err)
			}
		}
	}
	own(dir)
	write := func(name string, data []byte, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, mode); err != nil {
			t.Fatal(err)
		}
		own(path)
		return path
	}

	ca, caKey, caPEM := newCA(t, "itest RDS-like CA")
	_, _, otherPEM := newCA(t, "itest unrelated CA")
	_, _, serverPEM, serverKey := certPair(t, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, caKey)
	s := &tlsServer{CAFile: write("ca.pem", caPEM, 0o644), OtherCA: write("other-ca.pem", otherPEM, 0o644), Socket: dir}
	write("server.crt", serverPEM, 0o644)
	write("server.key", serverKey, 0o600)

	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(binDir, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = dir
		return cmd
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// TLS with SCRAM on TCP, nothing without TLS; the socket (in a
	// directory only this test and the server can enter) is the
	// bootstrap superuser's, for setting up.
	write("data/pg_hba.conf", []byte("local all postgres trust\nhostssl all all 127.0.0.0/8 scram-sha-256\n"), 0o600)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	logs := &syncBuffer{}
	srv := run("postgres", "-D", data, "-p", strconv.Itoa(s.Port), "-c", "listen_addresses=127.0.0.1,127.0.0.2",
		"-c", "unix_socket_directories="+dir, "-c", "ssl=on", "-c", "ssl_cert_file="+filepath.Join(dir, "server.crt"),
		"-c", "ssl_key_file="+filepath.Join(dir, "server.key"), "-c", "fsync=off", "-c", "shared_buffers=16MB",
		"-c", "password_encryption=scram-sha-256")
	srv.Stdout, srv.Stderr = logs, logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = srv.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = srv.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("postgres log:\n%s", logs.String())
		}
	})
	eventually(t, 30*time.Second, "the TLS server accepting connections", func() bool {
		c, err := pgx.Connect(context.Background(), s.superuser("postgres"))
		if err == nil {
			c.Close(context.Background())
		}
		return err == nil
	})
	// As on RDS: the master user is no superuser, may create roles and
	// databases, and owns the service's database and the maintenance one.
	for _, stmt := range []string{
		"CREATE ROLE app LOGIN PASSWORD 'owner-password-0123456789' CREATEDB CREATEROLE",
		"CREATE DATABASE userdb OWNER app",
		"ALTER DATABASE postgres OWNER TO app",
	} {
		c, err := pgx.Connect(context.Background(), s.superuser("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Exec(context.Background(), stmt)
		c.Close(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return s
}

func versionOf(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// superuser is the bootstrap superuser's URL over the Unix socket.
func (s *tlsServer) superuser(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d", db, url.QueryEscape(s.Socket), s.Port)
}

// url is a TCP URL as the infrastructure writes it: verify-full against
// the CA bundle.
func (s *tlsServer) url(host, user, password, db, caFile string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: net.JoinHostPort(host, strconv.Itoa(s.Port)), Path: "/" + db,
		RawQuery: url.Values{"sslmode": {"verify-full"}, "sslrootcert": {caFile}}.Encode()}
	return u.String()
}

// TestDatabaseTLSAndRoleOnAnRDSShapedServer: migrate mode and a service
// against a server shaped like RDS (TLS only, SCRAM, a master user that is
// no superuser): the service connects with sslmode=verify-full, a wrong CA
// or host name is refused, the login role reaches no other database, and a
// new APP_DB_PASSWORD locks the old one out.
func TestDatabaseTLSAndRoleOnAnRDSShapedServer(t *testing.T) {
	s := startTLSServer(t)
	ctx := context.Background()
	owner := s.url("127.0.0.1", "app", "owner-password-0123456789", "userdb", s.CAFile)
	migrate := func(password string) {
		t.Helper()
		env := map[string]string{"DATABASE_URL": owner, "APP_DB_USER": "user_app", "APP_DB_PASSWORD": password,
			"READER_DB_USER": "user_reader", "READER_DB_PASSWORD": password + "-reader",
			"SERVICE_NAME": "user", "AWS_REGION": awsRegion}
		logs := &syncBuffer{}
		if err := platform.Run(ctx, "user", []string{"migrate"}, func(k string) string { return env[k] }, logs, migrations["user"], builders["user"]); err != nil {
			t.Fatalf("migrate as the RDS-like master user: %v\n%s", err, logs.String())
		}
	}
	const first, second = "first-password-0123456789", "second-password-0123456789"
	migrate(first)

	t.Run("the service connects with verify-full", func(t *testing.T) {
		svc := startService(t, "user", map[string]string{
			"DATABASE_URL": s.url("127.0.0.1", "user_app", first, "userdb", s.CAFile),
			"QUEUE_URL":    newQueue(t, "tls", 2, 3).URL, "AUTH_JWKS_URL": "http://127.0.0.1:1/jwks",
		})
		r := call(t, "GET", svc.URL+"/readyz", "", nil)
		expect(t, r, http.StatusOK)
		var ssl bool
		if err := svc.App.Deps().Write.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
			t.Errorf("the service's connection is not TLS: ssl=%v err=%v", ssl, err)
		}
	})

	t.Run("a wrong CA, host name or no TLS is refused", func(t *testing.T) {
		for name, c := range map[string]struct{ url, want string }{
			"another CA":     {s.url("127.0.0.1", "user_app", first, "userdb", s.OtherCA), "certificate signed by unknown authority"},
			"another name":   {s.url("127.0.0.2", "user_app", first, "userdb", s.CAFile), "not 127.0.0.2"},
			"no TLS":         {strings.Replace(s.url("127.0.0.1", "user_app", first, "userdb", s.CAFile), "sslmode=verify-full", "sslmode=disable", 1), "no encryption"},
			"system CA only": {strings.Replace(s.url("127.0.0.1", "user_app", first, "userdb", s.CAFile), "&sslrootcert=", "&ignored=", 1), "certificate signed by unknown authority"},
		} {
			conn, err := pgx.Connect(ctx, c.url)
			if err == nil {
				conn.Close(ctx)
				t.Errorf("%s: connected", name)
				continue
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: refused, but not for %q: %v", name, c.want, err)
			}
		}
	})

	t.Run("the role reaches no other database and creates nothing", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, s.url("127.0.0.1", "user_app", first, "postgres", s.CAFile))
		if err == nil {
			conn.Close(ctx)
			t.Error("the role connected to the postgres database")
		} else if sqlState(err) != "42501" {
			t.Errorf("connecting to another database: want permission denied, got %v", err)
		}
		conn, err = pgx.Connect(ctx, s.url("127.0.0.1", "user_app", first, "userdb", s.CAFile))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, stmt := range []string{"CREATE TABLE intruder (id int)", "CREATE TEMPORARY TABLE intruder (id int)", "DROP TABLE profiles", "CREATE DATABASE intruder"} {
			if _, err := conn.Exec(ctx, stmt); sqlState(err) != "42501" {
				t.Errorf("%s: want permission denied, got %v", stmt, err)
			}
		}
	})

	t.Run("a new password locks the old one out", func(t *testing.T) {
		migrate(first) // again: still the same password
		if c, err := pgx.Connect(ctx, s.url("127.0.0.1", "user_app", first, "userdb", s.CAFile)); err != nil {
			t.Fatalf("after a second migrate the password fails: %v", err)
		} else {
			c.Close(ctx)
		}
		migrate(second)
		if c, err := pgx.Connect(ctx, s.url("127.0.0.1", "user_app", first, "userdb", s.CAFile)); err == nil {
			c.Close(ctx)
			t.Error("the old password still logs in")
		} else if sqlState(err) != "28P01" {
			t.Errorf("old password: want invalid password (28P01), got %v", err)
		}
		c, err := pgx.Connect(ctx, s.url("127.0.0.1", "user_app", second, "userdb", s.CAFile))
		if err != nil {
			t.Fatalf("the new password: %v", err)
		}
		c.Close(ctx)
	})
}
