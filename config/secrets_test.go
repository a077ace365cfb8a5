package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-metrics/flywheel/config"
)

// secretValue is written into every secret file of these tests; no message may
// ever contain it.
const secretValue = "s3cr3t-T0KEN-value"

func writeSecretFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemKeys(t *testing.T) (pkcs1, pkcs8, ec, public string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	eck, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec8, err := x509.MarshalPKCS8PrivateKey(eck)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	return enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), enc("PRIVATE KEY", p8), enc("PRIVATE KEY", ec8), enc("PUBLIC KEY", pub)
}

func TestCheckSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writeSecretFile(t, dir, "token", secretValue+"\n")
	empty := writeSecretFile(t, dir, "empty", " \n")
	missing := filepath.Join(dir, "missing")
	pkcs1, pkcs8, ec, public := pemKeys(t)
	rsa1 := writeSecretFile(t, dir, "app.pem", pkcs1)
	rsa8 := writeSecretFile(t, dir, "app8.pem", pkcs8)
	ecKey := writeSecretFile(t, dir, "ec.pem", ec)
	pubKey := writeSecretFile(t, dir, "pub.pem", public)
	notPEM := writeSecretFile(t, dir, "token.pem", secretValue+"\n")
	// A PKCS #1 block whose body is not a key: the message must not quote it.
	broken := writeSecretFile(t, dir, "broken.pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte(secretValue)})))
	env := func(k string) string {
		return map[string]string{"GH_TOKEN": secretValue, "PD_TOKEN": secretValue, "EMPTY": ""}[k]
	}
	sources := func(gh, pd string) string {
		return "github:\n" + gh + "  repos: [{name: acme/checkout}]\npagerduty:\n" + pd + "  services: [{id: P1, service: checkout}]\n"
	}
	app := func(key string) string {
		return "  app:\n    app_id: 1\n    installation_id: 2\n    private_key_file: " + key + "\n"
	}
	for _, tc := range []struct {
		name string
		yml  string
		want []string // problems, "path: message"
	}{
		{"all usable", sources("  token_file: "+good+"\n", "  token_env: PD_TOKEN\n") + "api:\n  token_env: GH_TOKEN\n", nil},
		{"no sources, no api token", "windows: [7d]\n", nil},
		{"missing token_file", sources("  token_file: "+missing+"\n", "  token_env: PD_TOKEN\n"),
			[]string{"github.token_file: " + missing + ": no such file"}},
		{"empty token_file and directory", sources("  token_file: "+empty+"\n", "  token_file: "+dir+"\n"),
			[]string{"github.token_file: " + empty + ": empty file", "pagerduty.token_file: " + dir + ": a directory, want a file"}},
		{"unset and empty token_env", sources("  token_env: GH_UNSET\n", "  token_env: EMPTY\n"),
			[]string{"github.token_env: GH_UNSET: not set, or empty, in the environment", "pagerduty.token_env: EMPTY: not set, or empty, in the environment"}},
		{"api token", "api:\n  token_file: " + missing + "\n", []string{"api.token_file: " + missing + ": no such file"}},
		{"app key PKCS #1", sources(app(rsa1), "  token_env: PD_TOKEN\n"), nil},
		{"app key PKCS #8", sources(app(rsa8), "  token_env: PD_TOKEN\n"), nil},
		{"app key missing", sources(app(missing), "  token_env: PD_TOKEN\n"),
			[]string{"github.app.private_key_file: " + missing + ": no such file"}},
		{"app key not PEM", sources(app(notPEM), "  token_env: PD_TOKEN\n"),
			[]string{"github.app.private_key_file: " + notPEM + ": not a PEM file: want the private key GitHub generated for the App (-----BEGIN RSA PRIVATE KEY-----)"}},
		{"app key public", sources(app(pubKey), "  token_env: PD_TOKEN\n"),
			[]string{"github.app.private_key_file: " + pubKey + `: a PEM "PUBLIC KEY" block, want an RSA private key (-----BEGIN RSA PRIVATE KEY-----)`}},
		{"app key ECDSA", sources(app(ecKey), "  token_env: PD_TOKEN\n"),
			[]string{"github.app.private_key_file: " + ecKey + ": an ECDSA private key: GitHub Apps sign with RSA keys"}},
		{"app key broken", sources(app(broken), "  token_env: PD_TOKEN\n"),
			[]string{"github.app.private_key_file: " + broken + ": the RSA PRIVATE KEY block does not hold a valid RSA private key (an encrypted key? GitHub Apps use the key as downloaded, unencrypted)"}},
		{"app key empty", sources(app(empty), "  token_env: PD_TOKEN\n"),
			[]string{"github.app.private_key_file: " + empty + ": empty file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Parsing never reads a secret: every case is a valid file.
			c, err := config.Parse([]byte(tc.yml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = c.CheckSecrets(env)
			var got []string
			var errs *config.Errors
			if errors.As(err, &errs) {
				for _, p := range errs.Problems {
					got = append(got, p.String())
				}
			} else if err != nil {
				t.Fatalf("CheckSecrets error is %T, want *config.Errors", err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("CheckSecrets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if err != nil && strings.Contains(err.Error(), secretValue) {
				t.Errorf("a secret in %q", err)
			}
		})
	}
}

func TestAppPrivateKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pkcs1, _, _, _ := pemKeys(t)
	key := writeSecretFile(t, dir, "app.pem", pkcs1)
	c, err := config.Parse([]byte("github:\n  app:\n    app_id: 1\n    installation_id: 2\n    private_key_file: " + key + "\n  repos: [{name: acme/x}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.AppPrivateKey()
	if err != nil || string(b) != pkcs1 {
		t.Errorf("AppPrivateKey = %d bytes, %v", len(b), err)
	}
	c.GitHub.App.PrivateKeyFile = filepath.Join(dir, "gone.pem")
	if _, err := c.AppPrivateKey(); err == nil || err.Error() != "github.app.private_key_file: "+filepath.Join(dir, "gone.pem")+": no such file" {
		t.Errorf("missing key: %v", err)
	}
	if _, err := config.Default().AppPrivateKey(); err == nil {
		t.Error("AppPrivateKey without an app: no error")
	}
}

func TestUnreadableTokenFile(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads a file whatever its mode")
	}
	dir := t.TempDir()
	f := writeSecretFile(t, dir, "token", secretValue)
	if err := os.Chmod(f, 0); err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse([]byte("pagerduty:\n  token_file: " + f + "\n  services: [{id: P1, service: x}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "pagerduty.token_file: " + f + ": permission denied (not readable by this user)"
	if err := c.CheckSecrets(nil); err == nil || err.Error() != want {
		t.Errorf("CheckSecrets = %v, want %s", err, want)
	}
}
