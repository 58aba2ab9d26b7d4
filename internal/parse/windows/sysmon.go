package windows

import (
	"strconv"
	"strings"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// categorization is event.category, event.type and event.action, as
// compact JSON arrays (action as text, or an array when Elastic sets
// several).
type categorization struct {
	category, typ, action string
}

// sysmonEvents follows the categorization of Elastic's sysmon_operational
// pipeline (packages/windows/data_stream/sysmon_operational). Event 7
// follows its current form, where an image load is also a library event.
var sysmonEvents = map[string]categorization{
	"1":   {`["process"]`, `["start"]`, "Process creation"},
	"2":   {`["file"]`, `["change"]`, "A process changed a file creation time"},
	"3":   {`["network"]`, `["start","connection","protocol"]`, "Network connection"},
	"4":   {`["process"]`, `["change"]`, "Sysmon service state changed"},
	"5":   {`["process"]`, `["end"]`, "Process terminated"},
	"6":   {`["driver"]`, `["start"]`, "Driver loaded"},
	"7":   {`["process","library"]`, `["change","start"]`, `["Image loaded","load"]`},
	"8":   {`["process"]`, `["change"]`, "CreateRemoteThread"},
	"9":   {`["process"]`, `["access"]`, "RawAccessRead"},
	"10":  {`["process"]`, `["access"]`, "ProcessAccess"},
	"11":  {`["file"]`, `["creation"]`, "FileCreate"},
	"12":  {`["configuration","registry"]`, `["change"]`, "RegistryEvent (Object create and delete)"},
	"13":  {`["configuration","registry"]`, `["change"]`, "RegistryEvent (Value Set)"},
	"14":  {`["configuration","registry"]`, `["change"]`, "RegistryEvent (Key and Value Rename)"},
	"15":  {`["file"]`, `["access"]`, "FileCreateStreamHash"},
	"16":  {`["configuration"]`, `["change"]`, "ServiceConfigurationChange"},
	"17":  {`["file"]`, `["creation"]`, "PipeEvent (Pipe Created)"},
	"18":  {`["file"]`, `["access"]`, "PipeEvent (Pipe Connected)"},
	"19":  {`["process"]`, `["creation"]`, "WmiEvent (WmiEventFilter activity detected)"},
	"20":  {`["process"]`, `["creation"]`, "WmiEvent (WmiEventConsumer activity detected)"},
	"21":  {`["process"]`, `["access"]`, "WmiEvent (WmiEventConsumerToFilter activity detected)"},
	"22":  {`["network"]`, `["connection","protocol","info"]`, "DNSEvent (DNS query)"},
	"23":  {`["file"]`, `["deletion"]`, "FileDelete (File Delete archived)"},
	"24":  {"", `["change"]`, "ClipboardChange (New content in the clipboard)"},
	"25":  {`["process"]`, `["change"]`, "ProcessTampering (Process image change)"},
	"26":  {`["file"]`, `["deletion"]`, "FileDeleteDetected (File Delete logged)"},
	"27":  {`["file"]`, `["creation","denied"]`, "FileBlockExecutable"},
	"28":  {`["file"]`, `["deletion","denied"]`, "FileBlockShredding"},
	"29":  {`["file"]`, `["creation"]`, "FileExecutableDetected"},
	"255": {`["process"]`, `["error"]`, "Error"},
}

// EventData names the sysmon pipeline reads, as slots.
const (
	sdID = iota
	sdRuleName
	sdType
	sdHashes
	sdHash
	sdProcessGuid
	sdProcessId
	sdImage
	sdSourceProcessGuid
	sdSourceProcessGUID
	sdSourceProcessId
	sdSourceThreadId
	sdCommandLine
	sdCurrentDirectory
	sdParentProcessGuid
	sdParentProcessId
	sdParentImage
	sdParentCommandLine
	sdOriginalFileName
	sdCompany
	sdDescription
	sdFileVersion
	sdProduct
	sdPipeName
	sdImageLoaded
	sdSignature
	sdSignatureStatus
	sdSigned
	sdDestinationPortName
	sdSourcePortName
	sdProtocol
	sdSourceIp
	sdDestinationIp
	sdSourcePort
	sdDestinationPort
	sdSourceHostname
	sdDestinationHostname
	sdInitiated
	sdSourceIsIpv6
	sdQueryName
	sdQueryResults
	sdUser
	sdQueryStatus
	sdArchived
	sdIsExecutable
	sdTargetObject
	sdDetails
	sdSourceImage
	sdDestination
	sdTargetFilename
	sdDevice
	nSysmonData
)

func sysmonSlot(name string) int {
	switch name {
	case "ID":
		return sdID
	case "RuleName":
		return sdRuleName
	case "Type":
		return sdType
	case "Hashes":
		return sdHashes
	case "Hash":
		return sdHash
	case "ProcessGuid":
		return sdProcessGuid
	case "ProcessId":
		return sdProcessId
	case "Image":
		return sdImage
	case "SourceProcessGuid":
		return sdSourceProcessGuid
	case "SourceProcessGUID":
		return sdSourceProcessGUID
	case "SourceProcessId":
		return sdSourceProcessId
	case "SourceThreadId":
		return sdSourceThreadId
	case "CommandLine":
		return sdCommandLine
	case "CurrentDirectory":
		return sdCurrentDirectory
	case "ParentProcessGuid":
		return sdParentProcessGuid
	case "ParentProcessId":
		return sdParentProcessId
	case "ParentImage":
		return sdParentImage
	case "ParentCommandLine":
		return sdParentCommandLine
	case "OriginalFileName":
		return sdOriginalFileName
	case "Company":
		return sdCompany
	case "Description":
		return sdDescription
	case "FileVersion":
		return sdFileVersion
	case "Product":
		return sdProduct
	case "PipeName":
		return sdPipeName
	case "ImageLoaded":
		return sdImageLoaded
	case "Signature":
		return sdSignature
	case "SignatureStatus":
		return sdSignatureStatus
	case "Signed":
		return sdSigned
	case "DestinationPortName":
		return sdDestinationPortName
	case "SourcePortName":
		return sdSourcePortName
	case "Protocol":
		return sdProtocol
	case "SourceIp":
		return sdSourceIp
	case "DestinationIp":
		return sdDestinationIp
	case "SourcePort":
		return sdSourcePort
	case "DestinationPort":
		return sdDestinationPort
	case "SourceHostname":
		return sdSourceHostname
	case "DestinationHostname":
		return sdDestinationHostname
	case "Initiated":
		return sdInitiated
	case "SourceIsIpv6":
		return sdSourceIsIpv6
	case "QueryName":
		return sdQueryName
	case "QueryResults":
		return sdQueryResults
	case "User":
		return sdUser
	case "QueryStatus":
		return sdQueryStatus
	case "Archived":
		return sdArchived
	case "IsExecutable":
		return sdIsExecutable
	case "TargetObject":
		return sdTargetObject
	case "Details":
		return sdDetails
	case "SourceImage":
		return sdSourceImage
	case "Destination":
		return sdDestination
	case "TargetFilename":
		return sdTargetFilename
	case "Device":
		return sdDevice
	}
	return -1
}

// sysmon writes what Elastic's sysmon_operational pipeline derives.
func (p *Parser) sysmon() {
	r, o := &p.r, &p.out
	var values [nSysmonData]string
	var set uint64
	for _, list := range [2][]kv{r.data, r.user} {
		for _, d := range list {
			if i := sysmonSlot(d.name); i >= 0 && set&(1<<i) == 0 {
				values[i], set = d.value, set|1<<i
			}
		}
	}
	raw := func(i int) string { return values[i] }
	// get is a value as Elastic's pipeline sees it: "-" and the null GUID
	// (removed from event_data first) count as absent.
	get := func(i int) string {
		switch v := values[i]; v {
		case "-", "{00000000-0000-0000-0000-000000000000}":
			return ""
		default:
			return v
		}
	}
	code := r.hdr[hEventID]
	if c, ok := sysmonEvents[code]; ok {
		o.add("event.category", c.category)
		o.add("event.type", c.typ)
		o.add("event.action", c.action)
	}
	if code == "255" {
		o.add("error.code", get(sdID))
	}
	o.add("rule.name", get(sdRuleName))
	if code == "25" {
		o.add("message", get(sdType))
	}

	// Hashes: "SHA1=...,MD5=...,SHA256=...,IMPHASH=..."
	hashes := get(sdHashes)
	if h := get(sdHash); h != "" {
		hashes = h
	}
	hashTarget := -1
	switch code {
	case "1", "23", "24", "25":
		hashTarget = 0
	case "6", "7", "15", "26", "29":
		hashTarget = 1
	}
	p.hashes(hashes, hashTarget, code == "7")

	// Process.
	entity := get(sdProcessGuid)
	pid := longText(get(sdProcessId))
	exe := get(sdImage)
	if v := get(sdSourceProcessGuid); v != "" {
		entity = v
	}
	if v := get(sdSourceProcessGUID); v != "" {
		entity = v
	}
	if v := longText(get(sdSourceProcessId)); v != "" {
		pid = v
	}
	for _, k := range []int{sdSourceImage, sdDestination} {
		if v := get(k); v != "" {
			exe = v
		}
	}
	o.add("process.entity_id", entity)
	o.add("process.pid", pid)
	o.add("process.thread.id", longText(get(sdSourceThreadId)))
	o.add("process.executable", exe)
	o.add("process.name", baseName(exe))
	cmd := get(sdCommandLine)
	o.add("process.command_line", cmd)
	p.args("process.", cmd)
	o.add("process.working_directory", get(sdCurrentDirectory))
	o.add("process.parent.entity_id", get(sdParentProcessGuid))
	o.add("process.parent.pid", longText(get(sdParentProcessId)))
	parentExe := get(sdParentImage)
	o.add("process.parent.executable", parentExe)
	o.add("process.parent.name", baseName(parentExe))
	parentCmd := get(sdParentCommandLine)
	o.add("process.parent.command_line", parentCmd)
	p.args("process.parent.", parentCmd)
	pe := "process.pe."
	if code == "7" {
		pe = "file.pe."
	}
	o.add(pe+"original_file_name", get(sdOriginalFileName))
	o.add(pe+"company", get(sdCompany))
	o.add(pe+"description", get(sdDescription))
	o.add(pe+"file_version", get(sdFileVersion))
	o.add(pe+"product", get(sdProduct))

	// File.
	var path, name string
	for _, k := range []int{sdTargetFilename, sdDevice} {
		if v := get(k); v != "" {
			path = v
		}
	}
	name = get(sdPipeName)
	if v := get(sdImageLoaded); v != "" {
		path = v
	}
	if i := strings.LastIndexByte(path, '\\'); len(path) > 1 && i >= 0 {
		name = path[i+1:]
		o.add("file.directory", path[:i])
		if j := strings.LastIndexByte(path, '.'); j >= 0 {
			o.add("file.extension", path[j+1:])
		}
	}
	o.add("file.path", path)
	o.add("file.name", name)
	signature, status, signed := get(sdSignature), get(sdSignatureStatus), get(sdSigned)
	o.add("file.code_signature.subject_name", signature)
	o.add("file.code_signature.status", status)
	switch signed {
	case "true":
		o.add("file.code_signature.signed", "true")
	case "false":
		o.add("file.code_signature.signed", "false")
	}
	if status == "Valid" {
		o.add("file.code_signature.valid", "true")
	}
	if signed != "" {
		o.add("file.code_signature.trusted", strconv.FormatBool(status == "Valid"))
	}
	if code == "7" {
		// The loaded image as a library (dll.*), as the current pipeline has it.
		o.add("dll.path", path)
		o.add("dll.name", name)
		o.add("dll.pe.original_file_name", get(sdOriginalFileName))
		o.add("dll.code_signature.subject_name", signature)
		switch {
		case signed == "true" || signed == "false":
			o.add("dll.code_signature.signed", signed)
			o.add("dll.code_signature.status", status)
		case status != "":
			o.add("dll.code_signature.status", status)
		default:
			o.add("dll.code_signature.status", signed)
		}
	}

	// Network.
	if code != "22" {
		proto := get(sdDestinationPortName)
		if v := get(sdSourcePortName); v != "" {
			proto = v
		}
		o.add("network.protocol", proto)
	} else {
		o.add("network.protocol", "dns")
	}
	transport := get(sdProtocol)
	o.add("network.transport", transport)
	srcIP, dstIP := validIP(get(sdSourceIp)), validIP(get(sdDestinationIp))
	srcPort, dstPort := longText(get(sdSourcePort)), longText(get(sdDestinationPort))
	o.add("source.ip", srcIP)
	o.add("source.domain", get(sdSourceHostname))
	o.add("source.port", srcPort)
	o.add("destination.ip", dstIP)
	o.add("destination.domain", get(sdDestinationHostname))
	o.add("destination.port", dstPort)
	switch raw(sdInitiated) {
	case "true":
		o.add("network.direction", "egress")
	case "false":
		o.add("network.direction", "ingress")
	}
	switch raw(sdSourceIsIpv6) {
	case "false":
		o.add("network.type", "ipv4")
	case "true":
		o.add("network.type", "ipv6")
	}
	o.add("network.community_id", communityID(srcIP, dstIP, srcPort, dstPort, transport))
	if q := get(sdQueryName); q != "" {
		o.add("dns.question.name", q)
		if reg, sub, tld, ok := registeredDomain(q); ok {
			o.add("dns.question.registered_domain", reg)
			o.add("dns.question.subdomain", sub)
			o.add("dns.question.top_level_domain", tld)
		}
	}
	p.dnsResults(get(sdQueryResults), get(sdQueryName))

	// User.
	o.add("user.id", r.hdr[hUserID])
	if domain, user, ok := splitUser(raw(sdUser)); ok {
		o.add("user.domain", domain)
		o.add("user.name", user)
		p.related.user = appendUnique(p.related.user, user)
	}

	// Sysmon's own fields.
	if s := get(sdQueryStatus); s != "" {
		if t, ok := dnsStatus[s]; ok {
			s = t
		}
		o.add("sysmon.dns.status", s)
	}
	o.add("sysmon.file.archived", boolText(get(sdArchived)))
	o.add("sysmon.file.is_executable", boolText(get(sdIsExecutable)))
	p.related.ip = appendUnique(p.related.ip, srcIP)
	p.related.ip = appendUnique(p.related.ip, dstIP)

	if obj := get(sdTargetObject); obj != "" && (code == "12" || code == "13" || code == "14") {
		p.registry(obj, get(sdDetails))
	}
}

// hashFields are the fields of the hash algorithms Sysmon reports, per
// target: process.*, file.*, dll.*.
var hashFields = []struct {
	alg   string
	names [3]string
}{
	{"md5", [3]string{"process.hash.md5", "file.hash.md5", "dll.hash.md5"}},
	{"sha1", [3]string{"process.hash.sha1", "file.hash.sha1", "dll.hash.sha1"}},
	{"sha256", [3]string{"process.hash.sha256", "file.hash.sha256", "dll.hash.sha256"}},
	{"sha384", [3]string{"process.hash.sha384", "file.hash.sha384", "dll.hash.sha384"}},
	{"sha512", [3]string{"process.hash.sha512", "file.hash.sha512", "dll.hash.sha512"}},
	{"imphash", [3]string{"process.pe.imphash", "file.pe.imphash", "dll.pe.imphash"}},
}

func hashNames(alg string) ([3]string, bool) {
	for _, h := range hashFields {
		if strings.EqualFold(h.alg, alg) {
			return h.names, true
		}
	}
	return [3]string{}, false
}

// hashes writes the hashes of a Sysmon Hashes value under target (0:
// process, 1: file, -1: none; imphash under <target>.pe.imphash), and
// dll.* too for image loads, and adds them to related.hash.
func (p *Parser) hashes(s string, target int, dll bool) {
	if s == "" {
		return
	}
	// Lower-case every value into one buffer: one allocation for all.
	b := p.tmp[:0]
	type hv struct {
		alg        string
		start, end int
	}
	var found [8]hv
	n := 0
	for s != "" && n < len(found) {
		var item string
		item, s, _ = strings.Cut(s, ",")
		k, v, ok := strings.Cut(item, "=")
		if !ok || strings.Trim(v, "0") == "" {
			continue
		}
		start := len(b)
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		found[n] = hv{k, start, len(b)}
		n++
	}
	all := string(b)
	p.tmp = b[:0]
	for _, h := range found[:n] {
		v := all[h.start:h.end]
		p.related.hash = appendUnique(p.related.hash, v)
		names, ok := hashNames(h.alg)
		if !ok || target < 0 {
			continue
		}
		p.out.add(names[target], v)
		if dll {
			p.out.add(names[2], v)
		}
	}
}

// args writes <prefix>args and <prefix>args_count from a command line.
func (p *Parser) args(prefix, cmd string) {
	if cmd == "" {
		return
	}
	var n int
	p.tmp, n = appendArgsJSON(p.tmp[:0], cmd)
	if prefix == "process." {
		p.out.add("process.args", string(p.tmp))
		p.out.add("process.args_count", strconv.Itoa(n))
	} else {
		p.out.add(prefix+"args", string(p.tmp))
		p.out.add(prefix+"args_count", strconv.Itoa(n))
	}
}

// splitCommandLine splits a Windows command line into arguments as
// CommandLineToArgvW does (the "prior to 2008" rule for doubled quotes),
// as Elastic's pipelines do.
func splitCommandLine(args []string, cmd string) []string {
	var b []byte
	forEachArg(cmd, &b, func(arg []byte) { args = append(args, string(arg)) })
	return args
}

// appendArgsJSON appends the arguments of cmd as a JSON array and returns
// how many there are.
func appendArgsJSON(dst []byte, cmd string) ([]byte, int) {
	var scratch [256]byte
	b := scratch[:0]
	n := 0
	dst = append(dst, '[')
	forEachArg(cmd, &b, func(arg []byte) {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = ecs.AppendJSONString(dst, arg)
	})
	return append(dst, ']'), n
}

// forEachArg calls fn with each argument of a Windows command line, built
// in *b.
func forEachArg(cmd string, b *[]byte, fn func([]byte)) {
	for len(cmd) > 0 {
		if cmd[0] == ' ' || cmd[0] == '\t' {
			cmd = cmd[1:]
			continue
		}
		a := (*b)[:0]
		inQuote := false
		slashes := 0
		i := 0
	scan:
		for ; i < len(cmd); i++ {
			c := cmd[i]
			switch c {
			case ' ', '\t':
				if !inQuote {
					break scan
				}
			case '"':
				a = appendBackslashes(a, slashes/2)
				if slashes%2 == 0 {
					if inQuote && i+1 < len(cmd) && cmd[i+1] == '"' {
						a = append(a, c)
						i++
					}
					inQuote = !inQuote
				} else {
					a = append(a, c)
				}
				slashes = 0
				continue
			case '\\':
				slashes++
				continue
			}
			a = appendBackslashes(a, slashes)
			slashes = 0
			a = append(a, c)
		}
		a = appendBackslashes(a, slashes)
		fn(a)
		*b = a
		if i < len(cmd) {
			i++ // the separator
		}
		cmd = cmd[i:]
	}
}

func appendBackslashes(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, '\\')
	}
	return b
}

