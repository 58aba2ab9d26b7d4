package bus

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tarian-soc/tarian/internal/tlsfile/tlsfiletest"
)

// startServer runs a single external-style nats-server on 127.0.0.1 with
// JetStream, changed by set, until the test ends.
func startServer(t *testing.T, set func(*server.Options)) *server.Server {
	t.Helper()
	o := &server.Options{
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   t.TempDir(),
		MaxPayload: maxPayload,
		NoSigs:     true,
		NoLog:      true,
	}
	set(o)
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// A cluster behind TLS with client certificates and a token: the bus
// connects with what its Config names, and not without.
func TestExternalTLSAndToken(t *testing.T) {
	dir := t.TempDir()
	srv := tlsfiletest.Write(t, dir, "server")
	cli := tlsfiletest.Write(t, dir, "client")
	cert, err := tls.LoadX509KeyPair(srv.CertFile, srv.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(o *server.Options) {
		o.Authorization = "s3cret"
		o.TLS = true
		o.TLSVerify = true
		o.TLSTimeout = 5
		o.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientCAs:    cli.Pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS12,
		}
	})
	cfg := testConfig()
	cfg.URL = s.ClientURL()
	cfg.Token = "s3cret"
	cfg.TLS = TLS{CA: srv.CertFile, Cert: cli.CertFile, Key: cli.KeyFile}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b := openTest(t, t.TempDir(), cfg)
	if err := b.Write(context.Background(), "council-a", records(3, "t")); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, b); len(got) != 1 || len(got[0].Records) != 3 || got[0].Tenant != "council-a" {
		t.Errorf("read back %+v", got)
	}
	b.Close()

	for name, change := range map[string]func(*Config){
		"wrong token":    func(c *Config) { c.Token = "guess" },
		"no client cert": func(c *Config) { c.TLS.Cert, c.TLS.Key = "", "" },
		"no tls":         func(c *Config) { c.TLS = TLS{} },
	} {
		c := cfg
		change(&c)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		b, err := Open(ctx, c, t.TempDir(), discard())
		cancel()
		if err == nil {
			b.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// A server whose max_payload cannot carry the largest record is refused at
// Open, not found out by a write that can never succeed.
func TestExternalSmallMaxPayloadRefused(t *testing.T) {
	s := startServer(t, func(o *server.Options) { o.MaxPayload = 1 << 20 })
	cfg := testConfig()
	cfg.URL = s.ClientURL()
	b, err := Open(context.Background(), cfg, t.TempDir(), discard())
	if err == nil {
		b.Close()
		t.Fatal("Open succeeded against max_payload 1MB")
	}
	if !strings.Contains(err.Error(), "max_payload") {
		t.Errorf("err = %v; want it to name max_payload", err)
	}
}

// A message published again (Write's retry after a lost acknowledgement)
// is stored once: its ID is the same.
func TestRepublishStoredOnce(t *testing.T) {
	b := openTest(t, t.TempDir(), testConfig())
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := nats.NewMsg(Subject("council-a", 1))
	body, _ := encode(records(1, "t"), b.cfg.MessageBytes)
	m.Data = b.codec.pack(body)
	m.Header.Set(jetstream.MsgIDHeader, b.ids.next())
	for range 3 {
		again, err := b.publish(ctx, []*nats.Msg{m})
		if err != nil || len(again) != 0 {
			t.Fatalf("publish: %v, %d to send again", err, len(again))
		}
	}
	if st, err := b.Stats(ctx); err != nil || st.Messages != 1 {
		t.Fatalf("stream holds %d messages (%v); want 1", st.Messages, err)
	}
}
