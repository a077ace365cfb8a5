package collector

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// UnretryableError is a transport error that retrying cannot cure (see
// Unretryable). Its message is short: what is wrong, what to check, and the
// resolver's or TLS's own words, without the request URL around them.
type UnretryableError struct {
	msg string
	err error
}

func (e *UnretryableError) Error() string { return e.msg }
func (e *UnretryableError) Unwrap() error { return e.err }

// Unretryable returns an *UnretryableError for a transport error that retrying
// cannot cure, or nil for one worth retrying. A host name that does not exist
// (the resolver answered so, unlike a resolver that timed out) and a server
// certificate that does not verify stay that way for the seconds a retry
// waits: retrying them only delays the error. Both sources' clients ask this
// before backing off.
func Unretryable(err error) error {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return &UnretryableError{fmt.Sprintf("host %s does not resolve (check base_url): %v", dns.Name, dns), err}
	}
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return &UnretryableError{fmt.Sprintf("the server's certificate does not verify (check base_url): %v", cert.Err), err}
	}
	return nil
}