func boolText(s string) string {
	switch strings.ToLower(s) {
	case "true":
		return "true"
	case "false":
		return "false"
	}
	return ""
}

// dnsTypes are the DNS record types by number, as in Sysmon's QueryResults.
var dnsTypes = map[string]string{
	"1": "A", "2": "NS", "3": "MD", "4": "MF", "5": "CNAME", "6": "SOA", "7": "MB", "8": "MG", "9": "MR",
	"10": "NULL", "11": "WKS", "12": "PTR", "13": "HINFO", "14": "MINFO", "15": "MX", "16": "TXT", "17": "RP",
	"18": "AFSDB", "19": "X25", "20": "ISDN", "21": "RT", "22": "NSAP", "23": "NSAPPTR", "24": "SIG", "25": "KEY",
	"26": "PX", "27": "GPOS", "28": "AAAA", "29": "LOC", "30": "NXT", "31": "EID", "32": "NIMLOC", "33": "SRV",
	"34": "ATMA", "35": "NAPTR", "36": "KX", "37": "CERT", "38": "A6", "39": "DNAME", "40": "SINK", "41": "OPT",
	"43": "DS", "46": "RRSIG", "47": "NSEC", "48": "DNSKEY", "49": "DHCID", "100": "UINFO", "101": "UID",
	"102": "GID", "103": "UNSPEC", "248": "ADDRS", "249": "TKEY", "250": "TSIG", "251": "IXFR", "252": "AXFR",
	"253": "MAILB", "254": "MAILA", "255": "ANY", "65281": "WINS", "65282": "WINSR",
}

