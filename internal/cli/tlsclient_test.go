package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/server/servertest"
	"github.com/tarian-soc/tarian/internal/tlsfile/tlsfiletest"
)

// TestClientHTTPS: the client commands work against an HTTPS API whose
// certificate TARIAN_CA_FILE trusts, and refuse it without.
func TestClientHTTPS(t *testing.T) {
	pair := tlsfiletest.Write(t, t.TempDir(), "api")
	cfg := servertest.Config(t.TempDir())
	cfg.API.TLSCert, cfg.API.TLSKey = pair.CertFile, pair.KeyFile
	s := servertest.Start(t, cfg)
	run := func(env map[string]string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
		return code, out.String(), errb.String()
	}
	env := map[string]string{"TARIAN_URL": s.URL, "TARIAN_TOKEN": servertest.AdminToken, "TARIAN_CA_FILE": pair.CertFile}
	if code, out, errs := run(env, "tenant", "add", "council-a", "--name", "Council A"); code != 0 {
		t.Fatalf("tenant add over HTTPS: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := run(env, "tenant", "list"); code != 0 || !strings.Contains(out, "council-a") {
		t.Fatalf("tenant list over HTTPS: exit %d\n%s%s", code, out, errs)
	}
	delete(env, "TARIAN_CA_FILE")
	if code, _, errs := run(env, "tenant", "list"); code == 0 || !strings.Contains(errs, "certificate") {
		t.Errorf("untrusted certificate: exit %d, stderr %q; want a certificate error", code, errs)
	}
	env["TARIAN_CA_FILE"] = pair.KeyFile
	if code, _, errs := run(env, "tenant", "list"); code == 0 || !strings.Contains(errs, "TARIAN_CA_FILE") {
		t.Errorf("TARIAN_CA_FILE without a certificate: exit %d, stderr %q", code, errs)
	}
}
