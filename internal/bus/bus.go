// Package bus is Tarian's durable ingest bus: a NATS JetStream stream with one
// subject per tenant. By default the NATS server runs embedded in-process,
// with no listener, storing under the data directory; Config.URL points at an
// external JetStream cluster instead (several servers, credentials, TLS,
// Replicas), through the same code path.
//
// Durability: the embedded server fsyncs every stream write (SyncAlways), and
// Write batches many records per message, so a shipper is told "accepted"
// only once its records are on disk. On a cluster, Write rides out a stream
// leader change by publishing unacknowledged messages again under their
// first message ID, which the stream de-duplicates. See docs/ARCHITECTURE.md.
//
// Partitions: with Config.Partitions above 1, each tenant's records go to
// one of that many partitions (Partition, a fixed hash), and a consumer may
// read only some (ConsumeConfig.Partitions), so that several servers can
// share the work with each tenant's state on one of them.
//
// The package natstest runs a JetStream cluster in a test process.
package bus

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	neturl "net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ErrBackpressure wraps a publish the bus could not take now (stream full,
// stalled or slow). Nothing was lost: the caller tells its client to retry.
// It is ingest.ErrBackpressure, the refusal every receiver answers.
var ErrBackpressure = ingest.ErrBackpressure

const (
	streamName    = "TARIAN_EVENTS"
	subjectPrefix = "tarian.events."
)

// Config configures the bus.
type Config struct {
	// URL of an external NATS server with JetStream; empty runs the embedded
	// server. For a cluster, list several servers comma-separated
	// ("nats://10.0.0.1:4222,nats://10.0.0.2:4222"): the client connects to
	// one and fails over to the others. The servers must allow messages of
	// 8 MiB (max_payload: 8MB), room for the largest record.
	URL string `yaml:"url"`
	// MaxBytes caps the stream. When full, new writes are refused
	// (back-pressure), never old data discarded unread.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxAge is how long records are kept on the bus for replay after they
	// were consumed.
	MaxAge time.Duration `yaml:"max_age"`
	// PublishTimeout bounds one durable write, retries through a cluster
	// leader change included; past it the caller gets back-pressure. At
	// most 1m, within the stream's 2m de-duplication window.
	PublishTimeout time.Duration `yaml:"publish_timeout"`
	// MessageBytes is the target size of one bus message (many records each).
	MessageBytes int `yaml:"message_bytes"`
	// Replicas of the stream, and of everything else kept in JetStream (the
	// lease bucket), on an external cluster: 3 (R3) survives the loss of
	// one server. 1 embedded.
	Replicas int `yaml:"replicas"`
	// Compression of message bodies: "zstd" (default) or "none". Consumers
	// read both, whatever this says.
	Compression string `yaml:"compression"`
	// Partitions splits the tenants into this many partitions (default 1,
	// 1 to 1024), so several servers can share detection with one consumer
	// per partition. With 1 a tenant's subject is tarian.events.<tenant>;
	// with more, tarian.events.p<k>.<tenant> where k = Partition(tenant, n).
	// The stream records the count: a different count on a stream that
	// still holds messages is refused at Open (ErrPartitionsChanged).
	Partitions int `yaml:"partitions"`

	// Credentials is a NATS credentials file (user JWT and NKey seed, as
	// nsc writes it) to authenticate to URL. At most one of Credentials,
	// Token and User.
	Credentials string `yaml:"credentials"`
	// Token authenticates to URL with a token.
	Token string `yaml:"token"`
	// User and Password authenticate to URL with a user name and password.
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	// TLS to URL (TLS 1.2 or later): with any of its files set, the bus
	// connects only over TLS; a "tls://" URL alone uses the system's roots.
	TLS TLS `yaml:"tls"`
}

// TLS names the PEM files of a TLS connection to the bus.
type TLS struct {
	// CA is the certificate authority the servers' certificates chain to;
	// empty trusts the system's roots.
	CA string `yaml:"ca"`
	// Cert and Key are the client certificate and key, for servers that
	// verify clients; both or neither.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

func (t TLS) set() bool { return t.CA != "" || t.Cert != "" || t.Key != "" }

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		MaxBytes:       10 << 30,
		MaxAge:         72 * time.Hour,
		PublishTimeout: 10 * time.Second,
		MessageBytes:   1 << 20,
		Replicas:       1,
		Compression:    CompressionZstd,
		Partitions:     1,
	}
}