// dnsStatus names common DNS query status codes (Win32 and DNS errors).
var dnsStatus = map[string]string{
	"0": "SUCCESS", "5": "ERROR_ACCESS_DENIED", "8": "ERROR_NOT_ENOUGH_MEMORY", "13": "ERROR_INVALID_DATA",
	"14": "ERROR_OUTOFMEMORY", "123": "ERROR_INVALID_NAME", "1214": "ERROR_INVALID_NETNAME", "1223": "ERROR_CANCELLED",
	"1460": "ERROR_TIMEOUT", "4312": "ERROR_OBJECT_NOT_FOUND",
	"9001": "DNS_ERROR_RCODE_FORMAT_ERROR", "9002": "DNS_ERROR_RCODE_SERVER_FAILURE", "9003": "DNS_ERROR_RCODE_NAME_ERROR",
	"9004": "DNS_ERROR_RCODE_NOT_IMPLEMENTED", "9005": "DNS_ERROR_RCODE_REFUSED", "9006": "DNS_ERROR_RCODE_YXDOMAIN",
	"9007": "DNS_ERROR_RCODE_YXRRSET", "9008": "DNS_ERROR_RCODE_NXRRSET", "9009": "DNS_ERROR_RCODE_NOTAUTH",
	"9010": "DNS_ERROR_RCODE_NOTZONE", "9016": "DNS_ERROR_RCODE_BADSIG", "9017": "DNS_ERROR_RCODE_BADKEY",
	"9018": "DNS_ERROR_RCODE_BADTIME", "9501": "DNS_INFO_NO_RECORDS", "9502": "DNS_ERROR_BAD_PACKET",
	"9503": "DNS_ERROR_NO_PACKET", "9504": "DNS_ERROR_RCODE", "9505": "DNS_ERROR_UNSECURE_PACKET",
	"9506": "DNS_REQUEST_PENDING", "9551": "DNS_ERROR_INVALID_TYPE", "9552": "DNS_ERROR_INVALID_IP_ADDRESS",
	"9553": "DNS_ERROR_INVALID_PROPERTY", "9554": "DNS_ERROR_TRY_AGAIN_LATER", "9555": "DNS_ERROR_NOT_UNIQUE",
	"9556": "DNS_ERROR_NON_RFC_NAME", "9557": "DNS_STATUS_FQDN", "9558": "DNS_STATUS_DOTTED_NAME",
	"9559": "DNS_STATUS_SINGLE_PART_NAME", "9560": "DNS_ERROR_INVALID_NAME_CHAR", "9561": "DNS_ERROR_NUMERIC_NAME",
	"9701": "DNS_ERROR_RECORD_DOES_NOT_EXIST", "9702": "DNS_ERROR_RECORD_FORMAT", "9714": "DNS_ERROR_NAME_DOES_NOT_EXIST",
	"9851": "DNS_ERROR_NO_TCPIP", "9852": "DNS_ERROR_NO_DNS_SERVERS",
	"10054": "WSAECONNRESET", "10055": "WSAENOBUFS", "10060": "WSAETIMEDOUT",
}

