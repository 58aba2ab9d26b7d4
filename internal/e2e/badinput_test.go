package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type deadLetter struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Data   string `json:"data"`
	Source string `json:"source"`
}

// TestBadInput sends what a broken shipper sends.
func TestBadInput(t *testing.T) {
	t.Parallel()
	const maxLine, maxBody = 4096, 65536
	s := startServer(t, t.TempDir(), "TARIAN_INGEST_MAX_LINE_BYTES=4096", "TARIAN_INGEST_MAX_BODY_BYTES=65536")
	s.addTenant("ta")
	s.addTenant("tb")
	ingestA := s.createToken("ta", "ingest")
	analystA := s.createToken("ta", "tenant-analyst")
	adminA := s.createToken("ta", "tenant-admin")
	adminB := s.createToken("tb", "tenant-admin")

	oversized := `{"message":"badinput oversized","pad":"` + strings.Repeat("x", maxLine) + `"}`
	lines := []string{
		`{"message":"badinput good one"}`, // 1
		`{"message": "badinput broken"`,   // 2: invalid JSON
		oversized,                         // 3: over the line limit (valid JSON otherwise)
		`[1,2]`,                           // 4: not an object
		`"str"`,                           // 5
		`42`,                              // 6
		`{"message":"badinput good two"}`, // 7
		``,                                // 8: blank, skipped and not an error
		`{"message":"badinput good three"}` + "\r", // 9: CRLF framing is fine
		`null`,                             // 10: not an object
		`{"message":"badinput good four"}`, // 11, no final newline
	}
	tooLong := fmt.Sprintf("line of %d bytes is over the %d-byte limit", len(oversized), maxLine)
	body := []byte(strings.Join(lines, "\n"))
	sum := s.ingestHTTP(ingestA.Token, body)
	type lineErr struct {
		Line   int
		Reason string
	}
	var gotErrs []lineErr
	for _, e := range sum.Errors {
		gotErrs = append(gotErrs, lineErr{e.Line, e.Reason})
	}
	// Reasons are compared by their stable beginning.
	wantErrs := []lineErr{{2, "invalid JSON"}, {3, tooLong}, {4, "not a JSON object"}, {5, "not a JSON object"}, {6, "not a JSON object"}, {10, "not a JSON object"}}
	if sum.Accepted != 4 || sum.Rejected != 6 {
		t.Errorf("accepted %d, rejected %d; want 4 and 6", sum.Accepted, sum.Rejected)
	}
	prefix := cmp.Transformer("prefix", func(es []lineErr) []lineErr {
		out := make([]lineErr, len(es))
		for i, e := range es {
			out[i] = e
			for _, w := range wantErrs {
				if w.Line == e.Line && strings.HasPrefix(e.Reason, w.Reason) {
					out[i].Reason = w.Reason
				}
			}
		}
		return out
	})
	if diff := cmp.Diff(wantErrs, gotErrs, prefix); diff != "" {
		t.Errorf("line errors (-want +got):\n%s", diff)
	}

	t.Run("dead letters keep the rejected lines", func(t *testing.T) {
		status, _, b := s.do("GET", "/api/v1/deadletters?tenant=ta", adminToken, nil)
		if status != http.StatusOK {
			t.Fatalf("provider-admin reads dead letters of ta: HTTP %d %s", status, b)
		}
		var out struct {
			Tenant      string       `json:"tenant"`
			DeadLetters []deadLetter `json:"dead_letters"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		want := map[int]deadLetter{
			2:  {2, "invalid JSON", lines[1], "http"},
			3:  {3, tooLong, lines[2], "http"},
			4:  {4, "not a JSON object", lines[3], "http"},
			5:  {5, "not a JSON object", lines[4], "http"},
			6:  {6, "not a JSON object", lines[5], "http"},
			10: {10, "not a JSON object", lines[9], "http"},
		}
		got := map[int]deadLetter{}
		for _, d := range out.DeadLetters {
			if w, ok := want[d.Line]; ok && strings.HasPrefix(d.Reason, w.Reason) {
				d.Reason = w.Reason
			}
			got[d.Line] = d
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("dead letters of ta (-want +got):\n%s", diff)
		}
		if out.Tenant != "ta" {
			t.Errorf("dead letters answer for tenant %q, want ta", out.Tenant)
		}

		// ta's own admin reads them too; tb's admin gets nothing of ta's.
		if status, _, b := s.do("GET", "/api/v1/deadletters", adminA.Token, nil); status != http.StatusOK || !bytes.Contains(b, []byte(`"line":10`)) {
			t.Errorf("ta admin reads own dead letters: HTTP %d %s", status, b)
		}
		for _, c := range []struct {
			name, token, path string
			status            int
			code              string
		}{
			{"tb admin asks for ta's dead letters", adminB.Token, "/api/v1/deadletters?tenant=ta", http.StatusForbidden, "forbidden"},
			{"ta analyst asks for dead letters", analystA.Token, "/api/v1/deadletters?tenant=ta", http.StatusForbidden, "forbidden"},
			{"ta ingest token asks for dead letters", ingestA.Token, "/api/v1/deadletters", http.StatusForbidden, "forbidden"},
			{"no token", "", "/api/v1/deadletters?tenant=ta", http.StatusUnauthorized, "unauthenticated"},
		} {
			status, hdr, b := s.do("GET", c.path, c.token, nil)
			wantError(t, c.name, status, hdr, b, c.status, c.code)
			if bytes.Contains(b, []byte("badinput")) {
				t.Errorf("%s: answer leaks ta's data: %s", c.name, b)
			}
		}
		status, _, b = s.do("GET", "/api/v1/deadletters", adminB.Token, nil)
		if status != http.StatusOK || bytes.Contains(b, []byte("badinput")) || !bytes.Contains(b, []byte(`"dead_letters":[]`)) {
			t.Errorf("tb admin reads own (empty) dead letters: HTTP %d %s", status, b)
		}
	})

	t.Run("refused bodies", func(t *testing.T) {
		var over bytes.Buffer
		for over.Len() <= maxBody {
			over.WriteString(`{"message":"badinput refused, body too large"}` + "\n")
		}
		for _, c := range []struct {
			name   string
			token  string
			body   []byte
			hdr    []string
			status int
			code   string
		}{
			{"empty body", ingestA.Token, []byte{}, nil, http.StatusBadRequest, "empty_body"},
			{"only blank lines", ingestA.Token, []byte("\n \r\n\t\n"), nil, http.StatusBadRequest, "empty_body"},
			{"wrong token", "trn_wrong", []byte(lines[0]), nil, http.StatusUnauthorized, "unauthenticated"},
			{"no token", "", []byte(lines[0]), nil, http.StatusUnauthorized, "unauthenticated"},
			{"analyst token ingests", analystA.Token, []byte(lines[0]), nil, http.StatusForbidden, "forbidden"},
			{"provider-admin token ingests", adminToken, []byte(lines[0]), nil, http.StatusForbidden, "forbidden"},
			{"body over the limit", ingestA.Token, over.Bytes(), nil, http.StatusRequestEntityTooLarge, "body_too_large"},
			{"gzip body over the limit once unzipped", ingestA.Token, gzipped(t, over.Bytes()), []string{"Content-Encoding", "gzip"}, http.StatusRequestEntityTooLarge, "body_too_large"},
			{"bad gzip", ingestA.Token, []byte(lines[0]), []string{"Content-Encoding", "gzip"}, http.StatusBadRequest, "bad_request"},
			{"unknown encoding", ingestA.Token, []byte(lines[0]), []string{"Content-Encoding", "br"}, http.StatusUnsupportedMediaType, "unsupported_encoding"},
		} {
			status, hdr, b := s.do("POST", "/api/v1/ingest", c.token, c.body, append([]string{"Content-Type", "application/x-ndjson"}, c.hdr...)...)
			wantError(t, c.name, status, hdr, b, c.status, c.code)
		}

		// A body over the limit sent without Content-Length (chunked) is refused too.
		req, err := http.NewRequest("POST", s.url+"/api/v1/ingest", io.MultiReader(bytes.NewReader(over.Bytes())))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+ingestA.Token)
		resp, err := s.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantError(t, "chunked body over the limit", resp.StatusCode, resp.Header, b, http.StatusRequestEntityTooLarge, "body_too_large")
	})

	t.Run("gzip body", func(t *testing.T) {
		z := gzipped(t, []byte("{\"message\":\"badinput zipped one\"}\n{\"message\":\"badinput zipped two\"}\n[3]\n"))
		sum := s.ingestHTTP(ingestA.Token, z, "Content-Encoding", "gzip")
		if sum.Accepted != 2 || sum.Rejected != 1 || len(sum.Errors) != 1 || sum.Errors[0].Line != 3 {
			t.Errorf("gzip body: %+v, want 2 accepted and line 3 rejected", sum)
		}
		// x-gzip, as older shippers name it (RFC 9110 section 8.4.1.3).
		if sum := s.ingestHTTP(ingestA.Token, gzipped(t, []byte(`{"message":"badinput x-gzipped"}`+"\n")), "Content-Encoding", "x-gzip"); sum.Accepted != 1 {
			t.Errorf("x-gzip body: %+v, want 1 accepted", sum)
		}
	})

	// Exactly the accepted events are searchable: 4 from the mixed body, 3
	// from the gzip ones, none from a refused body.
	s.waitCount(analystA.Token, "", "badinput", map[string]int{"ta": 7})
	s.waitIndexed()
	if got := s.counts(analystA.Token, "", "badinput"); got["ta"] != 7 {
		t.Errorf("searchable events: %v, want ta=7", got)
	}
	// A search the limit cut says so; one it did not, does not.
	if r := s.cli(analystA.Token, "search", "--limit", "3", "badinput"); r.code != 0 || !strings.Contains(r.stderr, "3 results\nthe limit (3) was reached: there may be more") {
		t.Errorf("search cut by --limit 3: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := s.cli(analystA.Token, "search", "--limit", "8", "badinput"); r.code != 0 || r.stderr != "7 results\n" {
		t.Errorf("search under its limit: exit %d, stderr %q", r.code, r.stderr)
	}
	rows := s.searchRows(analystA.Token, "", "badinput", 100)
	var msgs []string
	for _, r := range rows {
		msgs = append(msgs, r["message"])
	}
	wantMsgs := []string{"badinput good four", "badinput good one", "badinput good three", "badinput good two", "badinput x-gzipped", "badinput zipped one", "badinput zipped two"}
	if diff := cmp.Diff(wantMsgs, msgs, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("stored messages (-want +got):\n%s", diff)
	}
}
