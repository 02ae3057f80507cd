package itest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/example/ecommerce-platform/services/internal/smfake"
)

// binaries are the service binaries built for this run, by name; built
// once, removed by TestMain.
var (
	binDir   string
	binMu    sync.Mutex
	binaries = map[string]string{}
)

// serviceBinary builds cmd/<name> once per run and returns its path.
func serviceBinary(t testing.TB, name string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if bin, ok := binaries[name]; ok {
		return bin
	}
	if binDir == "" {
		dir, err := os.MkdirTemp("", "itest-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binDir = dir
	}
	bin := filepath.Join(binDir, name)
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/"+name).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, out)
	}
	binaries[name] = bin
	return bin
}

// processEnv is the environment of a service process: this test process's
// (AWS test credentials, no instance metadata) plus vars.
func processEnv(vars map[string]string) []string {
	env := os.Environ()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// TestProcessStartsFromItsSecrets runs the order binary as the cluster
// does: the migration job (`order migrate`, its settings from the
// migration secret) and then the serving process (its credentials from the
// runtime secret, the rest from the pod spec), both through the Secrets
// Manager API. A secret that cannot be read or used stops the process
// before anything starts, naming RUNTIME_SECRET_ARN and the cause.
func TestProcessStartsFromItsSecrets(t *testing.T) {
	bin := serviceBinary(t, "order")
	sm := smfake.New()
	defer sm.Close()
	const account = "123456789012"
	arn := func(name string) string {
		return "arn:aws:secretsmanager:" + awsRegion + ":" + account + ":secret:shop/order/" + name + "-AbCdEf"
	}
	owner := newDatabase(t, "proc")
	u, _ := url.Parse(owner)
	role, password := appRoleOf(strings.TrimPrefix(u.Path, "/")), "pw-"+uuid.NewString()
	topic, queue := newTopic(t, "proc"), newQueue(t, "proc", 2, 3)

	secret := func(name string, vars map[string]string) string {
		b, err := json.Marshal(vars)
		if err != nil {
			t.Fatal(err)
		}
		sm.Put(arn(name), string(b))
		return arn(name)
	}
	// What the infrastructure writes (components/appconfig).
	migrateARN := secret("migrate", map[string]string{
		"DATABASE_URL": owner, "APP_DB_USER": role, "APP_DB_PASSWORD": password, "SERVICE_NAME": "order", "AWS_REGION": awsRegion,
		"READER_DB_USER": role + "_reader", "READER_DB_PASSWORD": password + "-reader",
	})
	app := *u
	app.User = url.UserPassword(role, password)
	runtimeARN := secret("runtime", map[string]string{
		"DATABASE_URL": app.String(), "DATABASE_READ_URL": app.String(), "REDIS_URL": redisURL, "REDIS_AUTH_TOKEN": "",
		"QUEUE_URL": queue.URL, "TOPIC_ARN": topic, "SERVICE_NAME": "order", "AWS_REGION": awsRegion,
	})
	sm.Put(arn("not-json"), "DATABASE_URL="+app.String())
	sm.Deny(arn("denied"))
	addr := freePort(t)
	// What the pod spec sets (components/workload), plus the endpoint
	// overrides of this machine. AWS_REGION is what the pod identity
	// webhook injects.
	pod := func(secretARN string, extra ...string) map[string]string {
		vars := map[string]string{
			"RUNTIME_SECRET_ARN": secretARN, "HTTP_ADDR": addr, "SHUTDOWN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "5s",
			"AUTH_JWKS_URL": "http://127.0.0.1:1/v1/auth/jwks", "PRODUCT_API_URL": "http://127.0.0.1:1",
			"AWS_REGION": awsRegion, "AWS_ENDPOINT_URL": awsEndpoint, "AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.URL,
			"GOMEMLIMIT": "123MiB",
		}
		for i := 0; i+1 < len(extra); i += 2 {
			vars[extra[i]] = extra[i+1]
		}
		return vars
	}
	run := func(vars map[string]string, args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = processEnv(vars)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return string(out), 0
		case errors.As(err, &exit):
			return string(out), exit.ExitCode()
		default:
			t.Fatalf("run %s %v: %v\n%s", bin, args, err, out)
			return "", -1
		}
	}

	t.Run("a secret that cannot be used stops the process", func(t *testing.T) {
		for _, c := range []struct {
			name string
			vars map[string]string
			args []string
			want []string
		}{
			{"not found", pod(arn("missing")), nil, []string{"RUNTIME_SECRET_ARN", arn("missing"), "ResourceNotFoundException"}},
			{"access denied", pod(arn("denied")), nil, []string{"RUNTIME_SECRET_ARN", "AccessDeniedException"}},
			{"not JSON", pod(arn("not-json")), nil, []string{"RUNTIME_SECRET_ARN", "not a JSON object of strings"}},
			{"a clash", pod(runtimeARN, "DATABASE_URL", owner), nil, []string{"DATABASE_URL is set in the environment and in the secret", "RUNTIME_SECRET_ARN"}},
			{"a clash in migrate mode", pod(migrateARN, "AWS_REGION", "eu-west-1"), []string{"migrate"}, []string{"AWS_REGION is set in the environment and in the secret"}},
			{"an unknown argument", pod(runtimeARN), []string{"migrat"}, []string{`unknown arguments [\"migrat\"]`}},
		} {
			out, code := run(c.vars, c.args...)
			if code == 0 {
				t.Errorf("%s: exited 0\n%s", c.name, out)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s: the output does not say %q:\n%s", c.name, w, out)
				}
			}
			if strings.Contains(out, password) || strings.Contains(out, `"msg":"serving"`) || strings.Contains(out, `"msg":"migrating"`) {
				t.Errorf("%s: the process started something or printed the password:\n%s", c.name, out)
			}
		}
	})

	t.Run("migrate, then serve", func(t *testing.T) {
		// Migrate mode without its password names it.
		bare := pod("", "DATABASE_URL", owner, "APP_DB_USER", role, "SERVICE_NAME", "order")
		delete(bare, "RUNTIME_SECRET_ARN")
		if out, code := run(bare, "migrate"); code == 0 || !strings.Contains(out, "APP_DB_PASSWORD is required") {
			t.Fatalf("migrate without APP_DB_PASSWORD: exit %d\n%s", code, out)
		}
		out, code := run(pod(migrateARN), "migrate")
		if code != 0 || !strings.Contains(out, `"msg":"migrated"`) || strings.Contains(out, password) {
			t.Fatalf("migrate: exit %d\n%s", code, out)
		}

		logs := &syncBuffer{}
		cmd := exec.Command(bin)
		cmd.Env = processEnv(pod(runtimeARN))
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		defer func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				t.Logf("order process killed: %v", <-exited)
			}
			if t.Failed() {
				t.Logf("order process logs:\n%s", logs.String())
			}
		}()
		eventually(t, 30*time.Second, "order ready with the runtime secret's credentials", func() bool {
			r, err := tryCall("GET", "http://"+addr+"/readyz", "", nil)
			return err == nil && r.Status == http.StatusOK
		})
		// It serves as the login role, not as the owner.
		if n := scalar[int64](t, owner, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND usename = $1", role); n == 0 {
			t.Error("no connection of the serving process is the login role's")
		}
		// GOMEMLIMIT, from the pod spec, is the limit the runtime applies.
		if !strings.Contains(logs.String(), `"memory_limit_bytes":128974848`) {
			t.Errorf("the start-up log does not report GOMEMLIMIT=123MiB as the memory limit")
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("order exited with %v after SIGTERM", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("order did not exit within 30s of SIGTERM")
		}
		if strings.Contains(logs.String(), password) {
			t.Error("the serving process logged the database password")
		}
	})
}
