// Package dnstest runs a DNS server on 127.0.0.1 for tests that answers every
// query "no such name" (NXDOMAIN), the answer a real resolver gives for a host
// that does not exist, and a *net.Resolver that asks only it: a client under
// test then meets the same *net.DNSError a mistyped host name gives, without
// any network.
package dnstest

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
)

// NXDomainResolver starts the server and returns a resolver that asks it over
// UDP; the test's cleanup stops the server.
func NXDomainResolver(t testing.TB) *net.Resolver {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dnstest: listen: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { serve(conn) })
	t.Cleanup(func() {
		_ = conn.Close()
		wg.Wait()
	})
	addr := conn.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
}

func serve(conn net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if resp, ok := nxdomain(buf[:n]); ok {
			_, _ = conn.WriteTo(resp, from)
		}
	}
}

// nxdomain answers a query with its id and question, and response code 3 (the
// name does not exist). The query's additional records (EDNS) are dropped.
func nxdomain(q []byte) ([]byte, bool) {
	const header = 12
	if len(q) < header {
		return nil, false
	}
	// the question: a name as labels ending with a zero byte, then type and class
	end := header
	for end < len(q) && q[end] != 0 {
		end += 1 + int(q[end])
	}
	end += 1 + 4
	if end > len(q) {
		return nil, false
	}
	resp := make([]byte, 0, end)
	resp = append(resp, q[0], q[1]) // id
	// QR=1, opcode 0, RD as asked; RA=1, RCODE=3
	resp = append(resp, 0x80|(q[2]&0x01), 0x83)
	resp = append(resp, 0, 1, 0, 0, 0, 0, 0, 0) // one question, no records
	resp = append(resp, q[header:end]...)
	return resp, true
}
