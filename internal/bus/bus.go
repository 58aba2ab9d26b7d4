// Package bus is Tarian's durable ingest bus: a NATS JetStream stream with one
// subject per tenant. By default the NATS server runs embedded in-process,
// with no listener, storing under the data directory; Config.URL points at an
// external JetStream cluster instead, through the same code path.
//
// Durability: the embedded server fsyncs every stream write (SyncAlways), and
// Write batches many records per message, so a shipper is told "accepted"
// only once its records are on disk. See docs/ARCHITECTURE.md.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
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
	// URL of an external NATS server with JetStream; empty runs the embedded server.
	URL string `yaml:"url"`
	// MaxBytes caps the stream. When full, new writes are refused
	// (back-pressure), never old data discarded unread.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxAge is how long records are kept on the bus for replay after they
	// were consumed.
	MaxAge time.Duration `yaml:"max_age"`
	// PublishTimeout bounds one durable write; past it the caller gets back-pressure.
	PublishTimeout time.Duration `yaml:"publish_timeout"`
	// MessageBytes is the target size of one bus message (many records each).
	MessageBytes int `yaml:"message_bytes"`
	// Replicas for the stream on an external cluster (R3 recommended); 1 embedded.
	Replicas int `yaml:"replicas"`
	// Compression of message bodies: "zstd" (default) or "none". Consumers
	// read both, whatever this says.
	Compression string `yaml:"compression"`
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		MaxBytes:       10 << 30,
		MaxAge:         72 * time.Hour,
		PublishTimeout: 10 * time.Second,
		MessageBytes:   1 << 20,
		Replicas:       1,
		Compression:    CompressionZstd,
	}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.MaxBytes < 1<<20:
		return errors.New("max_bytes: must be at least 1048576")
	case c.MaxAge < time.Minute:
		return errors.New("max_age: must be at least 1m")
	case c.PublishTimeout <= 0:
		return errors.New("publish_timeout: must be positive")
	case c.MessageBytes < 1024 || c.MessageBytes > 8<<20:
		return errors.New("message_bytes: must be between 1024 and 8388608")
	case c.Replicas < 1 || c.Replicas > 5:
		return errors.New("replicas: must be between 1 and 5")
	case c.Compression != CompressionZstd && c.Compression != CompressionNone:
		return fmt.Errorf("compression: %q: must be %q or %q", c.Compression, CompressionZstd, CompressionNone)
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
}

// Open starts the embedded server under dir (unless cfg.URL is set),
// connects, and creates or updates the stream.
func Open(ctx context.Context, cfg Config, dir string, log *slog.Logger) (*Bus, error) {
	cd, err := newCodec(cfg.Compression)
	if err != nil {
		return nil, err
	}
	b := &Bus{cfg: cfg, log: log, codec: cd}
	var opts []nats.Option
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
	}
	opts = append(opts, nats.Name("tarian"), nats.MaxReconnects(-1))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	b.nc = nc
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	b.js = js
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        streamName,
		Description: "Tarian raw records, one subject per tenant",
		Subjects:    []string{subjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    cfg.MaxBytes,
		MaxAge:      cfg.MaxAge,
		MaxMsgSize:  maxPayload,
		Replicas:    cfg.Replicas,
		Duplicates:  2 * time.Minute,
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("create stream %s: %w", streamName, err)
	}
	b.stream = st
	if err := b.continueAfterRestore(ctx, dir); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

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

// Subject returns the bus subject of tenant t.
func Subject(t tenant.ID) string { return subjectPrefix + string(t) }

// Write publishes recs for tenant t and returns once every one is durable in
// the stream. Records are packed many to a message. On a stall, a full
// stream or a timeout it returns an error wrapping ErrBackpressure; records
// of messages already acknowledged stay on the bus (at-least-once).
func (b *Bus) Write(ctx context.Context, t tenant.ID, recs []event.Raw) error {
	if len(recs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.PublishTimeout)
	defer cancel()
	subj := Subject(t)
	var futures []jetstream.PubAckFuture
	for start := 0; start < len(recs); {
		body, n := encode(recs[start:], b.cfg.MessageBytes)
		start += n
		m := nats.NewMsg(subj)
		m.Data = b.codec.pack(body)
		f, err := b.js.PublishMsgAsync(m, jetstream.WithExpectStream(streamName), jetstream.WithStallWait(b.cfg.PublishTimeout))
		if err != nil {
			return fmt.Errorf("%w: publish: %v", ErrBackpressure, err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("%w: %v", ErrBackpressure, err)
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for durable write: %v", ErrBackpressure, ctx.Err())
		}
	}
	return nil
}

// Message is one bus message as a consumer sees it.
type Message struct {
	Tenant tenant.ID
	// Seq is the stream sequence: unique and increasing across the stream.
	Seq     uint64
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
}

// Consume reads the stream in order from cc.From() until ctx is done,
// handing batches to h. Messages removed from the stream before they were
// read (past bus.max_age) are logged as a gap.
func (b *Bus) Consume(ctx context.Context, cc ConsumeConfig, h Handler) error {
	const minBackoff, maxBackoff = 100 * time.Millisecond, 5 * time.Second
	backoff := minBackoff
	for ctx.Err() == nil {
		from, err := cc.From(ctx)
		if err == nil {
			err = b.consumeFrom(ctx, cc, max(from, 1), h)
		}
		if ctx.Err() != nil {
			break
		}
		b.log.Error("bus consumer restarts from its checkpoint", "consumer", cc.Name, "err", err)
		sleep(ctx, backoff)
		backoff = min(2*backoff, maxBackoff)
	}
	return nil
}

// consumeFrom delivers from sequence from until ctx ends (nil) or the
// handler or the bus fails (the error).
func (b *Bus) consumeFrom(ctx context.Context, cc ConsumeConfig, from uint64, h Handler) error {
	cons, err := b.js.OrderedConsumer(ctx, streamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subjectPrefix + ">"},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
	})
	if err != nil {
		return fmt.Errorf("ordered consumer at %d: %w", from, err)
	}
	it, err := cons.Messages(jetstream.PullMaxBytes(max(2*cc.MaxBytes, maxPayload+1<<20)))
	if err != nil {
		return fmt.Errorf("read from %d: %w", from, err)
	}
	defer it.Stop()
	next := from
	for {
		msgs, err := b.readBatch(ctx, it, cc)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for i := range msgs {
			if msgs[i].Seq > next {
				b.log.Warn("bus messages expired before they were consumed", "consumer", cc.Name, "from_seq", next, "to_seq", msgs[i].Seq-1)
			}
			next = msgs[i].Seq + 1
		}
		if err := h(ctx, msgs); err != nil {
			return fmt.Errorf("handler: %w", err)
		}
	}
}

// readBatch waits up to MaxWait for messages and returns what arrived, up
// to the batch limits.
func (b *Bus) readBatch(ctx context.Context, it jetstream.MessagesContext, cc ConsumeConfig) ([]Message, error) {
	var msgs []Message
	size := 0
	deadline := time.Now().Add(cc.MaxWait)
	for len(msgs) < cc.Batch && size < cc.MaxBytes {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		m, err := it.Next(jetstream.NextContext(wctx))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
				break
			}
			return nil, err
		}
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
			Tenant:  tenant.ID(m.Subject()[len(subjectPrefix):]),
			Seq:     md.Sequence.Stream,
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
