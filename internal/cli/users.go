package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type userJSON struct {
	Name        string    `json:"name"`
	Tenant      string    `json:"tenant,omitempty"`
	Role        string    `json:"role"`
	Email       string    `json:"email,omitempty"`
	Disabled    bool      `json:"disabled"`
	RequireMFA  bool      `json:"require_mfa"`
	MFAEnrolled bool      `json:"mfa_enrolled"`
	Created     time.Time `json:"created"`
	Password    string    `json:"password,omitempty"`
	// TokensRevoked: the tokens that acted for the user, revoked by a
	// disable or reset.
	TokensRevoked []string `json:"tokens_revoked,omitempty"`
}

const userUsage = "usage: tarian user add NAME [--tenant ID] --role ROLE [--email E] [--password-stdin] [--require-mfa] | list [--tenant ID] [--json] | disable|enable|reset NAME | mfa enrol"

func runUser(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return usageError(userUsage)
	}
	switch args[0] {
	case "add":
		fs := newFlagSet("user add", env)
		ten := fs.String("tenant", "", "the member body the user belongs to (not for provider roles)")
		role := fs.String("role", "", "provider-admin, provider-analyst, tenant-admin, tenant-analyst or tenant-viewer")
		email := fs.String("email", "", "the user's email address")
		fromStdin := fs.Bool("password-stdin", false, "read the password from stdin (else one is generated and printed once)")
		mfa := fs.Bool("require-mfa", false, "the user must log in with TOTP")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 || *role == "" {
			return usageError("usage: tarian user add NAME [--tenant ID] --role ROLE [--email E] [--password-stdin] [--require-mfa]")
		}
		req := map[string]any{"name": pos[0], "tenant": *ten, "role": *role, "email": *email, "require_mfa": *mfa}
		if *fromStdin {
			pw, err := readLine(bufio.NewReader(env.Stdin))
			if err != nil {
				return fmt.Errorf("read password from stdin: %w", err)
			}
			req["password"] = pw
		}
		c, err := newClient(env)
		if err != nil {
			return err
		}
		var u userJSON
		if err := c.json(ctx, "POST", "/api/v1/users", req, &u); err != nil {
			return err
		}
		scope := u.Tenant
		if scope == "" {
			scope = "the provider"
		}
		fmt.Fprintf(env.Stderr, "added %s user %s of %s\n", u.Role, u.Name, scope)
		if u.Password != "" {
			fmt.Fprintln(env.Stdout, u.Password)
			fmt.Fprintln(env.Stderr, "the one-time password above is shown only once")
		}
		return nil
	case "list":
		fs := newFlagSet("user list", env)
		ten := fs.String("tenant", "", "only this tenant's users")
		asJSON := fs.Bool("json", false, "one JSON object per line")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		c, err := newClient(env)
		if err != nil {
			return err
		}
		path := "/api/v1/users"
		if *ten != "" {
			path += "?" + url.Values{"tenant": {*ten}}.Encode()
		}
		var out struct {
			Users []userJSON `json:"users"`
		}
		if err := c.json(ctx, "GET", path, nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return writeJSONLines(env.Stdout, out.Users)
		}
		tw := table(env, len(out.Users), "no users", "NAME\tTENANT\tROLE\tEMAIL\tMFA\tSTATE")
		if tw == nil {
			return nil
		}
		for _, u := range out.Users {
			mfa := "-"
			switch {
			case u.MFAEnrolled:
				mfa = "enrolled"
			case u.RequireMFA:
				mfa = "required"
			}
			state := "active"
			if u.Disabled {
				state = "disabled"
			}
			ten := u.Tenant
			if ten == "" {
				ten = "(provider)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, ten, u.Role, u.Email, mfa, state)
		}
		return tw.Flush()
	case "disable", "enable", "reset", "delete":
		if len(args) != 2 || strings.HasPrefix(args[1], "-") {
			return usageError("usage: tarian user " + args[0] + " NAME")
		}
		c, err := newClient(env)
		if err != nil {
			return err
		}
		var u userJSON
		path := "/api/v1/users/" + url.PathEscape(args[1])
		if args[0] == "delete" {
			err = c.json(ctx, "DELETE", path, nil, &u)
		} else {
			err = c.json(ctx, "POST", path+"/"+args[0], map[string]string{}, &u)
		}
		if err != nil {
			return err
		}
		switch args[0] {
		case "delete":
			fmt.Fprintf(env.Stderr, "deleted %s; its sessions ended%s; the name is free again\n", u.Name, revokedText(u.TokensRevoked))
		case "reset":
			fmt.Fprintln(env.Stdout, u.Password)
			fmt.Fprintf(env.Stderr, "reset %s: the one-time password above is shown only once; sessions ended%s; TOTP must be enrolled again\n", u.Name, revokedText(u.TokensRevoked))
		case "disable":
			fmt.Fprintf(env.Stderr, "disabled %s; its sessions ended%s\n", u.Name, revokedText(u.TokensRevoked))
		default:
			fmt.Fprintf(env.Stderr, "enabled %s\n", u.Name)
		}
		return nil
	case "mfa":
		if len(args) != 2 || args[1] != "enrol" {
			return usageError("usage: tarian user mfa enrol   (for the user logged in with tarian login)")
		}
		return runMFAEnrol(ctx, env)
	}
	return usageError(fmt.Sprintf("unknown user command %q", args[0]))
}

