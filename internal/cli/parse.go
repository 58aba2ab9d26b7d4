package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	logparse "github.com/tarian-soc/tarian/internal/parse"
)

// parseCmd is `tarian parse`: records of a file through a format, offline,
// showing the three layers of each event.
func parseCmd(args []string, env Env) error {
	fs := newFlagSet("parse", env)
	typ := fs.String("type", logparse.Auto, "the records' type (see --list); auto detects it per record")
	asJSON := fs.Bool("json", false, "print each event as one JSON document per line")
	list := fs.Bool("list", false, "list the types")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *list {
		for _, f := range logparse.Formats() {
			fmt.Fprintf(env.Stdout, "%-16s %s\n", f.Type, f.Title)
		}
		return nil
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	// Offline, every layer: the raw record and the aliases the server
	// does not store.
	pl, err := logparse.New(logparse.Config{Raw: logparse.RawAlways, Aliases: true})
	if err != nil {
		return err
	}
	p := pl.NewParser()
	var evs []event.Event
	failed := 0
	n := 0
	for _, name := range files {
		data, err := readInput(name, env.Stdin)
		if err != nil {
			return err
		}
		for _, rec := range splitRecords(data) {
			n++
			raw := event.Raw{Received: time.Now().UTC(), Source: envelopeOf(rec.data), Data: rec.data}
			evs, err = p.ParseAs(*typ, raw, evs[:0])
			if err != nil {
				if *typ != logparse.Auto && strings.Contains(err.Error(), logparse.ErrUnknownType.Error()) {
					return usageError(err.Error())
				}
				failed++
				fmt.Fprintf(env.Stderr, "%s:%d: dead letter: %v\n", name, rec.line, err)
				continue
			}
			for _, ev := range evs {
				if *asJSON {
					if err := json.NewEncoder(env.Stdout).Encode(Document(ev)); err != nil {
						return err
					}
					continue
				}
				printLayers(env.Stdout, name, rec.line, ev)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d records would be dead-lettered", failed, n)
	}
	return nil
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

// record is one record of an input file and the line it starts on.
type record struct {
	data []byte
	line int
}

// splitRecords cuts a file into records: lines, except for a file that is
// one JSON document spread over lines (an array, or an object with an
// "events" array as Elastic's pipeline tests hold: each element is a
// record) and a file of Windows XML events (each <Event> element).
func splitRecords(data []byte) []record {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '[' || trimmed[0] == '{') && bytes.Count(trimmed, []byte("\n")) > 0 {
		var v any
		if json.Unmarshal(trimmed, &v) == nil {
			var elems []any
			switch x := v.(type) {
			case []any:
				elems = x
			case map[string]any:
				if evs, ok := x["events"].([]any); ok && len(x) == 1 {
					elems = evs
				} else {
					elems = []any{x}
				}
			}
			var out []record
			for _, e := range elems {
				b, _ := json.Marshal(e)
				out = append(out, record{data: b, line: 1})
			}
			return out
		}
	}
	if bytes.HasPrefix(trimmed, []byte("<?xml")) || bytes.HasPrefix(trimmed, []byte("<Event")) {
		return xmlEvents(data)
	}
	var out []record
	for i, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, record{data: bytes.TrimRight(l, "\r"), line: i + 1})
		}
	}
	return out
}

// xmlEvents returns each <Event ...>...</Event> element of data.
func xmlEvents(data []byte) []record {
	var out []record
	for off := 0; ; {
		i := indexEventStart(data[off:])
		if i < 0 {
			return out
		}
		start := off + i
		j := bytes.Index(data[start:], []byte("</Event>"))
		if j < 0 {
			return append(out, record{data: data[start:], line: 1 + bytes.Count(data[:start], []byte("\n"))})
		}
		end := start + j + len("</Event>")
		out = append(out, record{data: data[start:end], line: 1 + bytes.Count(data[:start], []byte("\n"))})
		off = end
	}
}

// indexEventStart finds "<Event" followed by a space or '>' (not <Events>).
func indexEventStart(b []byte) int {
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte("<Event"))
		if i < 0 {
			return -1
		}
		k := off + i + len("<Event")
		if k < len(b) && (b[k] == ' ' || b[k] == '>' || b[k] == '\n' || b[k] == '\t' || b[k] == '\r') {
			return off + i
		}
		off = k
	}
}

// envelopeOf names the receiver a record looks like it came through: a
// syslog line starts with <PRI>.
func envelopeOf(rec []byte) string {
	if len(rec) > 2 && rec[0] == '<' && rec[1] >= '0' && rec[1] <= '9' {
		return "syslog"
	}
	return "file"
}

