package microsoft

import "strings"

// userAgent adds user_agent.original and what Elasticsearch's user_agent
// processor would find in it, for the browsers and systems that sign in to
// Microsoft 365: name, version, os.name/version/full and device.name. It is
// a small hand-written reading of the common forms, not the uap-core
// regex set: an agent it does not know gets name "Other" and device
// "Other", as the processor gives one it cannot read.
func userAgent(o *out, ua string) {
	o.addString("user_agent.original", ua)
	name, version := browser(ua)
	o.addString("user_agent.name", name)
	if version != "" {
		o.addString("user_agent.version", version)
	}
	if osName, osVersion := system(ua); osName != "" {
		o.addString("user_agent.os.name", osName)
		start := len(o.vbuf)
		o.vbuf = append(o.vbuf, osName...)
		if osVersion != "" {
			o.addString("user_agent.os.version", osVersion)
			start = len(o.vbuf)
			o.vbuf = append(append(append(o.vbuf, osName...), ' '), osVersion...)
		}
		o.mark("user_agent.os.full", start)
	}
	o.addString("user_agent.device.name", device(ua))
}

// browser returns the browser's name and version.
func browser(ua string) (string, string) {
	switch {
	case strings.Contains(ua, "Edg/"):
		return "Edge", version(ua, "Edg/", 4)
	case strings.Contains(ua, "EdgA/"):
		return "Edge Mobile", version(ua, "EdgA/", 4)
	case strings.Contains(ua, "Edge/"):
		return "Edge", version(ua, "Edge/", 2)
	case strings.Contains(ua, "OPR/"):
		return "Opera", version(ua, "OPR/", 3)
	case strings.Contains(ua, "Firefox/"):
		v := version(ua, "Firefox/", 3)
		if strings.Count(v, ".") == 1 {
			// uap-core leaves an empty patch, which the processor
			// joins as "72.0.".
			v += "."
		}
		if strings.Contains(ua, "Mobile") {
			return "Firefox Mobile", v
		}
		return "Firefox", v
	case strings.Contains(ua, "CriOS/"):
		return "Chrome Mobile iOS", version(ua, "CriOS/", 4)
	case strings.Contains(ua, "Chrome/") && !strings.Contains(ua, "Chromium/"):
		if strings.Contains(ua, "Android") && strings.Contains(ua, "Mobile") {
			return "Chrome Mobile", version(ua, "Chrome/", 4)
		}
		return "Chrome", version(ua, "Chrome/", 4)
	case strings.Contains(ua, "Trident/") && strings.Contains(ua, "rv:"):
		return "IE", version(ua, "rv:", 2)
	case strings.Contains(ua, "MSIE "):
		return "IE", version(ua, "MSIE ", 2)
	case strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/"):
		if strings.Contains(ua, "Mobile") {
			return "Mobile Safari", version(ua, "Version/", 3)
		}
		return "Safari", version(ua, "Version/", 3)
	}
	return "Other", ""
}

// version returns the dotted number after marker, at most parts parts.
func version(ua, marker string, parts int) string {
	i := strings.Index(ua, marker)
	if i < 0 {
		return ""
	}
	s := ua[i+len(marker):]
	end, n := 0, 1
	for end < len(s) {
		c := s[end]
		if c == '.' {
			if n == parts || end+1 >= len(s) || s[end+1] < '0' || s[end+1] > '9' {
				break
			}
			n++
		} else if c < '0' || c > '9' {
			break
		}
		end++
	}
	return s[:end]
}

// system returns the operating system's name and version.
func system(ua string) (string, string) {
	switch {
	case strings.Contains(ua, "Windows NT "):
		v := version(ua, "Windows NT ", 2)
		switch v {
		case "10.0":
			return "Windows", "10"
		case "6.3":
			return "Windows", "8.1"
		case "6.2":
			return "Windows", "8"
		case "6.1":
			return "Windows", "7"
		case "6.0":
			return "Windows", "Vista"
		case "5.1", "5.2":
			return "Windows", "XP"
		}
		return "Windows", ""
	case strings.Contains(ua, "iPhone OS ") || strings.Contains(ua, "CPU OS "):
		marker := "iPhone OS "
		if !strings.Contains(ua, marker) {
			marker = "CPU OS "
		}
		return "iOS", underscoreVersion(ua, marker)
	case strings.Contains(ua, "Mac OS X "):
		return "Mac OS X", underscoreVersion(ua, "Mac OS X ")
	case strings.Contains(ua, "Android "):
		return "Android", version(ua, "Android ", 3)
	case strings.Contains(ua, "CrOS "):
		return "Chrome OS", ""
	case strings.Contains(ua, "Linux"):
		return "Linux", ""
	}
	return "", ""
}

// underscoreVersion reads "10_14_6" (or "10.14") after marker as "10.14.6".
func underscoreVersion(ua, marker string) string {
	i := strings.Index(ua, marker)
	s := ua[i+len(marker):]
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '_' || s[end] == '.') {
		end++
	}
	return strings.Trim(strings.ReplaceAll(s[:end], "_", "."), ".")
}

// device returns the device name as uap-core would for common agents.
func device(ua string) string {
	switch {
	case strings.Contains(ua, "iPhone"):
		return "iPhone"
	case strings.Contains(ua, "iPad"):
		return "iPad"
	case strings.Contains(ua, "Macintosh"):
		return "Mac"
	case strings.Contains(ua, "Android") && strings.Contains(ua, "Mobile"):
		return "Generic Smartphone"
	case strings.Contains(ua, "Android"):
		return "Generic Tablet"
	}
	return "Other"
}
