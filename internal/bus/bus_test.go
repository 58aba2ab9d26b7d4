package bus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func testConfig() Config {
	c := DefaultConfig()
	c.MessageBytes = 4096
	return c
}

func openTest(t *testing.T, dir string, cfg Config) *Bus {
	t.Helper()
	b, err := Open(context.Background(), cfg, dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func records(n int, src string) []event.Raw {
	now := time.Unix(1700000000, 0).UTC()
	recs := make([]event.Raw, n)
	for i := range recs {
		recs[i] = event.Raw{Received: now.Add(time.Duration(i)), Source: src, Data: fmt.Appendf(nil, `{"n":%d,"pad":"%0200d"}`, i, i)}
	}
	return recs
}

// consumeN reads from consumer name until n records arrived, returning them
// grouped by tenant.
func consumeN(t *testing.T, b *Bus, name string, n int) map[tenant.ID][]event.Raw {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := map[tenant.ID][]event.Raw{}
	total := 0
	var lastSeq uint64
	from := func(context.Context) (uint64, error) { return lastSeq + 1, nil }
	err := b.Consume(ctx, ConsumeConfig{Name: name, From: from, Batch: 16, MaxBytes: 1 << 20, MaxWait: 50 * time.Millisecond}, func(_ context.Context, msgs []Message) error {
		for _, m := range msgs {
			if m.Seq <= lastSeq {
				t.Errorf("sequence went back: %d after %d", m.Seq, lastSeq)
			}
			lastSeq = m.Seq
			for _, r := range m.Records {
				r.Data = append([]byte(nil), r.Data...)
				got[m.Tenant] = append(got[m.Tenant], r)
				total++
			}
		}
		if total >= n {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != n {
		t.Fatalf("consumed %d records, want %d", total, n)
	}
	return got
}

func TestWriteConsumeAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	b := openTest(t, dir, testConfig())
	a, bb := records(300, "http"), records(50, "syslog")
	ctx := context.Background()
	if err := b.Write(ctx, "council-a", a); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, "council-b", bb); err != nil {
		t.Fatal(err)
	}
	st, err := b.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages < 2 || st.Messages >= 350 {
		t.Errorf("stream holds %d messages: records should be batched many per message", st.Messages)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// Everything written before the restart is still there, per tenant.
	b = openTest(t, dir, testConfig())
	defer b.Close()
	got := consumeN(t, b, "indexer", 350)
	if diff := cmp.Diff(a, got["council-a"]); diff != "" {
		t.Errorf("council-a records (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(bb, got["council-b"]); diff != "" {
		t.Errorf("council-b records (-want +got):\n%s", diff)
	}
	last, err := b.LastSeq(ctx)
	if err != nil || last != st.Messages {
		t.Errorf("LastSeq = %d, %v; want %d", last, err, st.Messages)
	}
}

func TestConsumeStartsAtFromAndTrim(t *testing.T) {
	b := openTest(t, t.TempDir(), testConfig())
	defer b.Close()
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := b.Write(ctx, "council-a", records(1, fmt.Sprintf("m%d", i+1))); err != nil {
			t.Fatal(err)
		}
	}
	read := func(from uint64) []string {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var srcs []string
		f := func(context.Context) (uint64, error) { return from, nil }
		b.Consume(cctx, ConsumeConfig{Name: "t", From: f, Batch: 2, MaxBytes: 1 << 20, MaxWait: 20 * time.Millisecond}, func(_ context.Context, msgs []Message) error {
			for _, m := range msgs {
				srcs = append(srcs, m.Records[0].Source)
				if m.Seq == 5 { // the last message written: everything read
					cancel()
				}
			}
			return nil
		})
		return srcs
	}
	if got := fmt.Sprint(read(3)); got != "[m3 m4 m5]" {
		t.Errorf("from 3: %s", got)
	}
	if err := b.Trim(ctx, 4); err != nil {
		t.Fatal(err)
	}
	// Trimmed messages are gone; reading from before them starts at the first kept.
	if got := fmt.Sprint(read(1)); got != "[m4 m5]" {
		t.Errorf("after trim, from 1: %s", got)
	}
}

func TestHandlerErrorRedelivers(t *testing.T) {
	b := openTest(t, t.TempDir(), testConfig())
	defer b.Close()
	ctx := context.Background()
	if err := b.Write(ctx, "council-a", records(10, "http")); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	calls := 0
	var seen int
	froms := 0
	from := func(context.Context) (uint64, error) { froms++; return 1, nil }
	err := b.Consume(cctx, ConsumeConfig{Name: "x", From: from, Batch: 100, MaxBytes: 1 << 20, MaxWait: 50 * time.Millisecond}, func(_ context.Context, msgs []Message) error {
		if len(msgs) == 0 {
			return nil
		}
		calls++
		if calls == 1 {
			return fmt.Errorf("store unavailable")
		}
		for _, m := range msgs {
			seen += len(m.Records)
		}
		cancel()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls < 2 || seen != 10 || froms != 2 {
		t.Errorf("calls=%d seen=%d froms=%d; want the failed batch delivered again whole, from the caller's position", calls, seen, froms)
	}
}

func TestStreamFullIsBackpressure(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBytes = 1 << 20
	cfg.Compression = CompressionNone // fill it in a few writes
	b := openTest(t, t.TempDir(), cfg)
	defer b.Close()
	ctx := context.Background()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = b.Write(ctx, "council-a", records(100, "http"))
	}
	if err == nil {
		t.Fatal("writing past max_bytes succeeded; want back-pressure")
	}
	if !isBackpressure(err) {
		t.Fatalf("err = %v; want ErrBackpressure", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	ext := func(c *Config) { c.URL = "nats://127.0.0.1:4222,nats://127.0.0.1:4223" }
	for _, tc := range []struct {
		name string
		set  func(*Config)
		ok   bool
	}{
		{"message_bytes too small", func(c *Config) { c.MessageBytes = 10 }, false},
		{"publish_timeout past the dedupe window", func(c *Config) { c.PublishTimeout = 2 * time.Minute }, false},
		{"partitions 0", func(c *Config) { c.Partitions = 0 }, false},
		{"partitions 16", func(c *Config) { c.Partitions = 16 }, true},
		{"cluster R3 with token", func(c *Config) { ext(c); c.Replicas = 3; c.Token = "t" }, true},
		{"credentials file", func(c *Config) { ext(c); c.Credentials = "/etc/tarian/bus.creds" }, true},
		{"user and password", func(c *Config) { ext(c); c.User, c.Password = "u", "p" }, true},
		{"password without user", func(c *Config) { ext(c); c.Password = "p" }, false},
		{"token and user", func(c *Config) { ext(c); c.Token, c.User = "t", "u" }, false},
		{"tls cert without key", func(c *Config) { ext(c); c.TLS.Cert = "c.pem" }, false},
		{"tls ca only", func(c *Config) { ext(c); c.TLS.CA = "ca.pem" }, true},
		{"token on the embedded server", func(c *Config) { c.Token = "t" }, false},
		{"tls on the embedded server", func(c *Config) { c.TLS.CA = "ca.pem" }, false},
	} {
		c := DefaultConfig()
		tc.set(&c)
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}

// TestKeyedWriteStoredOnce: a write named by an idempotency key
// (ingest.WithWriteKey) and its retry, even across a restart of the
// server, are stored once; the same key of another tenant, another key,
// or an unnamed write again are writes of their own.
func TestKeyedWriteStoredOnce(t *testing.T) {
	dir := t.TempDir()
	b := openTest(t, dir, testConfig())
	recs := records(300, "http")
	keyed := ingest.WithWriteKey(context.Background(), "batch-7/0")
	last := func() uint64 {
		t.Helper()
		n, err := b.LastSeq(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := b.Write(keyed, "council-a", recs); err != nil {
		t.Fatal(err)
	}
	first := last()
	if first < 2 {
		t.Fatalf("300 records in %d messages: the test wants several", first)
	}
	// The retry; its records received again (a later time) all the same.
	again := records(300, "http")
	for i := range again {
		again[i].Received = again[i].Received.Add(time.Second)
	}
	if err := b.Write(keyed, "council-a", again); err != nil {
		t.Fatal(err)
	}
	if n := last(); n != first {
		t.Errorf("the retry of a keyed write stored %d more messages", n-first)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openTest(t, dir, testConfig())
	defer b.Close()
	if err := b.Write(keyed, "council-a", recs); err != nil {
		t.Fatal(err)
	}
	if n := last(); n != first {
		t.Errorf("the retry after a restart stored %d more messages", n-first)
	}
	for name, ctx := range map[string]context.Context{
		"another tenant's key": keyed, "another key": ingest.WithWriteKey(context.Background(), "batch-8/0"),
		"an unnamed write": context.Background(),
	} {
		tn := tenant.ID("council-a")
		if name == "another tenant's key" {
			tn = "council-b"
		}
		before := last()
		if err := b.Write(ctx, tn, recs); err != nil {
			t.Fatal(err)
		}
		if n := last(); n != before+first {
			t.Errorf("%s: %d messages stored, want %d", name, n-before, first)
		}
	}
	got := consumeN(t, b, "indexer", 4*300)
	if len(got["council-a"]) != 3*300 || len(got["council-b"]) != 300 {
		t.Errorf("consumed council-a %d, council-b %d records; want 900 and 300", len(got["council-a"]), len(got["council-b"]))
	}
}
