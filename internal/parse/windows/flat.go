package windows

import (
	"bytes"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/parse/envelope"
)

// flatKeys maps the header keys of flat records (NXLog im_msvistalog, the
// OTRF/Mordor datasets, Sentinel's WindowsEvent exports) to header slots.
var flatKeys = map[string]int{
	"EventID":            hEventID,
	"EventId":            hEventID,
	"Qualifiers":         hQualifiers,
	"Version":            hVersion,
	"Level":              hLevel,
	"Task":               hTask,
	"OpcodeValue":        hOpcode,
	"Keywords":           hKeywords,
	"TimeCreated":        hTime,
	"RecordNumber":       hRecordID,
	"EventRecordID":      hRecordID,
	"EventRecordId":      hRecordID,
	"ActivityID":         hActivityID,
	"RelatedActivityID":  hRelatedActivityID,
	"ExecutionProcessID": hPID,
	"ThreadID":           hTID,
	"ExecutionThreadID":  hTID,
	"Channel":            hChannel,
	"Hostname":           hComputer,
	"Computer":           hComputer,
	"ComputerName":       hComputer,
	"UserID":             hUserID,
	"SourceName":         hProvider,
	"Provider_Name":      hProvider,
	"ProviderGuid":       hProviderGUID,
	"Provider_Guid":      hProviderGUID,
}

// storedElsewhere reports whether a flat record's key k only repeats a
// value the event holds under another name: a header key named otherwise
// than its native name (SourceName is Provider_Name, Hostname is
// Computer), and the rendered Message, which is the event's message. Such
// keys are written only with aliases.
func (p *Parser) storedElsewhere(k string) bool {
	if slot, ok := flatKeys[k]; ok {
		return hdrNames[slot] != k && slot != hLevel && slot != hTime
	}
	return k == "Message"
}

// flatRendered maps flat keys holding rendered text.
var flatRendered = map[string]int{
	"Message":  rMessage,
	"Category": rTask,
}

// timeRank is a flat key's place among the keys a record's own time is
// read from when it has no TimeCreated, the first first: those the
// generic JSON path reads (envelope.TimeFields: @timestamp, timestamp,
// time, ..., NXLog's EventTime), then Sentinel's TimeGenerated; -1 for
// any other key.
func timeRank(k string) int {
	if k == "" {
		return -1
	}
	switch k[0] {
	case '@', 't', 'T', 'E':
		for i, name := range envelope.TimeFields {
			if k == name {
				return i
			}
		}
		if k == "TimeGenerated" {
			return len(envelope.TimeFields)
		}
	}
	return -1
}

// shipperTime reports whether a time key is the shipper's, not event
// data: Logstash's and Elastic's @timestamp, NXLog's EventTime,
// Sentinel's TimeGenerated. (A "timestamp" or "time" key stays event
// data too, as it always was.)
func shipperTime(k string) bool {
	return k == "@timestamp" || k == "EventTime" || k == "TimeGenerated"
}

// nxlogUser maps the keys NXLog adds for the account of the event's
// Security UserID. They are event data in records from other shippers
// (4778's AccountName is).
var nxlogUser = map[string]int{
	"AccountName": rUserName,
	"Domain":      rUserDomain,
	"AccountType": rUserType,
}

// flatMeta are keys a shipper adds that are not event data.
var flatMeta = map[string]bool{
	"EventTime": true, "EventReceivedTime": true, "SourceModuleName": true, "SourceModuleType": true,
	"@version": true, "host": true, "port": true, "tags": true, "Severity": true, "SeverityValue": true,
	"EventTypeOrignal": true, "Opcode": true, "type": true,
}

// sentinelMeta are the columns Microsoft Sentinel's SecurityEvent and
// WindowsEvent tables add; they are metadata in records that have
// TenantId or _ResourceId ("Type" is also a Sysmon 25 data name).
var sentinelMeta = map[string]bool{
	"TenantId": true, "SourceSystem": true, "TimeGenerated": true, "MG": true, "ManagementGroupName": true,
	"Type": true, "_ResourceId": true, "SourceComputerId": true, "EventOriginId": true, "TimeCollected": true,
	"Activity": true, "EventData": true, "EventData_string": true, "EventData_dynamic": true, "ParameterXml": true,
	"EventLevelName": true, "EventCategory": true, "Source": true, "EventLog": true, "EventLevel": true,
	"RenderedDescription": true, "UserName": true,
}

// nxlogEventTypes are the values NXLog writes to EventType; a Sysmon
// registry event's own EventType (CreateKey, SetValue ...) is event data.
var nxlogEventTypes = map[string]bool{
	"INFO": true, "WARNING": true, "ERROR": true, "CRITICAL": true, "VERBOSE": true, "DEBUG": true,
	"AUDIT_SUCCESS": true, "AUDIT_FAILURE": true,
}

