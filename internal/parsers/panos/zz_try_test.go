package panos

import (
	"bufio"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

func TestZZTry(t *testing.T) {
	path := os.Getenv("TRY")
	if path == "" {
		t.Skip()
	}
	f, _ := os.Open(path)
	var p Parser
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		ev := event.Event{Time: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
		err := p.Parse(sc.Bytes(), &ev)
		fmt.Println("==", sc.Text())
		if err != nil {
			fmt.Println("ERR", err)
			continue
		}
		fmt.Println("  time", ev.Time)
		for _, f := range ev.Fields {
			fmt.Printf("  %s = %s\n", f.Name, f.Value)
		}
	}
}
