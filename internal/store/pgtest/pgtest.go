// Package pgtest runs a throwaway PostgreSQL server for tests: one per
// test process, started on first use, with a new database for each Start.
//
// The server is initdb's cluster in a temporary directory, listening on
// 127.0.0.1 on a free port (its Unix socket in that directory too). It
// runs with fsync off: the cluster is deleted when the process ends, so
// durability buys nothing, and on a shared machine fsync would make every
// commit wait for the disk. The code under test does not depend on it.
//
// The binaries are found on PATH, else in /usr/lib/postgresql/*/bin (where
// Debian's postgresql package puts them). PostgreSQL refuses to run as
// root: as root the server runs as the postgres user (which the package
// creates). Without PostgreSQL, Start skips the test, saying what to
// install. With TARIAN_TEST_POSTGRES_URL set (a postgres:// URL of a role
// that may create databases), Start uses that server instead.
//
// Stop (or Main, from TestMain) stops the server and deletes its
// directory; the server is also killed if the test process ends without
// it, and its directory deleted by a later Start (after ten minutes).
// StartFrom copies a template database that a function prepared once, for
// tests that would otherwise all repeat the same set-up (migrations).
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
)

// EnvURL names the variable that points Start at an existing server.
const EnvURL = "TARIAN_TEST_POSTGRES_URL"

// ErrNotInstalled means no PostgreSQL binaries were found.
var ErrNotInstalled = errors.New("PostgreSQL is not installed (no initdb and postgres on PATH or in /usr/lib/postgresql/*/bin): install Debian's postgresql package (scripts/install-deps.sh)")

// server is the process's PostgreSQL server.
type server struct {
	base    *url.URL // the admin database's URL
	admin   *sql.DB
	version int       // server_version_num
	dir     string    // the temporary directory (empty for EnvURL)
	cmd     *exec.Cmd // the postmaster (nil for EnvURL)
}

var (
	mu      sync.Mutex
	current *server
	failed  error
	dbs     atomic.Int64
)

// Start returns the URL of a new, empty database for the test, dropped
// when the test ends. It starts the server on first use; it skips the
// test when PostgreSQL is not installed.
func Start(t testing.TB) string {
	t.Helper()
	return start(t, "")
}

// StartFrom is Start with a copy of a template database instead of an
// empty one: prepare fills the template once per process and name (with
// a schema's migrations, say), so that each test does not repeat the
// work. prepare gets the template's URL and must close its connections
// before it returns.
func StartFrom(t testing.TB, name string, prepare func(url string) error) string {
	t.Helper()
	s := running(t)
	mu.Lock()
	tp := templates[name]
	if tp == nil {
		tp = &template{db: fmt.Sprintf("template_%d_%d", os.Getpid(), len(templates))}
		templates[name] = tp
	}
	mu.Unlock()
	tp.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, tp.err = s.admin.ExecContext(ctx, `CREATE DATABASE `+tp.db); tp.err != nil {
			return
		}
		tp.err = prepare(s.url(tp.db))
	})
	if tp.err != nil {
		t.Fatalf("pgtest: template %s: %v", name, tp.err)
	}
	return start(t, tp.db)
}

// template is a database that StartFrom copies.
type template struct {
	db   string
	once sync.Once
	err  error
}

var templates = map[string]*template{}

// running returns the process's server, starting it if needed, or ends
// the test.
func running(t testing.TB) *server {
	t.Helper()
	s, err := get()
	if errors.Is(err, ErrNotInstalled) {
		t.Skipf("pgtest: %v", err)
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return s
}

// start creates a database, a copy of template unless that is "".
func start(t testing.TB, template string) string {
	t.Helper()
	s := running(t)
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	create := `CREATE DATABASE ` + name
	if template != "" {
		create += ` TEMPLATE ` + template
	}
	if s.version >= 150000 {
		// Copying the files is several times faster than WAL_LOG (the
		// default) for these small databases.
		create += ` STRATEGY = FILE_COPY`
	}
	if _, err := s.admin.ExecContext(ctx, create); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE: a connection the test left open does not keep it.
		if _, err := s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.url(name)
}

// url returns the URL of database name.
func (s *server) url(name string) string {
	u := *s.base
	u.Path = "/" + name
	return u.String()
}

// Main runs the tests of m and then stops the server, for TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Stop stops the server Start started, if any, and deletes its directory.
// A later Start starts a new one.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	s, tps := current, templates
	current, failed, templates = nil, nil, map[string]*template{}
	if s == nil {
		return nil
	}
	if s.cmd == nil { // a server of EnvURL's: leave no template behind
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, tp := range tps {
			s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+tp.db+` WITH (FORCE)`)
		}
	}
	return s.stop()
}