// revokedText says which tokens a disable, reset or delete revoked with
// the user.
func revokedText(ids []string) string {
	switch len(ids) {
	case 0:
		return ""
	case 1:
		return "; its token " + ids[0] + " was revoked"
	}
	return fmt.Sprintf("; its %d tokens were revoked (%s)", len(ids), strings.Join(ids, ", "))
}

// runMFAEnrol enrols TOTP for the logged-in user: it prints the otpauth://
// URI, reads a code from the app and prints the recovery codes.
func runMFAEnrol(ctx context.Context, env Env) error {
	c, err := newClient(env)
	if err != nil {
		return err
	}
	if c.session == nil {
		return errors.New("MFA enrolment is for a logged-in user: run tarian login first (TARIAN_TOKEN unset)")
	}
	var e struct {
		URI string `json:"otpauth_uri"`
	}
	if err := c.json(ctx, "POST", "/api/v1/session/mfa", map[string]string{}, &e); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, e.URI)
	fmt.Fprintln(env.Stderr, "add the URI above to an authenticator app (it is shown only once)")
	fmt.Fprint(env.Stderr, "code from the app: ")
	code, err := readLine(bufio.NewReader(env.Stdin))
	if err != nil {
		return err
	}
	var out struct {
		Codes []string `json:"recovery_codes"`
	}
	if err := c.json(ctx, "POST", "/api/v1/session/mfa/confirm", map[string]string{"totp": code}, &out); err != nil {
		return err
	}
	fmt.Fprintln(env.Stderr, "TOTP enrolled. Recovery codes, each usable once instead of a code; store them safely, they are shown only once:")
	for _, rc := range out.Codes {
		fmt.Fprintln(env.Stdout, rc)
	}
	return nil
}

