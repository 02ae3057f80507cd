package itest

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLoginFlood runs auth as its own process with the production hash
// cost (argon2id, 19 MiB) and floods it with logins from 64 connections,
// right and wrong passwords alternating, with the throttles off (the flood
// of a botnet: many addresses, many emails) so the hash gate alone bounds
// the cost. It samples the process's resident memory and prints the peak
// beside the memory limit the workload gets, and how many logins still
// completed.
//
// BENCH_DURATION (default 5s); BENCH_AUTH_LIMIT_MIB (default 256, the
// container limit to stay under); BENCH_AUTH_GOMEMLIMIT (default 200MiB,
// passed as GOMEMLIMIT as the deployment should, about 80% of the limit).
func BenchmarkLoginFlood(b *testing.B) {
	dur := 5 * time.Second
	if v, err := time.ParseDuration(os.Getenv("BENCH_DURATION")); err == nil {
		dur = v
	}
	limitMiB := 256
	if v, err := strconv.Atoi(os.Getenv("BENCH_AUTH_LIMIT_MIB")); err == nil && v > 0 {
		limitMiB = v
	}
	memLimit := env("BENCH_AUTH_GOMEMLIMIT", "200MiB")
	const conns = 64

	bin := serviceBinary(b, "auth")
	addr := freePortB(b)
	logs := &syncBuffer{}
	cmd := exec.Command(bin)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = append(os.Environ(), "SERVICE_NAME=auth", "HTTP_ADDR="+addr, "DATABASE_URL="+servingURL(b, "auth", newDatabase(b, "flood")),
		"TOPIC_ARN="+newTopic(b, "flood"), "AWS_REGION="+awsRegion, "AWS_ENDPOINT_URL="+awsEndpoint,
		"JWT_SIGNING_KEY="+signingKeyPEM(b), "REDIS_URL="+redisURL, "LOGIN_IP_MAX_ATTEMPTS=0", "LOGIN_MAX_FAILURES=0",
		"GOMEMLIMIT="+memLimit, "ACCESS_LOG_SAMPLE_RATE=0")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if b.Failed() {
			b.Logf("auth logs:\n%s", logs.String())
		}
	}()
	base := "http://" + addr
	eventually(b, 30*time.Second, "auth ready", func() bool {
		r, err := tryCall("GET", base+"/readyz", "", nil)
		return err == nil && r.Status == http.StatusOK
	})
	expect(b, call(b, "POST", base+"/v1/auth/register", "", map[string]string{"email": "flood@example.com", "password": "correct horse battery"}), http.StatusCreated)
	idle := rssKiB(b, cmd.Process.Pid, "VmRSS")

	var peak atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if v := rssKiB(b, cmd.Process.Pid, "VmRSS"); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	c := newLoadClient(conns)
	var ok, wrong, shed, failed atomic.Int64
	lat := make([][]time.Duration, conns)
	end := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(end); i++ {
				pw := "correct horse battery"
				if i%2 == 1 {
					pw = "wrong horse battery"
				}
				req, _ := http.NewRequest("POST", base+"/v1/auth/login", strings.NewReader(`{"email":"flood@example.com","password":"`+pw+`"}`))
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				drain(resp)
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
					lat[w] = append(lat[w], time.Since(t0))
				case http.StatusUnauthorized:
					wrong.Add(1)
					lat[w] = append(lat[w], time.Since(t0))
				case http.StatusServiceUnavailable:
					shed.Add(1)
					// A client honouring Retry-After would wait; a flood
					// does not, which is the worst case for the server.
				default:
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	elapsed := time.Since(start)
	close(stopSampling)
	<-sampled
	hwm := rssKiB(b, cmd.Process.Pid, "VmHWM")
	done := summarize(slices.Concat(lat...), elapsed, failed.Load())
	peakMiB := float64(max(peak.Load(), hwm)) / 1024
	fmt.Printf("auth_login_flood conns=%d hash_kib=19456 budget_mib=64 gomemlimit=%s idle_rss_mib=%.1f peak_rss_mib=%.1f limit_mib=%d within_limit=%t\n",
		conns, memLimit, float64(idle)/1024, peakMiB, limitMiB, peakMiB < float64(limitMiB))
	fmt.Printf("auth_login_flood logins_ok_rps=%.1f wrong_password_rps=%.1f completed_p50_ms=%.1f completed_p99_ms=%.1f shed_503=%d errors=%d duration_s=%.1f\n",
		float64(ok.Load())/elapsed.Seconds(), float64(wrong.Load())/elapsed.Seconds(), done.p50, done.p99, shed.Load(), failed.Load(), elapsed.Seconds())
	b.ReportMetric(peakMiB, "peak_rss_MiB")
	b.ReportMetric(float64(ok.Load())/elapsed.Seconds(), "logins_ok/s")
	if ok.Load() == 0 {
		b.Fatal("no login succeeded under the flood")
	}
}

// rssKiB reads a memory field (VmRSS, VmHWM) of a process, in KiB.
func rssKiB(b *testing.B, pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func freePortB(b *testing.B) string {
	ln, err := netListen()
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
