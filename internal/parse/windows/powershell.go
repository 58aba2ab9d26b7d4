package windows

import (
	"strings"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// psFields are the values of a PowerShell event after Elastic's pipelines
// have split its context text: EventData plus the "Key = value" (4103
// ContextInfo) or "Key=value" (classic 400/403/600/800) lines, with spaces
// removed from the keys.
type psFields struct {
	kv []kv
}

func (f *psFields) get(name string) string {
	for i := len(f.kv) - 1; i >= 0; i-- {
		if f.kv[i].name == name {
			return f.kv[i].value
		}
	}
	return ""
}

// splitContext adds the "key = value" lines of s, separated by sep.
func (f *psFields) splitContext(s, sep string) {
	for s != "" {
		var line string
		line, s, _ = strings.Cut(s, sep)
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, k)
		f.kv = append(f.kv, kv{k, strings.Trim(v, " \n\t\r")})
	}
}

// powershell writes what Elastic's powershell_operational pipeline derives
// (Microsoft-Windows-PowerShell/Operational, PowerShellCore/Operational).
func (p *Parser) powershell() {
	r := &p.r
	code := r.hdr[hEventID]
	var f psFields
	for _, d := range r.data {
		f.kv = append(f.kv, kv{strings.ReplaceAll(d.name, " ", ""), d.value})
	}
	if code == "4103" {
		f.splitContext(r.get("ContextInfo"), "\n")
	}
	typ := `["info"]`
	switch code {
	case "4105":
		typ = `["start"]`
	case "4106":
		typ = `["end"]`
	}
	p.psCommon(&f, code, typ, "HostID", "RunspaceID", "PipelineID")
	o := &p.out
	o.add("powershell.sequence", longText(f.get("MessageNumber")))
	o.add("powershell.total", longText(f.get("MessageTotal")))
	o.add("powershell.id", f.get("ShellID"))
	o.add("powershell.file.script_block_id", f.get("ScriptBlockId"))
	o.add("powershell.file.script_block_text", f.get("ScriptBlockText"))
	if code == "4103" {
		p.invocationDetails(f.get("Payload"), false)
	}
	path := f.get("Path")
	if path == "" {
		path = f.get("ScriptName")
	}
	p.setFile("file.", path)
	o.add("file.path", path)
	// Users: User, and ConnectedUser for remote sessions.
	o.add("user.id", r.hdr[hUserID])
	uDomain, uName, _ := splitUser(f.get("User"))
	p.related.user = appendUnique(p.related.user, uName)
	if cDomain, cName, ok := splitUser(f.get("ConnectedUser")); ok {
		o.add("source.user.domain", cDomain)
		o.add("source.user.name", cName)
		p.related.user = appendUnique(p.related.user, cName)
		o.add("destination.user.domain", uDomain)
		o.add("destination.user.name", uName)
		uDomain, uName = cDomain, cName
	}
	o.add("user.domain", uDomain)
	o.add("user.name", uName)
}

// powershellClassic writes what Elastic's powershell pipeline derives
// (the Windows PowerShell log: 400, 403, 600, 800), whose details are
// "\tKey=value" lines in the third (800: second) unnamed Data value.
func (p *Parser) powershellClassic() {
	r := &p.r
	code := r.hdr[hEventID]
	var f psFields
	for _, d := range r.data {
		f.kv = append(f.kv, kv{d.name, d.value})
	}
	for i, v := range r.list {
		f.kv = append(f.kv, kv{paramName(i), v})
	}
	switch code {
	case "800":
		f.splitContext(f.get("param2"), "\n\t")
	default:
		f.splitContext(f.get("param3"), "\n\t")
	}
	typ := `["info"]`
	switch code {
	case "400":
		typ = `["start"]`
	case "403":
		typ = `["end"]`
	}
	p.psCommon(&f, code, typ, "HostId", "RunspaceId", "PipelineId")
	o := &p.out
	o.add("powershell.engine.new_state", f.get("NewEngineState"))
	o.add("powershell.engine.previous_state", f.get("PreviousEngineState"))
	o.add("powershell.provider.new_state", f.get("NewProviderState"))
	o.add("powershell.provider.name", f.get("ProviderName"))
	o.add("powershell.total", longText(f.get("DetailTotal")))
	o.add("powershell.sequence", longText(f.get("DetailSequence")))
	if code == "800" {
		p.invocationDetails(f.get("param3"), true)
	}
	script := f.get("ScriptName")
	if len(script) > 1 {
		p.setFile("file.", script)
	}
	o.add("file.path", script)
	if domain, name, ok := splitUser(f.get("UserId")); ok {
		o.add("user.domain", domain)
		o.add("user.name", name)
		p.related.user = appendUnique(p.related.user, name)
	}
}