// maxPartitions bounds Config.Partitions.
const maxPartitions = 1024

// Validate reports the first bad setting.
func (c Config) Validate() error {
	auths := 0
	for _, s := range []string{c.Credentials, c.Token, c.User} {
		if s != "" {
			auths++
		}
	}
	switch {
	case c.MaxBytes < 1<<20:
		return errors.New("max_bytes: must be at least 1048576")
	case c.MaxAge < time.Minute:
		return errors.New("max_age: must be at least 1m")
	case c.PublishTimeout <= 0 || c.PublishTimeout > time.Minute:
		return errors.New("publish_timeout: must be positive and at most 1m")
	case c.MessageBytes < 1024 || c.MessageBytes > 8<<20:
		return errors.New("message_bytes: must be between 1024 and 8388608")
	case c.Replicas < 1 || c.Replicas > 5:
		return errors.New("replicas: must be between 1 and 5")
	case c.Compression != CompressionZstd && c.Compression != CompressionNone:
		return fmt.Errorf("compression: %q: must be %q or %q", c.Compression, CompressionZstd, CompressionNone)
	case c.Partitions < 1 || c.Partitions > maxPartitions:
		return fmt.Errorf("partitions: must be between 1 and %d", maxPartitions)
	case c.URL == "" && (auths > 0 || c.Password != "" || c.TLS.set()):
		return errors.New("credentials, token, user, password and tls need url: the embedded server has no listener")
	case auths > 1:
		return errors.New("credentials, token, user: set at most one")
	case c.Password != "" && c.User == "":
		return errors.New("password: needs user")
	case (c.TLS.Cert == "") != (c.TLS.Key == ""):
		return errors.New("tls: cert and key go together")
	}
	return nil
}

// maxPayload is the NATS payload limit of the embedded server: room for one
// record at the ingest line limit plus framing.
const maxPayload = 8 << 20

// Bus is an open connection to the stream.
type Bus struct {
	cfg    Config
	log    *slog.Logger
	ns     *server.Server // nil when external
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	codec  *codec
	ids    msgIDs
}

