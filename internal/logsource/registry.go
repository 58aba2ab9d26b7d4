package logsource

import (
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/normalize"
)

// formats are the known types, in detection order: the most specific
// sniffers first. Adding a format is one entry here.
var formats = []*Format{
	{Type: "json", Title: "plain JSON: fields flattened to dotted names; a source's field_map adds ECS names", JSON: true,
		New: func() FormatParser { return &plainJSON{} }},
}

// plainJSON is the "json" type: the document's own fields, flattened.
type plainJSON struct {
	p    fastjson.Parser
	flat normalize.JSON
}

func (j *plainJSON) Parse(payload []byte, dst *event.Event) error {
	v, err := j.p.ParseBytes(payload)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	o, err := v.Object()
	if err != nil {
		return normalize.ErrNotObject
	}
	dst.Fields = j.flat.Flatten(dst.Fields, o)
	for _, name := range normalize.TimeFields {
		if s, ok := dst.Get(name); ok {
			if t, ok := normalize.ParseTime(s); ok {
				dst.Time = t
				break
			}
		}
	}
	return nil
}
