package resp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// What a real Redis never sends: each reply, sent after the client's SUBSCRIBE on a connection
// that stays open, is a protocol error at once (no hang), the same at every later Receive,
// and nothing large is allocated for it.
func TestMalformedReplies(t *testing.T) {
	msg := "*3\r\n$7\r\nmessage\r\n"
	for _, tc := range []struct{ name, reply string }{
		{"unknown type", "!oops\r\n"},
		{"line without CR", "*3\n"},
		{"empty line", "\r\n"},
		{"array too long", "*5\r\n"},
		{"array too short", "*1\r\n$4\r\npong\r\n"},
		{"null array", "*-1\r\n"},
		{"array length not a number", "*3x\r\n"},
		{"nested array", "*3\r\n*1\r\n"},
		{"negative bulk length", msg + "$-2\r\n"},
		{"bulk length not a number", msg + "$1x\r\n"},
		{"bulk length with a sign", msg + "$+1\r\n"},
		{"bulk length beyond the limit", msg + "$2\r\nch\r\n$536870913\r\n"},
		{"bulk length overflowing", msg + "$2\r\nch\r\n$99999999999999999999\r\n"},
		{"bulk not ended by CRLF", msg + "$2\r\nchXY$1\r\nx\r\n"},
		{"unknown message", "*3\r\n$7\r\nmassage\r\n$2\r\nch\r\n$1\r\nx\r\n"},
		{"kind as a number", "*3\r\n:7\r\n$2\r\nch\r\n$1\r\nx\r\n"},
		{"integer payload", msg + "$2\r\nch\r\n:1\r\n"},
		{"null channel", msg + "$-1\r\n$1\r\nx\r\n"},
		{"pmessage of three", "*3\r\n$8\r\npmessage\r\n$1\r\np\r\n$2\r\nch\r\n"},
		{"subscribe without count", "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n$1\r\n1\r\n"},
		{"pong of three", "*3\r\n$4\r\npong\r\n$0\r\n\r\n$0\r\n\r\n"},
		{"status in subscribed mode", "+OK\r\n"},
		{"line longer than the limit", "-" + strings.Repeat("x", maxLine+10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := dialFake(t, func(c *commands) {
				if words := c.next(); !slices.Equal(words, []string{"SUBSCRIBE", "ch"}) {
					t.Errorf("the server got %q", words)
				}
				if _, err := c.c.Write([]byte(tc.reply)); err != nil {
					t.Error(err)
				}
				c.next() // until the client closes
			})
			must(t, s.Subscribe("ch"))
			m, err := s.Receive(time.Now().Add(wait))
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("Receive: %s %q %v, want a protocol error", m.Kind, m.Payload, err)
			}
			if _, again := s.Receive(time.Now().Add(wait)); again != err {
				t.Errorf("second Receive: %v, want the same error", again)
			}
			if len(s.buf) > 2*maxLine {
				t.Errorf("the read buffer grew to %d bytes", len(s.buf))
			}
		})
	}
}

// dialFake dials a fake server that serve plays.
func dialFake(t *testing.T, serve func(c *commands)) *Subscriber {
	t.Helper()
	opts := fakeServer(t, func(c net.Conn) { serve(&commands{t: t, c: c}) })
	return dialOpts(t, opts)
}

// An error reply is an *Error, and what follows it is read as usual.
func TestErrorReplyThenMessage(t *testing.T) {
	s := dialFake(t, func(c *commands) {
		c.next()
		_, _ = c.c.Write([]byte("-ERR no\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"))
		c.next()
	})
	must(t, s.Subscribe("ch"))
	_, err := s.Receive(time.Now().Add(wait))
	var re *Error
	if !errors.As(err, &re) || re.Text != "ERR no" || err.Error() != "redis: ERR no" {
		t.Fatalf("Receive: %v, want *Error ERR no", err)
	}
	expect(t, s, KindMessage, "", "ch", "hi", 0)
}

// A message cut by a timeout is read whole by the next Receive.
func TestTimeoutInsideAMessage(t *testing.T) {
	whole := push("message", "ch", strings.Repeat("p", 3*ReadBufferSize))
	cut := len(whole) - 100
	next := make(chan struct{})
	s := dialFake(t, func(c *commands) {
		c.next()
		_, _ = c.c.Write(whole[:cut])
		<-next
		_, _ = c.c.Write(whole[cut:])
		c.next()
	})
	must(t, s.Subscribe("ch"))
	_, err := s.Receive(time.Now().Add(100 * time.Millisecond))
	close(next)
	if !isTimeout(err) {
		t.Fatalf("Receive of a half message: %v, want a timeout", err)
	}
	expect(t, s, KindMessage, "", "ch", strings.Repeat("p", 3*ReadBufferSize), 0)
}

// A server that does not answer the handshake fails Dial within its context; one that
// answers it with something else than +OK fails it with a protocol error.
func TestHandshakeFailures(t *testing.T) {
	t.Run("silent", func(t *testing.T) {
		opts := fakeServer(t, func(c net.Conn) {
			cmds := &commands{t: t, c: c}
			for cmds.next() != nil { // read and never answer, until the client closes
			}
		})
		opts.Password = "p"
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		s, err := Dial(ctx, opts)
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > wait/2 {
			t.Errorf("Dial to a silent server: %v after %v", err, time.Since(start))
		}
	})
	t.Run("bulk instead of status", func(t *testing.T) {
		opts := fakeServer(t, func(c net.Conn) {
			cmds := &commands{t: t, c: c}
			if words := cmds.next(); !slices.Equal(words, []string{"AUTH", "u", "p"}) {
				t.Errorf("AUTH: %q", words)
			}
			if words := cmds.next(); !slices.Equal(words, []string{"CLIENT", "SETNAME", "n"}) {
				t.Errorf("CLIENT SETNAME: %q", words)
			}
			_, _ = c.Write([]byte("+OK\r\n$2\r\nOK\r\n"))
			cmds.next()
		})
		opts.Username, opts.Password, opts.ClientName = "u", "p", "n"
		s, err := Dial(context.Background(), opts)
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "CLIENT SETNAME") {
			t.Errorf("Dial: %v, want a protocol error of CLIENT SETNAME", err)
		}
	})
}

// Options.TLSConfig: the connection is TLS, its server name taken from the address when the
// configuration has none, and AUTH goes through it.
func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t, "127.0.0.1")
	opts := fakeServer(t, func(c net.Conn) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		defer tc.Close()
		cmds := &commands{t: t, c: tc}
		if words := cmds.next(); !slices.Equal(words, []string{"AUTH", "p"}) {
			t.Errorf("AUTH over TLS: %q", words)
		}
		_, _ = tc.Write([]byte("+OK\r\n"))
		cmds.next()
		_, _ = tc.Write([]byte("*2\r\n$4\r\npong\r\n$0\r\n\r\n"))
		cmds.next()
	})
	opts.Password = "p"
	opts.TLSConfig = &tls.Config{RootCAs: pool}
	s := dialOpts(t, opts)
	if _, ok := s.conn.(*tls.Conn); !ok {
		t.Fatalf("the connection is a %T", s.conn)
	}
	if opts.TLSConfig.ServerName != "" {
		t.Error("Dial changed the caller's TLS configuration")
	}
	must(t, s.Ping())
	expect(t, s, KindPong, "", "", "", 0)
}

// selfSigned makes a certificate for host, and a pool that trusts it.
func selfSigned(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP(host)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
