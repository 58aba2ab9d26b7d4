package windowstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// node is a JSON value that keeps object keys in order.
type node struct {
	kind int
	s    string // string value, or a number's text
	b    bool
	obj  []objMember
	arr  []*node
}

type objMember struct {
	key string
	val *node
}

const (
	kNull = iota
	kString
	kNumber
	kBool
	kObject
	kArray
)

func (n *node) get(key string) *node {
	if n == nil || n.kind != kObject {
		return nil
	}
	for _, m := range n.obj {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// text is a value's text as Windows would render it: strings as they
// stand, numbers as written, booleans, null as empty, an object with
// "#text" as that text, other objects and arrays as compact JSON.
func (n *node) text() string {
	switch n.kind {
	case kString, kNumber:
		return n.s
	case kBool:
		if n.b {
			return "true"
		}
		return "false"
	case kNull:
		return ""
	case kObject:
		if t := n.get("#text"); t != nil {
			return t.text()
		}
	}
	var b []byte
	return string(n.appendJSON(b))
}

func (n *node) appendJSON(b []byte) []byte {
	switch n.kind {
	case kString:
		return appendJSONString(b, n.s)
	case kNumber:
		return append(b, n.s...)
	case kBool:
		if n.b {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case kObject:
		b = append(b, '{')
		for i, m := range n.obj {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, m.key)
			b = append(b, ':')
			b = m.val.appendJSON(b)
		}
		return append(b, '}')
	case kArray:
		b = append(b, '[')
		for i, x := range n.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = x.appendJSON(b)
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

// appendJSONString escapes as the windows parser writes JSON text: ", \,
// \n, \r, \t, other control bytes as \u00XX, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// decode reads one JSON value keeping key order.
func decode(data []byte) (*node, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	n, err := decodeValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("windowstest: trailing data after the JSON value")
	}
	return n, nil
}

func decodeValue(d *json.Decoder) (*node, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: kObject}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("windowstest: object key %v", kt)
				}
				v, err := decodeValue(d)
				if err != nil {
					return nil, err
				}
				n.obj = append(n.obj, objMember{k, v})
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '[':
			n := &node{kind: kArray}
			for d.More() {
				v, err := decodeValue(d)
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return n, nil
		}
		return nil, fmt.Errorf("windowstest: unexpected %v", t)
	case string:
		return &node{kind: kString, s: t}, nil
	case json.Number:
		return &node{kind: kNumber, s: t.String()}, nil
	case bool:
		return &node{kind: kBool, b: t}, nil
	case nil:
		return &node{kind: kNull}, nil
	}
	return nil, fmt.Errorf("windowstest: unexpected token %v", tok)
}