// Open starts the embedded server under dir (unless cfg.URL is set),
// connects, and creates or updates the stream.
func Open(ctx context.Context, cfg Config, dir string, log *slog.Logger) (*Bus, error) {
	cd, err := newCodec(cfg.Compression)
	if err != nil {
		return nil, err
	}
	cfg.Partitions = max(cfg.Partitions, 1)
	b := &Bus{cfg: cfg, log: log, codec: cd}
	if err := b.ids.init(); err != nil {
		return nil, err
	}
	opts := []nats.Option{nats.Name("tarian"), nats.MaxReconnects(-1)}
	url := cfg.URL
	if url == "" {
		ns, err := server.NewServer(&server.Options{
			ServerName:         "tarian-embedded",
			DontListen:         true,
			JetStream:          true,
			StoreDir:           filepath.Join(dir, "jetstream"),
			SyncAlways:         true, // acknowledged means durable: fsync every stream write
			MaxPayload:         maxPayload,
			JetStreamMaxMemory: 64 << 20,
			NoSigs:             true,
			NoLog:              true,
		})
		if err != nil {
			return nil, fmt.Errorf("start embedded nats: %w", err)
		}
		ns.Start()
		if !ns.ReadyForConnections(30 * time.Second) {
			ns.Shutdown()
			return nil, errors.New("start embedded nats: not ready after 30s")
		}
		b.ns = ns
		opts = append(opts, nats.InProcessServer(ns))
	} else {
		opts = append(opts, externalOptions(cfg, log)...)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.shutdownServer()
		if cfg.URL == "" {
			return nil, fmt.Errorf("connect the embedded nats: %w", err)
		}
		return nil, fmt.Errorf("connect nats (bus.url %s): %w", redactURLs(cfg.URL), err)
	}
	b.nc = nc
	if mp := nc.MaxPayload(); mp < maxPayload {
		b.Close()
		server := cmp.Or(nc.ConnectedServerName(), nc.ConnectedUrlRedacted(), redactURLs(cfg.URL))
		return nil, fmt.Errorf("connect nats: server %s allows messages of %d bytes; the bus needs %d (max_payload: 8MB)", server, mp, maxPayload)
	}
	jsOpts := []jetstream.JetStreamOpt{jetstream.WithPublishAsyncMaxPending(256)}
	if b.ns == nil {
		// Only a cluster loses a publish in flight (leader change, node
		// lost): there, an attempt unanswered for long is sent again.
		jsOpts = append(jsOpts, jetstream.WithPublishAsyncTimeout(ackTimeout(cfg.PublishTimeout)))
	}
	js, err := jetstream.New(nc, jsOpts...)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	b.js = js
	if err := SetUp(ctx, log, streamName, b.openStream); err != nil {
		b.Close()
		return nil, err
	}
	if err := b.continueAfterRestore(ctx, dir); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// externalOptions are the connection options for cfg.URL: authentication,
// TLS, and a client that rides out the loss of a cluster node.
func externalOptions(cfg Config, log *slog.Logger) []nats.Option {
	opts := []nats.Option{
		nats.ReconnectWait(250 * time.Millisecond),
		// No reconnect buffer: a publish while disconnected fails at once
		// and Write publishes it again, with the same message ID, once
		// connected, rather than the client sending it after Write has
		// given up and the shipper has been told to retry (a duplicate).
		nats.ReconnectBufSize(-1),
		nats.PingInterval(10 * time.Second),
		nats.MaxPingsOutstanding(3),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err != nil { // nil: closed by Close
				log.Warn("bus disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("bus reconnected", "server", nc.ConnectedUrlRedacted())
		}),
	}
	switch {
	case cfg.Credentials != "":
		opts = append(opts, nats.UserCredentials(cfg.Credentials))
	case cfg.Token != "":
		opts = append(opts, nats.Token(cfg.Token))
	case cfg.User != "":
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	if cfg.TLS.CA != "" {
		opts = append(opts, nats.RootCAs(cfg.TLS.CA))
	}
	if cfg.TLS.Cert != "" {
		opts = append(opts, nats.ClientCert(cfg.TLS.Cert, cfg.TLS.Key))
	}
	return opts
}

// ackTimeout is how long one publish attempt waits for its acknowledgement
// before Write publishes the message again (same ID: the stream keeps one).
func ackTimeout(publish time.Duration) time.Duration {
	return min(max(publish/4, 500*time.Millisecond), 5*time.Second)
}

// ErrPartitionsChanged is returned by Open when Config.Partitions differs
// from the count the stream was written with while the stream still holds
// messages: their consumers would not find them under the new subjects.
var ErrPartitionsChanged = errors.New("bus partitions changed")

// partitionsKey is the stream metadata key recording the partition count.
const partitionsKey = "tarian_partitions"

// openStream creates the stream or updates its configuration, refusing a
// change of partition count over messages written with the old one.
func (b *Bus) openStream(ctx context.Context) error {
	n := b.cfg.Partitions
	if st, err := b.js.Stream(ctx, streamName); err == nil {
		info := st.CachedInfo()
		old := 1 // streams from before partitions carry no count
		if v, ok := info.Config.Metadata[partitionsKey]; ok {
			if old, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("stream %s: metadata %s=%q: %w", streamName, partitionsKey, v, err)
			}
		}
		if old != n && info.State.Msgs > 0 {
			return fmt.Errorf("%w: stream %s holds %d messages written with %d partitions, configured %d: run with %d until every consumer has caught up and the stream is emptied",
				ErrPartitionsChanged, streamName, info.State.Msgs, old, n, old)
		}
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("stream %s: %w", streamName, err)
	}
	st, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        streamName,
		Description: "Tarian raw records, one subject per tenant",
		Subjects:    []string{subjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    b.cfg.MaxBytes,
		MaxAge:      b.cfg.MaxAge,
		MaxMsgSize:  maxPayload,
		Replicas:    b.cfg.Replicas,
		Duplicates:  dedupeWindow,
		Metadata:    map[string]string{partitionsKey: strconv.Itoa(n)},
	})
	if err != nil {
		return fmt.Errorf("create stream %s: %w", streamName, err)
	}
	b.stream = st
	return nil
}

// redactURLs is a bus.url (URLs separated by commas) without passwords,
// for a message.
func redactURLs(list string) string {
	var out []string
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		if u, err := neturl.Parse(raw); err == nil {
			raw = u.Redacted()
		} else if strings.Contains(raw, "@") {
			raw = "(unparsable URL)"
		}
		out = append(out, raw)
	}
	return strings.Join(out, ",")
}

