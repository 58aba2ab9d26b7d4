package leef

import "strings"

// goLayout turns a Java SimpleDateFormat pattern, as LEEF's devTimeFormat
// gives it ("MMM dd yyyy HH:mm:ss.SSS zzz", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"),
// into a Go time layout. ok is false for patterns Go cannot follow.
func goLayout(java string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(java); {
		c := java[i]
		if c == '\'' { // quoted literal; '' is a quote
			j := i + 1
			if j < len(java) && java[j] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			for j < len(java) && java[j] != '\'' {
				if java[j] >= '0' && java[j] <= '9' {
					return "", false // a digit would read as a layout element
				}
				b.WriteByte(java[j])
				j++
			}
			i = j + 1
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			if c >= '0' && c <= '9' {
				return "", false // a digit would read as a layout element
			}
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(java) && java[i+n] == c {
			n++
		}
		var el string
		switch c {
		case 'y', 'u':
			el = "2006"
			if n == 2 {
				el = "06"
			}
		case 'M', 'L':
			switch {
			case n >= 4:
				el = "January"
			case n == 3:
				el = "Jan"
			case n == 2:
				el = "01"
			default:
				el = "1"
			}
		case 'd':
			el = "02"
			if n == 1 {
				el = "2"
			}
		case 'H', 'k':
			el = "15"
		case 'h', 'K':
			el = "03"
			if n == 1 {
				el = "3"
			}
		case 'm':
			el = "04"
			if n == 1 {
				el = "4"
			}
		case 's':
			el = "05"
			if n == 1 {
				el = "5"
			}
		case 'S':
			// Go reads a fraction only after '.' or ','.
			if b.Len() == 0 {
				return "", false
			}
			if last := b.String()[b.Len()-1]; last != '.' && last != ',' {
				return "", false
			}
			el = strings.Repeat("0", n)
		case 'a':
			el = "PM"
		case 'E':
			el = "Mon"
			if n >= 4 {
				el = "Monday"
			}
		case 'z':
			el = "MST"
		case 'Z':
			el = "-0700"
		case 'X':
			switch n {
			case 1:
				el = "Z07"
			case 2:
				el = "Z0700"
			default:
				el = "Z07:00"
			}
		default:
			return "", false
		}
		b.WriteString(el)
		i += n
	}
	return b.String(), true
}