// dnsResults writes dns.answers, dns.resolved_ip and related hosts and
// addresses from Sysmon's QueryResults ("type:  5 name;::ffff:1.2.3.4;").
func (p *Parser) dnsResults(results, question string) {
	if results == "" {
		if question != "" {
			p.related.hosts = appendUnique(p.related.hosts, question)
		}
		return
	}
	answers := append(p.tmp[:0], '[')
	n := 0
	addAnswer := func(typ, data string) {
		if n > 0 {
			answers = append(answers, ',')
		}
		n++
		answers = append(answers, '{')
		if data != "" {
			answers = append(answers, `"data":`...)
			answers = ecs.AppendJSONString(answers, data)
			if typ != "" {
				answers = append(answers, ',')
			}
		}
		if typ != "" {
			answers = append(answers, `"type":`...)
			answers = ecs.AppendJSONString(answers, typ)
		}
		answers = append(answers, '}')
	}
	var ips []string
	for results != "" {
		var a string
		a, results, _ = strings.Cut(results, ";")
		if a == "" {
			continue
		}
		if strings.HasPrefix(a, "type:") {
			parts := strings.Fields(a)
			switch len(parts) {
			case 3:
				addAnswer(dnsTypes[parts[1]], parts[2])
				p.related.hosts = appendUnique(p.related.hosts, parts[2])
			case 2:
				addAnswer(dnsTypes[parts[1]], "")
			}
			continue
		}
		if ip := validIP(strings.ReplaceAll(a, "::ffff:", "")); ip != "" {
			ips = append(ips, ip)
		}
	}
	for _, ip := range ips {
		typ := "A"
		if strings.IndexByte(ip, ':') >= 0 {
			typ = "AAAA"
		}
		addAnswer(typ, ip)
		p.related.ip = appendUnique(p.related.ip, ip)
	}
	answers = append(answers, ']')
	if n > 0 {
		p.out.add("dns.answers", string(answers))
	}
	p.tmp = answers[:0]
	if len(ips) > 0 {
		p.out.add("dns.resolved_ip", p.jsonList(ips))
	}
	p.related.hosts = appendUnique(p.related.hosts, question)
}