// dedupeWindow is how long the stream remembers message IDs: longer than
// any Write (PublishTimeout is at most 1m), so no retry of Write's is
// stored twice.
const dedupeWindow = 2 * time.Minute

// JetStream returns the bus's JetStream context, for other state kept in
// the same NATS (leases: lease.New). It lives until Close.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Partitions returns the configured partition count (at least 1).
func (b *Bus) Partitions() int { return b.cfg.Partitions }

func (b *Bus) shutdownServer() {
	if b.ns != nil {
		b.ns.Shutdown()
		b.ns.WaitForShutdown()
		b.ns = nil
	}
}

// Close drains the connection and stops the embedded server.
func (b *Bus) Close() error {
	var err error
	if b.nc != nil {
		err = b.nc.Drain()
		for b.nc.IsDraining() {
			time.Sleep(10 * time.Millisecond)
		}
		b.nc.Close()
		b.nc = nil
	}
	b.shutdownServer()
	b.codec.close()
	return err
}

// Subject returns the bus subject of tenant t on a stream of n partitions:
// tarian.events.<tenant> when n is 1, tarian.events.p<k>.<tenant> with
// k = Partition(t, n) otherwise.
func Subject(t tenant.ID, n int) string {
	if n <= 1 {
		return subjectPrefix + string(t)
	}
	return subjectPrefix + "p" + strconv.Itoa(Partition(t, n)) + "." + string(t)
}

// Partition returns tenant t's partition among n, in [0, n): the 32-bit
// FNV-1a hash of the tenant ID modulo n. It depends on nothing else, so a
// tenant's partition never changes while n does not.
func Partition(t tenant.ID, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(t))
	return int(h.Sum32() % uint32(n))
}

// filter returns the subject filter of partition k of n: the whole stream
// when n is 1.
func filter(k, n int) string {
	if n <= 1 {
		return subjectPrefix + ">"
	}
	return subjectPrefix + "p" + strconv.Itoa(k) + ".*"
}

// subjectTenant returns the tenant of a bus subject in either form: its
// last token (tenant IDs hold no dots).
func subjectTenant(subj string) tenant.ID {
	return tenant.ID(subj[strings.LastIndexByte(subj, '.')+1:])
}

// Write publishes recs for tenant t and returns once every one is durable in
// the stream. Records are packed many to a message. Each message carries an
// ID unique to this Write (Nats-Msg-Id): when a cluster loses the stream
// leader or the connection fails over, Write publishes the messages not yet
// acknowledged again until PublishTimeout, and the stream stores each ID
// once. On a full stream or a timeout it returns an error wrapping
// ErrBackpressure; records of messages already stored stay on the bus
// (at-least-once for the shipper's retry). A write that ctx names
// (ingest.WithWriteKey) has IDs derived from its tenant, key and the
// records' positions instead: the shipper's retry of it is stored once
// too, within the stream's dedupe window.
func (b *Bus) Write(ctx context.Context, t tenant.ID, recs []event.Raw) error {
	if len(recs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.PublishTimeout)
	defer cancel()
	subj := Subject(t, b.cfg.Partitions)
	keyed := ""
	if k := ingest.WriteKey(ctx); k != "" {
		keyed = keyedID(t, k)
	}
	var pending []*nats.Msg
	for start := 0; start < len(recs); {
		data, n := b.codec.message(recs[start:], b.cfg.MessageBytes)
		m := nats.NewMsg(subj)
		m.Data = data
		id := keyed + strconv.Itoa(start) + "." + strconv.Itoa(n)
		if keyed == "" {
			id = b.ids.next()
		}
		m.Header.Set(jetstream.MsgIDHeader, id)
		pending = append(pending, m)
		start += n
	}
	const minBackoff, maxBackoff = 50 * time.Millisecond, time.Second
	backoff := minBackoff
	for {
		var err error
		pending, err = b.publish(ctx, pending)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		b.log.Debug("bus publish retried", "tenant", t, "messages", len(pending))
		sleep(ctx, backoff)
		backoff = min(2*backoff, maxBackoff)
	}
}