// sentinelKey reads the columns of Microsoft Sentinel's SecurityEvent and
// Event tables: the provider and channel of the Event table, its level
// and rendered text, and the event data kept as XML (EventData) or a JSON
// list (EventData_dynamic).
func (p *Parser) sentinelKey(k string, v *fastjson.Value) {
	switch k {
	case "Source":
		if p.raw.hdrSet&(1<<hProvider) == 0 {
			p.raw.setHdr(hProvider, p.putText(v))
		}
	case "EventLog":
		if p.raw.hdrSet&(1<<hChannel) == 0 {
			p.raw.setHdr(hChannel, p.putText(v))
		}
	case "EventLevel":
		if t := p.putText(v); t.end-t.off == 1 && p.buf[t.off] >= '0' && p.buf[t.off] <= '5' {
			p.raw.setHdr(hLevel, t)
		}
	case "RenderedDescription":
		p.raw.setRend(rMessage, p.putText(v))
	case "UserName":
		p.raw.setRend(rUserName, p.putText(v))
	case "EventData", "EventData_string":
		if b := v.GetStringBytes(); bytes.Contains(b, []byte("<EventData")) {
			_ = p.x.decodeFragment(p, b) // best effort: the columns hold the values too
		}
	case "EventData_dynamic":
		if b := v.GetStringBytes(); len(b) > 0 && b[0] == '[' {
			var fp fastjson.Parser
			if a, err := fp.ParseBytes(b); err == nil && a.Type() == fastjson.TypeArray {
				items, _ := a.Array()
				for _, it := range items {
					p.raw.list = append(p.raw.list, p.putText(it))
				}
			}
		}
	}
}

// nxlogSeverity maps NXLog's SeverityValue back to the Windows level.
var nxlogSeverity = map[string]string{"1": "5", "2": "4", "3": "3", "4": "2", "5": "1"}

// decodeFlat reads a flat record: header and event data side by side at
// the top level under the names Sigma rules use. Every key is kept as it
// stands (these are the native fields); header keys named otherwise
// (SourceName, Hostname, RecordNumber ...) also fill the native names.
func (p *Parser) decodeFlat(o *fastjson.Object) error {
	var severity span
	haveSeverity := false
	nxlog := o.Get("SourceModuleType") != nil || o.Get("SourceModuleName") != nil
	sentinel := o.Get("TenantId") != nil || o.Get("_ResourceId") != nil
	var eventSource, eventTime span
	haveSource := false
	timeAt := -1 // timeRank of eventTime; -1: none
	o.Visit(func(key []byte, v *fastjson.Value) {
		k := string(key)
		if p.aliases || !p.storedElsewhere(k) {
			p.flattenValue("", key, v)
		}
		if v.Type() == fastjson.TypeNull || v.Type() == fastjson.TypeObject {
			return
		}
		if slot, ok := flatKeys[k]; ok {
			if slot == hLevel && v.Type() == fastjson.TypeString && !isDigits(v.GetStringBytes()) {
				p.raw.setRend(rLevel, p.putText(v))
				return
			}
			p.raw.setHdr(slot, p.putText(v))
			if hdrNames[slot] == k {
				p.raw.verbatim |= 1 << slot
			}
			return
		}
		// (TimeCreated, a header key, was read above.)
		if r := timeRank(k); r >= 0 && (timeAt < 0 || r < timeAt) {
			if t := v.Type(); t == fastjson.TypeString || t == fastjson.TypeNumber {
				eventTime, timeAt = p.putText(v), r
			}
		}
		if shipperTime(k) {
			return
		}
		if slot, ok := flatRendered[k]; ok {
			p.raw.setRend(slot, p.putText(v))
			return
		}
		if slot, ok := nxlogUser[k]; ok && nxlog {
			p.raw.setRend(slot, p.putText(v))
			return
		}
		switch k {
		case "Opcode":
			if v.Type() == fastjson.TypeNumber || isDigits(v.GetStringBytes()) {
				p.raw.setHdr(hOpcode, p.putText(v))
				p.raw.verbatim |= 1 << hOpcode
			} else {
				p.raw.setRend(rOpcode, p.putText(v))
			}
			return
		case "SeverityValue":
			severity, haveSeverity = p.putText(v), true
			return
		case "EventType":
			if v.Type() == fastjson.TypeString && nxlogEventTypes[string(v.GetStringBytes())] {
				return
			}
		case "EventSourceName":
			// The provider in Sentinel; beside SourceName (NXLog), the
			// provider's legacy event source name.
			eventSource, haveSource = p.putText(v), true
			return
		}
		if sentinel {
			p.sentinelKey(k, v)
		}
		if flatMeta[k] || sentinel && sentinelMeta[k] || k == "" {
			return
		}
		p.raw.data = append(p.raw.data, pair{p.put(key), p.putText(v)})
	})
	if timeAt >= 0 {
		// Used when the record has no TimeCreated. NXLog's EventTime is
		// in the collector's zone, taken as UTC.
		p.raw.setRend(rFallbackTime, eventTime)
	}
	if haveSource {
		if p.raw.hdrSet&(1<<hProvider) == 0 {
			p.raw.setHdr(hProvider, eventSource)
		} else {
			p.raw.setHdr(hEventSource, eventSource)
		}
	}
	if p.raw.hdrSet&(1<<hLevel) == 0 && haveSeverity {
		if l, ok := nxlogSeverity[string(p.buf[severity.off:severity.end])]; ok {
			p.raw.setHdr(hLevel, p.putString(l))
		}
	}
	return nil
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