func get() (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if current != nil || failed != nil {
		return current, failed
	}
	current, failed = startServer()
	return current, failed
}

func startServer() (*server, error) {
	if env := os.Getenv(EnvURL); env != "" {
		u, err := url.Parse(env)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, fmt.Errorf("%s: want a postgres:// URL", EnvURL)
		}
		s := &server{base: u}
		return s, s.connect()
	}
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	parent := "" // TMPDIR
	if os.Getuid() == 0 {
		parent = "/tmp" // which the postgres user can reach, whatever root's TMPDIR
	}
	reap(parent)
	dir, err := os.MkdirTemp(parent, "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir}
	if err := s.init(bin); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// binDir returns the directory holding initdb and postgres.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// The newest version first.
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// init creates the cluster and starts the server.
func (s *server) init(bin string) error {
	cred, err := credential()
	if err != nil {
		return err
	}
	if cred != nil {
		if err := os.Chown(s.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	data := filepath.Join(s.dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	var lastErr error
	for range 3 { // the free port may be taken before the server binds it
		port, err := freePort()
		if err != nil {
			return err
		}
		if lastErr = s.run(bin, data, port, cred); lastErr == nil {
			return nil
		}
	}
	return lastErr
}

// credential returns the postgres user's when running as root, else nil.
func credential() (*syscall.Credential, error) {
	if os.Getuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs another user, and there is no postgres user (Debian's postgresql package creates it): %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run starts the postmaster on port and waits until it accepts
// connections.
func (s *server) run(bin, data string, port int, cred *syscall.Credential) error {
	logPath := filepath.Join(s.dir, "postgres.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(port), "-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=32MB")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdout, cmd.Stderr = log, log
	// Killed with the test process, should it die without Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s.cmd = cmd
	s.base = &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path: "/postgres", RawQuery: "sslmode=disable"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			s.cmd = nil
			return fmt.Errorf("postgres exited: %v\n%s", err, tail(logPath))
		default:
		}
		err := s.connect()
		if err == nil {
			go func() { // reap it when Stop kills it
				<-exited
			}()
			return nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("postgres did not start: %v\n%s", err, tail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// connect opens and checks the admin connection.
func (s *server) connect() error {
	db, err := sql.Open("pgx", s.base.String())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return err
	}
	if err := db.QueryRowContext(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&s.version); err != nil {
		db.Close()
		return err
	}
	db.SetMaxOpenConns(4)
	s.admin = db
	return nil
}

func (s *server) stop() error {
	var errs []error
	if s.admin != nil {
		s.admin.Close()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		// SIGQUIT: immediate shutdown; nothing in the cluster is kept.
		s.cmd.Process.Signal(syscall.SIGQUIT)
		deadline := time.Now().Add(10 * time.Second)
		for alive(s.cmd.Process.Pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(s.cmd.Process.Pid) {
			s.cmd.Process.Kill()
		}
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reap deletes the directories of the servers of test processes that
// ended without Stop (their servers killed with them): those older than
// ten minutes whose postmaster is gone.
func reap(parent string) {
	if parent == "" {
		parent = os.TempDir()
	}
	dirs, _ := filepath.Glob(filepath.Join(parent, "pgtest-*"))
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || time.Since(fi.ModTime()) < 10*time.Minute {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
			if pid > 0 && alive(pid) {
				continue
			}
		}
		os.RemoveAll(d)
	}
}

func alive(pid int) bool {
	// The postmaster is our child: until reaped, Signal 0 succeeds on a
	// zombie, so look at its state.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

// tail returns the end of the server's log.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