// publish publishes msgs and waits for their acknowledgements. It returns
// the messages to publish again (no answer, the connection or the stream
// leader lost meanwhile) or an error wrapping ErrBackpressure when the
// stream refused one or ctx ended.
func (b *Bus) publish(ctx context.Context, msgs []*nats.Msg) ([]*nats.Msg, error) {
	stall := b.cfg.PublishTimeout
	if d, ok := ctx.Deadline(); ok {
		stall = max(time.Until(d), time.Millisecond)
	}
	var again []*nats.Msg
	var futures []jetstream.PubAckFuture
	var sent []*nats.Msg
	for _, m := range msgs {
		f, err := b.js.PublishMsgAsync(m, jetstream.WithExpectStream(streamName), jetstream.WithStallWait(stall))
		switch {
		case err == nil:
			futures = append(futures, f)
			sent = append(sent, m)
		case ctx.Err() == nil && retryable(err):
			again = append(again, m)
		default:
			return nil, fmt.Errorf("%w: publish: %v", ErrBackpressure, err)
		}
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if !retryable(err) {
				return nil, fmt.Errorf("%w: %v", ErrBackpressure, err)
			}
			again = append(again, sent[i])
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for durable write: %v", ErrBackpressure, ctx.Err())
		}
	}
	if len(again) > 0 && ctx.Err() != nil {
		return nil, fmt.Errorf("%w: waiting for durable write: %v", ErrBackpressure, ctx.Err())
	}
	return again, nil
}

// retryable reports whether a publish that failed with err may be sent
// again: the server did not answer (timeout, no responders, disconnected
// while waiting, a leader election) rather than refuse it. A message sent
// again carries its first ID, so the stream stores it once either way.
func retryable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == errCodeClusterNotAvailable
	}
	switch {
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrMaxPayload),
		errors.Is(err, nats.ErrBadSubject), errors.Is(err, nats.ErrInvalidMsg):
		return false
	}
	return true
}

// errCodeClusterNotAvailable is JetStream's "system temporarily
// unavailable": no meta leader, as during an election.
const errCodeClusterNotAvailable jetstream.ErrorCode = 10008

// keyedID is the message ID prefix of tenant t's write named key
// (ingest.WithWriteKey): a hash of both, so that one tenant's key never
// names another's write; the records' positions in the write follow it.
func keyedID(t tenant.ID, key string) string {
	h := sha256.New()
	h.Write([]byte(t))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return "k" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]) + "-"
}

// msgIDs hands out message IDs unique across processes: a random prefix
// per Bus and a counter.
type msgIDs struct {
	prefix string
	n      atomic.Uint64
}

func (m *msgIDs) init() error {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("bus: message id prefix: %w", err)
	}
	m.prefix = base64.RawURLEncoding.EncodeToString(b[:]) + "-"
	return nil
}

func (m *msgIDs) next() string {
	return m.prefix + strconv.FormatUint(m.n.Add(1), 36)
}

// Message is one bus message as a consumer sees it.
type Message struct {
	Tenant tenant.ID
	// Seq is the stream sequence: unique and increasing across the stream
	// (across every partition).
	Seq uint64
	// Pending is how many messages the consumer had still to read after
	// this one when it was delivered (in its partitions): its lag.
	Pending uint64
	Records []event.Raw
}

// Handler processes a batch of messages in stream order. An empty batch
// means nothing arrived for ConsumeConfig.MaxWait: a chance to flush. If it
// returns an error, delivery starts again at ConsumeConfig.From.
type Handler func(ctx context.Context, msgs []Message) error

// ConsumeConfig tunes one consumer.
type ConsumeConfig struct {
	// Name names the consumer in logs.
	Name string
	// From returns the next stream sequence the consumer needs: its durable
	// checkpoint plus one. It is called at start and after a handler error.
	// The consumer's position is the caller's to keep (in the state store,
	// with the effects of the messages), not the bus's: that is what makes
	// restarts exact.
	From func(ctx context.Context) (uint64, error)
	// Batch is the most messages handed to the Handler at once.
	Batch int
	// MaxBytes is the most message bytes handed to the Handler at once
	// (at least one message is always handed).
	MaxBytes int
	// MaxWait is the longest a partial batch waits for more messages.
	MaxWait time.Duration
	// Partitions, when set, reads only these partitions (each in
	// [0, Config.Partitions)); empty reads the whole stream. With one
	// partition, partition 0 is the whole stream. Sequences stay the
	// stream's: a consumer of some partitions sees gaps where the others'
	// messages are, and From is its own checkpoint in those partitions.
	Partitions []int
}