func readLine(r *bufio.Reader) (string, error) {
	s, err := r.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && s != "") {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// storedSession is a session tarian login keeps for one server.
type storedSession struct {
	User   string `json:"user"`
	Cookie string `json:"cookie"`
	CSRF   string `json:"csrf_token"`
}

// sessionFile is where the CLI keeps its sessions, keyed by server URL:
// $XDG_CONFIG_HOME/tarian/sessions.json or ~/.config/tarian/sessions.json.
func sessionFile(env Env) (string, error) {
	dir := env.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := env.Getenv("HOME")
		if home == "" {
			return "", errors.New("neither XDG_CONFIG_HOME nor HOME is set: nowhere to keep the session")
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "tarian", "sessions.json"), nil
}

func readSessions(path string) (map[string]storedSession, error) {
	m := map[string]storedSession{}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// saveSession stores s for base (nil removes it), in a file only its
// owner can read.
func saveSession(env Env, base string, s *storedSession) error {
	path, err := sessionFile(env)
	if err != nil {
		return err
	}
	m, err := readSessions(path)
	if err != nil {
		return err
	}
	if s == nil {
		delete(m, base)
	} else {
		m[base] = *s
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// loadSession returns the stored session for base, or nil.
func loadSession(env Env, base string) *storedSession {
	path, err := sessionFile(env)
	if err != nil {
		return nil
	}
	m, err := readSessions(path)
	if err != nil {
		return nil
	}
	if s, ok := m[base]; ok {
		return &s
	}
	return nil
}

// runLogin logs in with a password (and a TOTP code when the account has
// MFA), read from the terminal without echo or from stdin, and keeps the
// session for the client commands.
func runLogin(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("login", env)
	user := fs.String("user", "", "user name (asked when not given)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	base, err := serverURL(env.Getenv("TARIAN_URL"))
	if err != nil {
		return err
	}
	in := bufio.NewReader(env.Stdin)
	if *user == "" {
		fmt.Fprint(env.Stderr, "user: ")
		if *user, err = readLine(in); err != nil {
			return err
		}
	}
	fmt.Fprint(env.Stderr, "password: ")
	pw, err := readSecret(env, in)
	if err != nil {
		return err
	}
	hc, err := clientHTTP(env)
	if err != nil {
		return err
	}
	c := &client{base: base, hc: hc}
	// The code is asked every time: the server does not say whether an
	// account has MFA before the password is right (nor after it is wrong).
	fmt.Fprint(env.Stderr, "TOTP code or recovery code (Enter if the account has no MFA): ")
	code, err := readLine(in)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	body := map[string]string{"username": *user, "password": pw, "totp": strings.TrimSpace(code)}
	var s struct {
		CSRF             string `json:"csrf_token"`
		MFAEnrolRequired bool   `json:"mfa_enrol_required"`
	}
	resp, err := c.login(ctx, body, &s)
	if err != nil {
		return err
	}
	if err := saveSession(env, base, &storedSession{User: *user, Cookie: resp, CSRF: s.CSRF}); err != nil {
		return fmt.Errorf("keep the session: %w", err)
	}
	fmt.Fprintf(env.Stderr, "logged in to %s as %s\n", base, *user)
	if s.MFAEnrolRequired {
		fmt.Fprintln(env.Stderr, "this account must enrol TOTP before anything else: run tarian user mfa enrol")
	}
	return nil
}

// readSecret reads a line with the terminal's echo off when stdin is a
// terminal.
func readSecret(env Env, in *bufio.Reader) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			stty := func(arg string) {
				cmd := exec.Command("stty", arg)
				cmd.Stdin = f
				_ = cmd.Run()
			}
			stty("-echo")
			defer func() {
				stty("echo")
				fmt.Fprintln(env.Stderr)
			}()
		}
	}
	return readLine(in)
}

func runLogout(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("logout", env)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	base, err := serverURL(env.Getenv("TARIAN_URL"))
	if err != nil {
		return err
	}
	s := loadSession(env, base)
	if s == nil {
		return errors.New("not logged in to " + base)
	}
	hc, err := clientHTTP(env)
	if err != nil {
		return err
	}
	c := &client{base: base, session: s, hc: hc}
	resp, err := c.do(ctx, "DELETE", "/api/v1/session", nil, "")
	var ae *apiError
	if err != nil && !(errors.As(err, &ae) && ae.Status == 401) {
		return err
	}
	if resp != nil {
		resp.Body.Close()
	}
	if err := saveSession(env, base, nil); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "logged out of %s\n", base)
	return nil
}

// authorize adds the client's credentials: the bearer token, or the
// session cookie with its CSRF header on writes.
func (c *client) authorize(req *http.Request) {
	if c.session == nil {
		req.Header.Set("Authorization", "Bearer "+c.token)
		return
	}
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.session.Cookie})
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		req.Header.Set("X-CSRF-Token", c.session.CSRF)
	}
}

// sessionCookie is the server's session cookie (auth.SessionCookie).
const sessionCookie = "tarian_session"

// login posts the credentials and returns the session cookie's value.
func (c *client) login(ctx context.Context, body map[string]string, out any) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/api/v1/session", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ae := &apiError{Status: resp.StatusCode}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(data, ae) != nil || ae.Code == "" {
			ae.Code, ae.Message = "http_error", strings.TrimSpace(string(data))
		}
		return "", ae
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return "", err
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			return ck.Value, nil
		}
	}
	return "", errors.New("the server answered without a session cookie")
}

func runTokenRevoke(ctx context.Context, args []string, env Env) error {
	// The command has no flags: its one argument is the ID even when it
	// starts with "-" (an ID is base64url: one in 64 does).
	pos := args
	if len(args) != 1 || isHelpArg(args[0]) {
		var err error
		if pos, err = parse(newFlagSet("token revoke", env), args); err != nil {
			return err
		}
	}
	if len(pos) != 1 {
		return usageError("usage: tarian token revoke ID")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, "DELETE", "/api/v1/tokens/"+url.PathEscape(pos[0]), nil, "")
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Fprintf(env.Stderr, "revoked token %s\n", pos[0])
	return nil
}