// ecsRoots are the top-level names of Elastic Common Schema field sets.
var ecsRoots = map[string]bool{
	"@timestamp": true, "agent": true, "client": true, "cloud": true, "container": true, "data_stream": true, "destination": true,
	"device": true, "dll": true, "dns": true, "ecs": true, "email": true, "error": true, "event": true, "faas": true, "file": true,
	"group": true, "host": true, "http": true, "labels": true, "log": true, "message": true, "network": true, "observer": true,
	"orchestrator": true, "organization": true, "package": true, "process": true, "registry": true, "related": true, "rule": true,
	"server": true, "service": true, "source": true, "tags": true, "threat": true, "tls": true, "trace": true, "transaction": true,
	"span": true, "url": true, "user": true, "user_agent": true, "vulnerability": true,
}

// layer says which of the three layers a field belongs to.
func layer(name string) string {
	switch {
	case name == event.FieldOriginal:
		return "raw"
	case strings.HasPrefix(name, "tarian."):
		return "tarian"
	}
	root, _, _ := strings.Cut(name, ".")
	if ecsRoots[root] {
		return "ecs"
	}
	return "native"
}

func printLayers(w io.Writer, file string, line int, ev event.Event) {
	typ, _ := ev.Get(logparse.FieldType)
	if typ == "" {
		typ = "(none: envelope only)"
	}
	if d, _ := ev.Get(logparse.FieldDetected); d == "true" {
		typ += " (detected)"
	}
	fmt.Fprintf(w, "--- %s:%d type %s\n", file, line, typ)
	orig, _ := ev.Get(event.FieldOriginal)
	fmt.Fprintf(w, "raw:\n  %s\n", orig)
	for _, l := range []string{"native", "ecs"} {
		var names []string
		vals := map[string]string{}
		for _, f := range ev.Fields {
			if layer(f.Name) == l {
				names = append(names, f.Name)
				vals[f.Name] = f.Value
			}
		}
		slices.Sort(names)
		fmt.Fprintf(w, "%s: (%s)\n", l, plural(len(names), "field"))
		for _, n := range names {
			fmt.Fprintf(w, "  %s = %s\n", n, strconv.Quote(vals[n]))
		}
	}
}

// numericECS are ECS fields of a numeric type: --json writes them as JSON
// numbers, as an Elasticsearch document holds them.
var numericECS = map[string]bool{}

func init() {
	for _, side := range []string{"source", "destination", "client", "server"} {
		for _, f := range []string{"port", "bytes", "packets", "nat.port"} {
			numericECS[side+"."+f] = true
		}
	}
	for _, f := range []string{"network.bytes", "network.packets", "event.severity", "event.duration", "event.sequence", "event.risk_score",
		"process.pid", "process.parent.pid", "process.thread.id", "process.exit_code", "process.parent.thread.id", "file.size", "url.port",
		"http.response.status_code", "http.request.bytes", "http.response.bytes", "http.response.body.bytes", "log.syslog.priority",
		"log.syslog.facility.code", "log.syslog.severity.code", "log.file.line", "observer.ingress.vlan.id", "observer.egress.vlan.id",
		"dns.answers.ttl", "email.attachments.file.size", "user.risk.calculated_score"} {
		numericECS[f] = true
	}
}

// Document nests an event's dotted fields into one JSON document, as
// Elasticsearch would hold it: arrays held as JSON text become arrays and
// numeric ECS fields numbers. A name that is both a value and a prefix of
// others ("a" and "a.b") keeps the longer names dotted.
func Document(ev event.Event) map[string]any {
	doc := map[string]any{}
	for _, f := range ev.Fields {
		put(doc, f.Name, value(f.Name, f.Value))
	}
	return doc
}

func value(name, v string) any {
	if len(v) > 1 && v[0] == '[' && v[len(v)-1] == ']' {
		var arr []any
		if json.Unmarshal([]byte(v), &arr) == nil {
			return arr
		}
	}
	if numericECS[name] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return v
}

func put(doc map[string]any, name string, v any) {
	m := doc
	segs := strings.Split(name, ".")
	for i, seg := range segs[:len(segs)-1] {
		next, ok := m[seg]
		if !ok {
			child := map[string]any{}
			m[seg] = child
			m = child
			continue
		}
		child, isMap := next.(map[string]any)
		if !isMap {
			// seg holds a value: keep the rest of the name dotted.
			m[strings.Join(segs[i:], ".")] = v
			return
		}
		m = child
	}
	last := segs[len(segs)-1]
	if _, isMap := m[last].(map[string]any); isMap {
		m[last+"."] = v // should not happen with ECS names; keep both
		return
	}
	m[last] = v
}