// registryHives maps the registry root keys to their short names.
var registryHives = map[string]string{
	"HKEY_CLASSES_ROOT": "HKCR", "HKCR": "HKCR", "HKEY_CURRENT_CONFIG": "HKCC", "HKCC": "HKCC",
	"HKEY_CURRENT_USER": "HKCU", "HKCU": "HKCU", "HKEY_DYN_DATA": "HKDD", "HKDD": "HKDD",
	"HKEY_LOCAL_MACHINE": "HKLM", "HKLM": "HKLM", "HKEY_PERFORMANCE_DATA": "HKPD", "HKPD": "HKPD",
	"HKEY_USERS": "HKU", "HKU": "HKU",
}

// registry writes registry.* for Sysmon's registry events.
func (p *Parser) registry(path, details string) {
	o := &p.out
	o.add("registry.path", path)
	tokens := strings.Split(path, `\`)
	for len(tokens) > 1 && tokens[len(tokens)-1] == "" {
		tokens = tokens[:len(tokens)-1] // Java's split drops trailing empty strings
	}
	if hive, ok := registryHives[tokens[0]]; ok {
		o.add("registry.hive", hive)
		if len(tokens) > 1 {
			o.add("registry.key", strings.Join(tokens[1:], `\`))
		}
	}
	o.add("registry.value", tokens[len(tokens)-1])
	if details == "" {
		return
	}
	typ, value := "REG_SZ", details
	switch {
	case len(details) == len("QWORD (0x00000000-0x00000000)") && strings.EqualFold(details[:7], "QWORD (") && details[len(details)-1] == ')':
		hi, ok1 := parseHex8(details[7:17])
		lo, ok2 := parseHex8(details[18:28])
		if !ok1 || !ok2 || details[17] != '-' {
			break
		}
		// Elastic's pipeline shifts the high part by 8 bits; kept as it does.
		typ, value = "SZ_QWORD", strconv.FormatInt(hi<<8+lo, 10)
	case len(details) == len("DWORD (0x00000000)") && strings.EqualFold(details[:7], "DWORD (") && details[len(details)-1] == ')':
		if n, ok := parseHex8(details[7:17]); ok {
			typ, value = "SZ_DWORD", strconv.FormatInt(n, 10)
		}
	case details == "Binary Data":
		typ = "REG_BINARY"
	}
	o.add("registry.data.strings", p.jsonList([]string{value}))
	o.add("registry.data.type", typ)
}

// parseHex8 reads "0x" and eight hex digits.
func parseHex8(s string) (int64, bool) {
	if len(s) != 10 || s[0] != '0' || s[1] != 'x' && s[1] != 'X' {
		return 0, false
	}
	n, err := strconv.ParseInt(s[2:], 16, 64)
	return n, err == nil
}