// Consume reads the stream (or cc.Partitions) in order from cc.From()
// until ctx is done, handing batches to h. When it reads the whole stream,
// messages removed before they were read (past bus.max_age) are logged as a
// gap. It returns an error only for a partition out of range.
func (b *Bus) Consume(ctx context.Context, cc ConsumeConfig, h Handler) error {
	filters, err := b.filters(cc.Partitions)
	if err != nil {
		return err
	}
	const minBackoff, maxBackoff = 100 * time.Millisecond, 5 * time.Second
	backoff := minBackoff
	for ctx.Err() == nil {
		from, err := cc.From(ctx)
		if err == nil {
			err = b.consumeFrom(ctx, cc, filters, max(from, 1), h)
		}
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, ErrRestart) {
			b.log.Info("bus consumer restarts", "consumer", cc.Name, "why", err)
			continue
		}
		if errors.Is(err, errStalled) {
			// Its NATS server went, or the stream's leader moved: the
			// consumer is made again from the checkpoint, and catches up.
			b.log.Warn("bus consumer restarts from its checkpoint", "consumer", cc.Name, "err", err)
		} else {
			b.log.Error("bus consumer restarts from its checkpoint", "consumer", cc.Name, "err", err)
		}
		sleep(ctx, backoff)
		backoff = min(2*backoff, maxBackoff)
	}
	return nil
}

// ErrRestart, from a Handler, restarts the read at once from cc.From,
// without the wait after a failure: the handler changed what it reads for.
var ErrRestart = errors.New("restart requested")

// filters returns the subject filters of partitions (the whole stream when
// none).
func (b *Bus) filters(partitions []int) ([]string, error) {
	n := b.cfg.Partitions
	if len(partitions) == 0 || n == 1 {
		for _, k := range partitions {
			if k != 0 {
				return nil, fmt.Errorf("bus: partition %d: the bus has 1", k)
			}
		}
		return []string{filter(0, 1)}, nil
	}
	fs := make([]string, 0, len(partitions))
	for _, k := range partitions {
		if k < 0 || k >= n {
			return nil, fmt.Errorf("bus: partition %d: the bus has %d", k, n)
		}
		f := filter(k, n)
		if !slices.Contains(fs, f) {
			fs = append(fs, f)
		}
	}
	return fs, nil
}

// consumeFrom delivers from sequence from until ctx ends (nil) or the
// handler or the bus fails (the error).
func (b *Bus) consumeFrom(ctx context.Context, cc ConsumeConfig, filters []string, from uint64, h Handler) error {
	whole := filters[0] == filter(0, 1)
	cons, err := b.js.OrderedConsumer(ctx, streamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: filters,
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
	})
	if err != nil {
		return fmt.Errorf("ordered consumer at %d: %w", from, err)
	}
	it, err := cons.Messages(jetstream.PullMaxBytes(max(2*cc.MaxBytes, maxPayload+1<<20)), jetstream.PullHeartbeat(heartbeat))
	if err != nil {
		return fmt.Errorf("read from %d: %w", from, err)
	}
	p := startPump(it)
	defer p.stop(it)
	next := from
	progress := time.Now()
	for {
		msgs, err := b.readBatch(ctx, p, cc)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(msgs) > 0 {
			progress = time.Now()
		} else if time.Since(progress) >= stallAfter {
			// Nothing delivered for a while: make sure it is because
			// there is nothing to deliver. A consumer whose server died
			// is usually recreated by the client; when it is not, start
			// again from the checkpoint rather than stall.
			progress = time.Now()
			if last, err := b.lastOf(ctx, cc.Partitions); err == nil && last >= next {
				return fmt.Errorf("%w: nothing delivered for %v, the stream holds up to %d, next expected %d", errStalled, stallAfter, last, next)
			}
		}
		for i := range msgs {
			if whole && msgs[i].Seq > next {
				b.log.Warn("bus messages expired before they were consumed", "consumer", cc.Name, "from_seq", next, "to_seq", msgs[i].Seq-1)
			}
			next = msgs[i].Seq + 1
		}
		if err := h(ctx, msgs); err != nil {
			return fmt.Errorf("handler: %w", err)
		}
	}
}

// stallAfter is how long a consumer may receive nothing before Consume
// checks that the stream has nothing for it (else it is recreated).
const stallAfter = 10 * time.Second

// errStalled is a consumer that stopped receiving messages the stream holds.
var errStalled = errors.New("consumer stalled")

