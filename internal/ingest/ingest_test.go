package ingest_test

import (
	"context"
	"testing"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
)

// A body that starts with a UTF-8 byte order mark (a file Windows
// PowerShell 5.1 wrote with -Encoding UTF8) has its first line accepted
// as the record it is, without the mark.
func TestAcceptNDJSONByteOrderMark(t *testing.T) {
	sink := ingesttest.NewSink()
	svc := ingest.NewService(ingest.DefaultConfig(), sink, sink, sink)
	body := []byte("\xEF\xBB\xBF{\"message\":\"first\"}\r\n{\"message\":\"second\"}\r\n")
	sum, err := svc.AcceptNDJSON(context.Background(), "alpha", "http", body)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != 2 || sum.Rejected != 0 {
		t.Fatalf("summary %+v, want 2 accepted", sum)
	}
	if got := string(sink.Records("alpha")[0].Data); got != `{"message":"first"}` {
		t.Errorf("first record %q", got)
	}
}
