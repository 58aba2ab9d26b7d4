package microsoft

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
)

// The log-source types this package parses.
const (
	// TypeSignIn is Entra ID (Azure AD) sign-in logs.
	TypeSignIn = "entra-signin"
	// TypeAudit is Entra ID audit logs (directory audits).
	TypeAudit = "entra-audit"
	// TypeM365 is the Microsoft 365 unified audit log.
	TypeM365 = "m365-audit"
	// TypeDefender is Microsoft 365 Defender advanced-hunting rows and
	// Microsoft Graph security alerts.
	TypeDefender = "m365-defender"
	// TypeSentinel is any row of a Microsoft Sentinel (Log Analytics)
	// table, parsed by its Type column.
	TypeSentinel = "sentinel"
	// TypeActivity is the Azure Activity log: a subscription's
	// control-plane operations.
	TypeActivity = "azure-activity"
)

const ecsVersion = "8.17.0"

// Errors a payload can be refused with.
var (
	ErrNotObject = errors.New("not a JSON object")
	ErrBatch     = errors.New("payload is a batch of records: split it first")
)

// base is what every parser of the package keeps between calls.
type base struct {
	p     fastjson.Parser
	subs  []*fastjson.Parser // for JSON held in string values
	nsub  int
	arena fastjson.Arena
	n     names
	o     out
	ips   list
	users list
	ents  list
	hashs list
	hosts list
}

// begin parses payload and readies the buffers for dst. It unwraps the
// envelopes a record arrives in: a batch holding one record, and Wazuh's
// {"integration":"x","x":{...}}. The record returned is an object.
func (b *base) begin(payload []byte, dst *event.Event) (*fastjson.Value, error) {
	v, err := b.p.ParseBytes(payload)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	b.nsub = 0
	b.arena.Reset()
	b.o.reset(dst)
	b.ips.reset()
	b.users.reset()
	b.ents.reset()
	b.hashs.reset()
	b.hosts.reset()
	return unwrap(v)
}

// unwrap returns the record inside v's envelopes.
func unwrap(v *fastjson.Value) (*fastjson.Value, error) {
	for range 3 {
		obj, err := v.Object()
		if err != nil {
			return nil, ErrNotObject
		}
		if inner := batchArray(obj); inner != nil {
			a, _ := inner.Array()
			if len(a) != 1 {
				return nil, fmt.Errorf("%w (%d records)", ErrBatch, len(a))
			}
			v = a[0]
			continue
		}
		if name := obj.Get("integration"); name != nil && name.Type() == fastjson.TypeString && obj.Len() == 2 {
			if in := obj.Get(string(name.GetStringBytes())); in != nil && in.Type() == fastjson.TypeObject {
				v = in
				continue
			}
		}
		return v, nil
	}
	if v.Type() != fastjson.TypeObject {
		return nil, ErrNotObject
	}
	return v, nil
}

// batchArray returns the array of records of a batch envelope: Event Hub's
// {"records":[...]} or a Microsoft Graph page {"value":[...],
// "@odata.context":...}; nil when obj is a record.
func batchArray(obj *fastjson.Object) *fastjson.Value {
	if r := obj.Get("records"); r != nil && r.Type() == fastjson.TypeArray && obj.Len() == 1 {
		return r
	}
	if r := obj.Get("value"); r != nil && r.Type() == fastjson.TypeArray && (obj.Len() == 1 || obj.Get("@odata.context") != nil) {
		return r
	}
	return nil
}

// sub returns the JSON a string value holds (Sentinel exports keep nested
// objects as JSON text), or v itself.
func (b *base) sub(v *fastjson.Value) *fastjson.Value {
	if v == nil || v.Type() != fastjson.TypeString {
		return v
	}
	s := bytes.TrimSpace(v.GetStringBytes())
	if len(s) < 2 || (s[0] != '{' || s[len(s)-1] != '}') && (s[0] != '[' || s[len(s)-1] != ']') {
		return v
	}
	if b.nsub == len(b.subs) {
		b.subs = append(b.subs, new(fastjson.Parser))
	}
	x, err := b.subs[b.nsub].ParseBytes(s)
	if err != nil {
		return v
	}
	b.nsub++
	return x
}

