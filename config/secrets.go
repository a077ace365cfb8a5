package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Parse and Load never read a secret: a configuration is checked as a file
// anywhere, while the token files and variables it names exist only where
// Flywheel runs. The readers below are for the commands that need the values
// (serve, collect) and for check-config, which reads them to find the ones that
// cannot be used. Every message names the key and the file or variable, never a
// value.

// maxSecretBytes bounds what is read of a secret file: a token or a PEM key is
// a few KiB, and a path such as /dev/zero must not be read forever.
const maxSecretBytes = 1 << 20

// ReadSecret returns the token s names: the contents of token_file without its
// trailing newline, or the value of the environment variable token_env (read
// with getenv; nil means os.Getenv). Its error is an *Errors with one problem
// at the key, with its section when s is one of c's secrets:
// "github.token_file: /run/secrets/github-token: no such file".
func (c *Config) ReadSecret(s Secret, getenv func(string) string) (string, error) {
	v, p := readSecret(c.secretSection(s), s, getenv)
	if p != nil {
		return "", &Errors{Problems: []Problem{*p}}
	}
	return v, nil
}

// AppPrivateKey reads github.app.private_key_file and checks that it holds an
// RSA private key in PEM, as GitHub generates it for an App ("BEGIN RSA
// PRIVATE KEY"; PKCS #8 "BEGIN PRIVATE KEY" works too). Its error is an
// *Errors naming the key and the file, never the file's contents.
func (c *Config) AppPrivateKey() ([]byte, error) {
	if c.GitHub == nil || c.GitHub.App == nil {
		return nil, &Errors{Problems: []Problem{{Path: "github.app", Message: "no GitHub App configured"}}}
	}
	key, p := readAppKey(c.GitHub.App.PrivateKeyFile)
	if p != nil {
		return nil, &Errors{Problems: []Problem{*p}}
	}
	return key, nil
}

// CheckSecrets reads every secret the configuration names — the github token
// or the GitHub App's private key, the pagerduty token and the api token — and
// returns an *Errors listing each one that cannot be used: a token_file that
// does not exist, cannot be read or is empty; a token_env that is not set or
// empty; a private_key_file that is missing or not an RSA private key in PEM.
// It returns nil when all can be used. The values read are dropped at once.
func (c *Config) CheckSecrets(getenv func(string) string) error {
	var p problems
	check := func(at string, s Secret) {
		if _, pr := readSecret(at, s, getenv); pr != nil {
			p = append(p, *pr)
		}
	}
	if g := c.GitHub; g != nil {
		if g.App != nil {
			if _, pr := readAppKey(g.App.PrivateKeyFile); pr != nil {
				p = append(p, *pr)
			}
		} else {
			check("github", g.Secret)
		}
	}
	if c.PagerDuty != nil {
		check("pagerduty", c.PagerDuty.Secret)
	}
	if c.API.TokenFile != "" || c.API.TokenEnv != "" {
		check("api", c.API.Secret)
	}
	if len(p) > 0 {
		return &Errors{Problems: p}
	}
	return nil
}

// secretSection is the section of c that s is written in ("" if none is s).
func (c *Config) secretSection(s Secret) string {
	switch {
	case c.GitHub != nil && c.GitHub.App == nil && s == c.GitHub.Secret:
		return "github"
	case c.PagerDuty != nil && s == c.PagerDuty.Secret:
		return "pagerduty"
	case s == c.API.Secret && s != (Secret{}):
		return "api"
	}
	return ""
}

// readSecret reads s, whose keys sit under at ("github"; "" when unknown).
func readSecret(at string, s Secret, getenv func(string) string) (string, *Problem) {
	if getenv == nil {
		getenv = os.Getenv
	}
	switch {
	case s.TokenFile != "" && s.TokenEnv != "":
		return "", &Problem{Path: at, Message: "set token_file or token_env, not both"}
	case s.TokenFile != "":
		path := join(at, "token_file")
		b, msg := readSecretFile(s.TokenFile)
		if msg != "" {
			return "", &Problem{Path: path, Message: s.TokenFile + ": " + msg}
		}
		v := strings.TrimRight(string(b), "\r\n")
		if strings.TrimSpace(v) == "" {
			return "", &Problem{Path: path, Message: s.TokenFile + ": empty file"}
		}
		return v, nil
	case s.TokenEnv != "":
		v := getenv(s.TokenEnv)
		if strings.TrimSpace(v) == "" {
			return "", &Problem{Path: join(at, "token_env"), Message: s.TokenEnv + ": not set, or empty, in the environment"}
		}
		return v, nil
	}
	return "", &Problem{Path: at, Message: "no token: set token_file or token_env"}
}

const appKeyPath = "github.app.private_key_file"

// readAppKey reads a GitHub App's private key file and checks what it holds.
func readAppKey(file string) ([]byte, *Problem) {
	if strings.TrimSpace(file) == "" {
		return nil, &Problem{Path: appKeyPath, Message: "required"}
	}
	b, msg := readSecretFile(file)
	if msg != "" {
		return nil, &Problem{Path: appKeyPath, Message: file + ": " + msg}
	}
	if msg := checkRSAKey(b); msg != "" {
		return nil, &Problem{Path: appKeyPath, Message: file + ": " + msg}
	}
	return b, nil
}

// checkRSAKey says what is wrong with a PEM RSA private key, "" if nothing.
// The messages describe the file's form only; the parsers' errors are not
// passed on, so nothing of the key can reach a message.
func checkRSAKey(b []byte) string {
	if len(strings.TrimSpace(string(b))) == 0 {
		return "empty file"
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return "not a PEM file: want the private key GitHub generated for the App (-----BEGIN RSA PRIVATE KEY-----)"
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return "the RSA PRIVATE KEY block does not hold a valid RSA private key (an encrypted key? GitHub Apps use the key as downloaded, unencrypted)"
		}
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return "the PRIVATE KEY block does not hold a valid private key"
		}
		switch k.(type) {
		case *rsa.PrivateKey:
		case *ecdsa.PrivateKey:
			return "an ECDSA private key: GitHub Apps sign with RSA keys"
		case ed25519.PrivateKey:
			return "an Ed25519 private key: GitHub Apps sign with RSA keys"
		default:
			return fmt.Sprintf("a %T private key: GitHub Apps sign with RSA keys", k)
		}
	default:
		return fmt.Sprintf("a PEM %q block, want an RSA private key (-----BEGIN RSA PRIVATE KEY-----)", block.Type)
	}
	return ""
}

// readSecretFile reads at most maxSecretBytes of file; msg says what is wrong
// in a few words ("no such file"), without the Go error's "open …" prefix
// that would repeat the path.
func readSecretFile(file string) (b []byte, msg string) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fileProblem(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, "a directory, want a file"
	}
	b, err = io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return nil, fileProblem(err)
	}
	if len(b) > maxSecretBytes {
		return nil, fmt.Sprintf("larger than %d KiB: not a token or key file", maxSecretBytes>>10)
	}
	return b, ""
}

func fileProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied (not readable by this user)"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