// lastOf is the last sequence of the partitions (the whole stream when
// none).
func (b *Bus) lastOf(ctx context.Context, partitions []int) (uint64, error) {
	if len(partitions) == 0 || b.cfg.Partitions == 1 {
		return b.LastSeq(ctx)
	}
	var last uint64
	for _, k := range partitions {
		l, err := b.PartitionLastSeq(ctx, k)
		if err != nil {
			return 0, err
		}
		last = max(last, l)
	}
	return last, nil
}

// heartbeat is how often the server holding a consumer says it is alive
// while there is nothing to deliver; two missed, and the client recreates
// the ordered consumer where it left off (its server died, or the cluster
// moved it).
const heartbeat = time.Second

// pump hands on the messages of an iterator from one blocking Next. The
// client checks for missed heartbeats only inside a Next call, so short
// Next calls (one per MaxWait) would never notice a consumer lost with its
// server; one long call does.
type pump struct {
	ch   chan pumped
	done chan struct{}
	wg   sync.WaitGroup
}

type pumped struct {
	m   jetstream.Msg
	err error
}

func startPump(it jetstream.MessagesContext) *pump {
	p := &pump{ch: make(chan pumped), done: make(chan struct{})}
	p.wg.Go(func() {
		for {
			m, err := it.Next()
			select {
			case p.ch <- pumped{m, err}:
			case <-p.done:
				return
			}
			if err != nil {
				return
			}
		}
	})
	return p
}

func (p *pump) stop(it jetstream.MessagesContext) {
	close(p.done)
	it.Stop()
	p.wg.Wait()
}

// readBatch waits up to MaxWait for messages and returns what arrived, up
// to the batch limits.
func (b *Bus) readBatch(ctx context.Context, p *pump, cc ConsumeConfig) ([]Message, error) {
	var msgs []Message
	size := 0
	t := time.NewTimer(cc.MaxWait)
	defer t.Stop()
	for len(msgs) < cc.Batch && size < cc.MaxBytes {
		var r pumped
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
			return msgs, nil
		case r = <-p.ch:
		}
		if r.err != nil {
			return nil, r.err
		}
		m := r.m
		md, err := m.Metadata()
		if err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		var recs []event.Raw
		body, err := b.codec.unpack(m.Data())
		if err == nil {
			recs, err = decode(body)
		}
		if err != nil {
			// A message we wrote ourselves cannot be decoded: a bug or
			// corruption. Stop rather than skip it.
			return nil, fmt.Errorf("BUG: message %d: %w", md.Sequence.Stream, err)
		}
		msgs = append(msgs, Message{
			Tenant:  subjectTenant(m.Subject()),
			Seq:     md.Sequence.Stream,
			Pending: md.NumPending,
			Records: recs,
		})
		size += len(body)
	}
	return msgs, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// LastSeq returns the sequence of the newest message on the stream (0 when
// none was ever written). A consumer whose checkpoint is LastSeq is caught up.
func (b *Bus) LastSeq(ctx context.Context) (uint64, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// PartitionLastSeq returns the sequence of the newest message in partition
// k (0 when it has none), LastSeq with one partition. A consumer of k whose
// checkpoint is at or past it is caught up. It reads that message (at most
// about message_bytes); Message.Pending gives the lag as a count.
func (b *Bus) PartitionLastSeq(ctx context.Context, k int) (uint64, error) {
	n := b.cfg.Partitions
	if k < 0 || k >= n {
		return 0, fmt.Errorf("bus: partition %d: the bus has %d", k, n)
	}
	if n == 1 {
		return b.LastSeq(ctx)
	}
	m, err := b.stream.GetLastMsgForSubject(ctx, filter(k, n))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("bus: last message of partition %d: %w", k, err)
	}
	return m.Sequence, nil
}

// Trim removes the messages before sequence keepFrom, which every consumer
// has durably processed, so the replay window never takes the space new
// records need.
func (b *Bus) Trim(ctx context.Context, keepFrom uint64) error {
	if err := b.stream.Purge(ctx, jetstream.WithPurgeSequence(keepFrom)); err != nil {
		return fmt.Errorf("trim bus below %d: %w", keepFrom, err)
	}
	return nil
}

// Stats describes the stream.
type Stats struct {
	Messages, Bytes uint64
}

// Stats returns the stream's size.
func (b *Bus) Stats(ctx context.Context) (Stats, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return Stats{}, err
	}
	return Stats{Messages: info.State.Msgs, Bytes: info.State.Bytes}, nil
}
