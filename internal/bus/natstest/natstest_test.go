package natstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func connect(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestSingleNode(t *testing.T) {
	c := Start(t, 1)
	js := connect(t, c.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	if c.StreamLeader("S") != 0 {
		t.Errorf("StreamLeader = %d, want 0", c.StreamLeader("S"))
	}
}

// A replicated stream keeps taking writes with one node of three killed,
// and the node restarted catches up.
func TestKillRestartCatchesUp(t *testing.T) {
	c := Start(t, 3)
	js := connect(t, c.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // elections take seconds on a loaded machine
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	sent := 0
	publish := func(n int) {
		t.Helper()
		for range n {
			sent++
			id := jetstream.WithMsgID(fmt.Sprintf("m%d", sent)) // a retry is stored once
			for {
				// Each attempt gets its own deadline: a publish sent while
				// the stream elects a leader may get no answer at all.
				actx, acancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := js.Publish(actx, "s.x", []byte("x"), id)
				acancel()
				if err == nil {
					break
				} else if ctx.Err() != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	publish(5)
	l := c.StreamLeader("S")
	if l < 0 {
		t.Fatal("no stream leader")
	}
	c.Kill(l)
	if c.Server(l) != nil {
		t.Fatal("killed node still running")
	}
	publish(5)
	c.Restart(l)
	c.WaitCurrent("S")
	if st, ok := c.StreamState(l, "S"); !ok || st.Msgs != 10 {
		t.Errorf("restarted node holds %d messages (%v), want 10", st.Msgs, ok)
	}
}
