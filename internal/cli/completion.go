package cli

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// flagRE finds the flags a usage line names ("[--tenant ID|*]").
var flagRE = regexp.MustCompile(`--[a-z][a-z-]*`)

// commandTree is the commands, their subcommands and the flags their
// usage lines name, read from the usage text (every "  tarian CMD SUB ..."
// line), so completion never drifts from what the CLI says it accepts. A
// subcommand is a plain word, or words joined by "|" ("disable|enable").
func commandTree() (cmds []string, subs, flags map[string][]string) {
	subs, flags = map[string][]string{}, map[string][]string{}
	for line := range strings.Lines(usage) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "tarian" {
			continue
		}
		cmd := f[1]
		if !slices.Contains(cmds, cmd) {
			cmds = append(cmds, cmd)
		}
		for _, fl := range flagRE.FindAllString(strings.Join(f[2:], " "), -1) {
			if !slices.Contains(flags[cmd], fl) {
				flags[cmd] = append(flags[cmd], fl)
			}
		}
		if len(f) < 3 {
			continue
		}
		for _, sub := range strings.Split(f[2], "|") {
			if isWord(sub) && !slices.Contains(subs[cmd], sub) {
				subs[cmd] = append(subs[cmd], sub)
			}
		}
	}
	for _, extra := range []string{"completion", "help"} {
		if !slices.Contains(cmds, extra) {
			cmds = append(cmds, extra)
		}
	}
	subs["completion"] = []string{"bash", "zsh", "fish"}
	slices.Sort(cmds)
	for _, s := range subs {
		slices.Sort(s)
	}
	for _, s := range flags {
		slices.Sort(s)
	}
	return cmds, subs, flags
}

func isWord(s string) bool {
	if s == "" || s[0] == '-' { // "--data" is a flag, not a subcommand
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '-' {
			return false
		}
	}
	return true
}

// runCompletion prints the completion script of shell: `tarian completion
// bash > /etc/bash_completion.d/tarian`, or `source <(tarian completion
// zsh)`, or `tarian completion fish > ~/.config/fish/completions/tarian.fish`.
func runCompletion(args []string, w io.Writer) error {
	if len(args) != 1 {
		return usageError("usage: tarian completion bash|zsh|fish")
	}
	cmds, subs, flags := commandTree()
	var names, withFlags []string
	for c := range subs {
		names = append(names, c)
	}
	for c := range flags {
		withFlags = append(withFlags, c)
	}
	slices.Sort(names)
	slices.Sort(withFlags)
	switch args[0] {
	case "bash", "zsh":
		var b strings.Builder
		if args[0] == "zsh" {
			b.WriteString("autoload -U +X bashcompinit && bashcompinit\n")
		}
		b.WriteString("# tarian completion: commands and subcommands; flags and files after them.\n")
		b.WriteString("_tarian() {\n\tlocal cur=\"${COMP_WORDS[COMP_CWORD]}\"\n")
		b.WriteString("\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n")
		fmt.Fprintf(&b, "\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn\n\tfi\n", strings.Join(cmds, " "))
		b.WriteString("\tif [ \"$COMP_CWORD\" -eq 2 ]; then\n\t\tcase \"${COMP_WORDS[1]}\" in\n")
		for _, c := range names {
			fmt.Fprintf(&b, "\t\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", c, strings.Join(subs[c], " "))
		}
		b.WriteString("\t\tesac\n\tfi\n")
		b.WriteString("\tif [[ \"$cur\" == -* ]]; then\n\t\tcase \"${COMP_WORDS[1]}\" in\n")
		for _, c := range withFlags {
			fmt.Fprintf(&b, "\t\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", c, strings.Join(flags[c], " "))
		}
		b.WriteString("\t\tesac\n\tfi\n\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n}\ncomplete -o filenames -F _tarian tarian\n")
		_, err := io.WriteString(w, b.String())
		return err
	case "fish":
		var b strings.Builder
		b.WriteString("# tarian completion: commands and subcommands.\ncomplete -c tarian -f\n")
		fmt.Fprintf(&b, "complete -c tarian -n __fish_use_subcommand -a %q\n", strings.Join(cmds, " "))
		for _, c := range names {
			fmt.Fprintf(&b, "complete -c tarian -n '__fish_seen_subcommand_from %s; and test (count (commandline -opc)) -eq 2' -a %q\n", c, strings.Join(subs[c], " "))
		}
		for _, c := range withFlags {
			for _, fl := range flags[c] {
				fmt.Fprintf(&b, "complete -c tarian -n '__fish_seen_subcommand_from %s' -l %s\n", c, strings.TrimPrefix(fl, "--"))
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	return usageError(fmt.Sprintf("unknown shell %q: want bash, zsh or fish", args[0]))
}