// psCommon writes what both PowerShell pipelines share.
func (p *Parser) psCommon(f *psFields, code, typ, hostID, runspace, pipeline string) {
	o := &p.out
	o.add("event.category", `["process"]`)
	o.add("event.type", typ)
	o.add("event.sequence", longText(f.get("SequenceNumber")))
	o.add("process.entity_id", f.get(hostID))
	cmd := f.get("HostApplication")
	o.add("process.command_line", cmd)
	p.args("process.", cmd)
	o.add("process.title", f.get("HostName"))
	o.add("powershell.engine.version", f.get("EngineVersion"))
	o.add("powershell.pipeline_id", f.get(pipeline))
	rs := f.get(runspace)
	if rs == "" {
		rs = f.get("RunspaceId")
	}
	o.add("powershell.runspace_id", rs)
	o.add("powershell.process.executable_version", f.get("HostVersion"))
	o.add("powershell.command.value", f.get("CommandLine"))
	o.add("powershell.command.path", f.get("CommandPath"))
	o.add("powershell.command.name", f.get("CommandName"))
	o.add("powershell.command.type", f.get("CommandType"))
}

// invocationDetails writes powershell.command.invocation_details from the
// "Type(Command): value" lines of a 4103 Payload or an 800 detail text.
// classic selects the 800 pipeline's stricter line pattern.
func (p *Parser) invocationDetails(payload string, classic bool) {
	if payload == "" {
		return
	}
	b := append(p.tmp[:0], '[')
	n := 0
	for payload != "" {
		var line string
		line, payload, _ = strings.Cut(payload, "\n")
		line = strings.TrimRight(line, "\r")
		if n > 0 {
			b = append(b, ',')
		}
		n++
		typ, cmd, value, ok := detailLine(line, classic)
		if !ok {
			b = append(b, `{"value":`...)
			b = ecs.AppendJSONString(b, line)
			b = append(b, '}')
			continue
		}
		b = append(b, '{')
		if typ == "ParameterBinding" {
			if name, v, ok := parameterBinding(value); ok {
				b = append(b, `"name":`...)
				b = ecs.AppendJSONString(b, name)
				b = append(b, ',')
				value = v
			}
		}
		b = append(b, `"related_command":`...)
		b = ecs.AppendJSONString(b, cmd)
		b = append(b, `,"type":`...)
		b = ecs.AppendJSONString(b, typ)
		if value != "" {
			b = append(b, `,"value":`...)
			b = ecs.AppendJSONString(b, value)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if n > 0 {
		p.out.add("powershell.command.invocation_details", string(b))
	}
	p.tmp = b[:0]
}

// detailLine matches "Type(Command): value" as the pipelines' patterns do:
// ^(.+)\((.+)\)\:\s*(.+)?$ for 4103 (the last "(" that a later "):"
// closes), ^([^:(]+)\(([^)]+)\)\:\s*(.+)?$ for 800.
func detailLine(s string, classic bool) (typ, cmd, value string, ok bool) {
	if classic {
		i := strings.IndexAny(s, ":(")
		if i <= 0 || s[i] != '(' {
			return "", "", "", false
		}
		j := strings.IndexByte(s[i+1:], ')')
		if j <= 0 || i+1+j+1 >= len(s) || s[i+1+j+1] != ':' {
			return "", "", "", false
		}
		return s[:i], s[i+1 : i+1+j], strings.TrimLeft(s[i+1+j+2:], " \t"), true
	}
	for i := strings.LastIndexByte(s, '('); i > 0; i = strings.LastIndexByte(s[:i], '(') {
		j := strings.LastIndex(s, "):")
		if j > i+1 {
			return s[:i], s[i+1 : j], strings.TrimLeft(s[j+2:], " \t"), true
		}
	}
	return "", "", "", false
}

// parameterBinding matches "name=...; value=..." (greedy, as the
// pipelines' pattern).
func parameterBinding(s string) (name, value string, ok bool) {
	if !strings.HasPrefix(s, "name=") {
		return "", "", false
	}
	i := strings.LastIndex(s, "value=")
	if i < 0 || i+len("value=") >= len(s) {
		return "", "", false
	}
	k := strings.TrimRight(s[:i], " \t")
	if !strings.HasSuffix(k, ";") || len(k)-1 <= len("name=") {
		return "", "", false
	}
	return k[len("name=") : len(k)-1], s[i+len("value="):], true
}
