package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// selfSignedCert writes a certificate for 127.0.0.1 and its key into dir and
// returns their paths and a pool that trusts the certificate.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "flywheel e2e"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSBasicAuthIngestAndBackup runs serve with TLS and basic auth both on
// (--web.config.file): the probes answer without credentials, everything else
// wants them; POST /api/v1/events takes the ingest token in X-Flywheel-Token
// beside the basic auth; GET /api/v1/backup returns a store that opens and
// reports as the running one does.
func TestTLSBasicAuthIngestAndBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	users, err := os.ReadFile("testdata/web-config.yml")
	if err != nil {
		t.Fatal(err)
	}
	webCfg := filepath.Join(dir, "web-config.yml")
	writeFile(t, webCfg, fmt.Sprintf("%s\ntls_server_config:\n  cert_file: %s\n  key_file: %s\n", users, certFile, keyFile))
	const token = "ingest-token-beside-basic-auth"
	tokenFile := filepath.Join(dir, "ingest-token")
	writeFile(t, tokenFile, token)
	db := filepath.Join(dir, "flywheel.db")
	cfg := filepath.Join(dir, "flywheel.yml")
	writeFile(t, cfg, fmt.Sprintf("api:\n  token_file: %s\nstorage:\n  path: %s\n", tokenFile, db))
	if r := runFlywheel(t, nil, "--config.file", cfg, "import", "testdata/events.jsonl"); r.Code != 0 {
		t.Fatalf("import exited %d: %s", r.Code, r.Stderr)
	}

	addr := freePort(t)
	base := "https://" + addr
	srv := startFlywheel(t, nil, "--config.file", cfg, "serve", "--web.listen-address", addr, "--web.config.file", webCfg)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	send := func(method, path, user, header, value, body string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, "scrape-password")
		}
		if header != "" {
			req.Header.Set(header, value)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: read body: %v", method, path, err)
		}
		return resp.StatusCode, resp.Header, string(b)
	}

	// The probes answer without credentials, over TLS, as a kubelet calls them.
	waitForURL(t, client, base+"/-/healthy", http.StatusOK, 20*time.Second)
	waitForURL(t, client, base+"/-/ready", http.StatusOK, 20*time.Second)
	if code, _, _ := send("GET", "/metrics", "", "", "", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials: %d, want 401", code)
	}
	if code, _, body := send("GET", "/metrics", "prometheus", "", "", ""); code != http.StatusOK || !strings.Contains(body, "flywheel_deployments_stored 6") {
		t.Errorf("/metrics with credentials: %d", code)
	}

	// Ingest beside basic auth: the token in X-Flywheel-Token.
	line := `{"kind":"deployment","id":"argo-9","service":"checkout","environment":"production","sha":"abcdef1234567","finished_at":"2026-10-01T10:00:00Z","status":"success"}` + "\n"
	if code, _, _ := send("POST", "/api/v1/events", "", "Authorization", "Bearer "+token, line); code != http.StatusUnauthorized {
		t.Errorf("ingest with a bearer token but no basic auth: %d, want 401", code)
	}
	if code, _, body := send("POST", "/api/v1/events", "prometheus", "", "", line); code != http.StatusUnauthorized || !strings.Contains(body, "X-Flywheel-Token") {
		t.Errorf("ingest with basic auth but no token: %d %q, want 401 naming X-Flywheel-Token", code, body)
	}
	if code, _, body := send("POST", "/api/v1/events", "prometheus", "X-Flywheel-Token", "wrong", line); code != http.StatusUnauthorized {
		t.Errorf("ingest with a wrong token: %d %q", code, body)
	}
	if code, _, body := send("POST", "/api/v1/events", "prometheus", "X-Flywheel-Token", token, line); code != http.StatusOK || !strings.Contains(body, `"deployments":1`) {
		t.Fatalf("ingest with basic auth and X-Flywheel-Token: %d %q", code, body)
	}

	// A backup of the running store opens and reports the same.
	if code, _, _ := send("GET", "/api/v1/backup", "", "", "", ""); code != http.StatusUnauthorized {
		t.Errorf("backup without credentials: %d, want 401", code)
	}
	code, header, backup := send("GET", "/api/v1/backup", "prometheus", "", "", "")
	if code != http.StatusOK || !strings.HasPrefix(header.Get("Content-Disposition"), `attachment; filename="flywheel-`) {
		t.Fatalf("backup: %d, Content-Disposition %q", code, header.Get("Content-Disposition"))
	}
	backupFile := filepath.Join(dir, "backup.db")
	writeFile(t, backupFile, backup)
	const at = "2026-10-10T00:00:00Z"
	code, _, apiReport := send("GET", "/api/v1/report?at="+at, "prometheus", "", "", "")
	if code != http.StatusOK {
		t.Fatalf("report: %d %s", code, apiReport)
	}
	// serve still holds its store; the backup is another file
	r := runFlywheel(t, nil, "--storage.path", backupFile, "report", "--format", "json", "--at", at)
	if r.Code != 0 || r.Stdout != apiReport {
		t.Errorf("report of the backup (exit %d) differs from the running serve's:\nbackup:\n%s\nserve:\n%s\n%s", r.Code, r.Stdout, apiReport, r.Stderr)
	}
	if !strings.Contains(r.Stdout, `"deployments": 5`) {
		t.Errorf("the backup lacks the ingested deployment:\n%s", r.Stdout)
	}

	_ = srv.Cmd.Process.Signal(syscall.SIGTERM)
	if code := srv.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("serve exited %d after SIGTERM", code)
	}
	if strings.Contains(srv.Stderr(), token) {
		t.Error("serve's log contains the ingest token")
	}
}
