package cli

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestCompletionTree checks the tree read from the usage: every command
// and the subcommands of a few, never a flag or placeholder.
func TestCompletionTree(t *testing.T) {
	cmds, subs, flags := commandTree()
	for _, c := range []string{"serve", "demo", "version", "completion", "alerts", "cases", "intel", "rules", "search"} {
		if !slices.Contains(cmds, c) {
			t.Errorf("command %q missing from %v", c, cmds)
		}
	}
	for cmd, want := range map[string][]string{
		"alerts":     {"ack", "assign", "escalate", "incidents", "list", "reopen", "resolve", "show"},
		"rules":      {"delete", "disable", "enable", "import", "list", "placeholders", "test", "validate"},
		"cases":      {"acknowledge", "escalate", "reopen", "task", "close"},
		"completion": {"bash", "fish", "zsh"},
	} {
		for _, w := range want {
			if !slices.Contains(subs[cmd], w) {
				t.Errorf("%s: subcommand %q missing from %v", cmd, w, subs[cmd])
			}
		}
	}
	// restore's first word is a flag: its completion offers flags.
	if len(subs["restore"]) != 0 {
		t.Errorf("restore has subcommands %v", subs["restore"])
	}
	for cmd, ss := range subs {
		for _, s := range ss {
			if !isWord(s) {
				t.Errorf("%s: %q is not a subcommand", cmd, s)
			}
		}
	}
	for cmd, want := range map[string][]string{"restore": {"--data", "--force"}, "alerts": {"--sort", "--tenant", "--json"}, "reports": {"--lang", "--month", "--pdf"}} {
		for _, w := range want {
			if !slices.Contains(flags[cmd], w) {
				t.Errorf("%s: flag %q missing from %v", cmd, w, flags[cmd])
			}
		}
	}
}

// TestCompletionBash loads the bash script into a real bash and completes
// as the shell would.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	var script bytes.Buffer
	if err := runCompletion([]string{"bash"}, &script); err != nil {
		t.Fatal(err)
	}
	complete := func(words ...string) []string {
		t.Helper()
		prog := script.String() + "\nCOMP_WORDS=(" + strings.Join(words, " ") + ")\nCOMP_CWORD=" + string(rune('0'+len(words)-1)) + "\n_tarian\necho \"${COMPREPLY[@]}\"\n"
		out, err := exec.Command(bash, "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	if got := complete("tarian", "ale"); !slices.Equal(got, []string{"alerts"}) {
		t.Errorf("tarian ale<TAB> = %v", got)
	}
	if got := complete("tarian", "alerts", "re"); !slices.Equal(got, []string{"reopen", "resolve"}) {
		t.Errorf("tarian alerts re<TAB> = %v", got)
	}
	if got := complete("tarian", "completion", "f"); !slices.Equal(got, []string{"fish"}) {
		t.Errorf("tarian completion f<TAB> = %v", got)
	}
	if got := complete("tarian", "restore", "--data", "x", "--f"); !slices.Equal(got, []string{"--force"}) {
		t.Errorf("tarian restore --data x --f<TAB> = %v", got)
	}
	for _, shell := range []string{"zsh", "fish"} {
		var b bytes.Buffer
		if err := runCompletion([]string{shell}, &b); err != nil || !strings.Contains(b.String(), "alerts") {
			t.Errorf("completion %s: %v\n%s", shell, err, b.String())
		}
	}
	if err := runCompletion([]string{"tcsh"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "bash, zsh or fish") {
		t.Errorf("completion tcsh: %v", err)
	}
}