// fail undoes a partly parsed event and returns err.
func fail(dst *event.Event, n0 int, err error) error {
	dst.Fields = dst.Fields[:n0]
	return err
}

// Split returns the records of a batch payload: the elements of a JSON
// array (a Management Activity API content blob, a Sentinel export), of
// Event Hub's {"records":[...]}, or of a Microsoft Graph page
// {"value":[...],"@odata.context":...}. Any other JSON payload is one
// record and comes back alone. The records are slices of payload. An empty
// batch has no records (and no error).
func Split(payload []byte) ([][]byte, error) {
	i := skipSpace(payload, 0)
	if i == len(payload) {
		return nil, errors.New("empty payload")
	}
	if c := payload[i]; c != '[' && c != '{' {
		return nil, ErrNotObject
	}
	if err := fastjson.ValidateBytes(payload); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if payload[i] == '[' {
		return elements(payload, i), nil
	}
	var records, value []byte
	n, odata := 0, false
	members(payload, i, func(key, val []byte) {
		n++
		switch {
		case string(key) == "records":
			records = val
		case string(key) == "value":
			value = val
		case bytes.HasPrefix(key, []byte("@odata.")):
			odata = true
		}
	})
	switch {
	case records != nil && n == 1 && records[0] == '[':
		return elements(records, 0), nil
	case value != nil && (n == 1 || odata) && value[0] == '[':
		return elements(value, 0), nil
	}
	return [][]byte{payload}, nil
}

// The scanners below read JSON already validated.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipValue returns the end of the value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != ']' && b[i] != '}' && b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' {
		i++
	}
	return i
}

// skipString returns the end of the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// elements returns the elements of the array starting at b[i] == '['.
func elements(b []byte, i int) [][]byte {
	var out [][]byte
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != ']' {
		end := skipValue(b, i)
		out = append(out, b[i:end])
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return out
}

// members calls fn with each member of the object starting at b[i] == '{':
// the key as written (between its quotes) and the value's bytes.
func members(b []byte, i int, fn func(key, val []byte)) {
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] == '"' {
		kend := skipString(b, i)
		key := b[i+1 : kend-1]
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return
		}
		i = skipSpace(b, i+1)
		vend := skipValue(b, i)
		fn(key, b[i:vend])
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
}

// Sniffing: the keys and values (JSON strings, as written) that only
// these formats carry, asked of a record's strings read once (sniff).

// SniffSignIn reports whether a record looks like an Entra ID sign-in
// record (Azure Monitor, Microsoft Graph or Sentinel form, or a batch).
func SniffSignIn(j *sniff.JSON) bool {
	return j.Has("Sign-in activity") || j.HasSuffix("SignInLogs") || j.Has("SigninLogs") ||
		j.Has("createdDateTime") && j.Has("userPrincipalName") && j.Has("clientAppUsed")
}

// SniffAudit reports whether a record looks like an Entra ID audit record.
func SniffAudit(j *sniff.JSON) bool {
	return j.Has("AuditLogs") ||
		j.Has("activityDisplayName") && j.Has("initiatedBy") ||
		j.Has("ActivityDisplayName") && j.Has("InitiatedBy")
}

// SniffM365 reports whether a record looks like a Microsoft 365 unified
// audit record.
func SniffM365(j *sniff.JSON) bool {
	return j.Has("OfficeActivity") || j.Has("CreationTime") && (j.Has("RecordType") || j.Has("Operation"))
}

// SniffDefender reports whether a record looks like a Microsoft 365
// Defender record or a Microsoft Graph security alert.
func SniffDefender(j *sniff.JSON) bool {
	return j.HasPrefix("AdvancedHunting-") || j.HasPrefix("#microsoft.graph.security.") || j.Has("alerts_v2") ||
		j.Has("Timestamp") && j.Has("ActionType")
}

// SniffSentinel reports whether a record looks like a Sentinel table row.
func SniffSentinel(j *sniff.JSON) bool {
	return j.Has("TimeGenerated")
}
