package termclient

import (
	"testing"

	"app-server/protocol"
)

func TestParseRevoke(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		host    string
		port    int // 0: none
		scope   protocol.GrantScope
		wantErr bool
	}{
		{args: []string{"127.0.0.1"}, host: "127.0.0.1", scope: protocol.ScopeSession},
		{args: []string{"127.0.0.1:8080"}, host: "127.0.0.1", port: 8080, scope: protocol.ScopeSession},
		{args: []string{"[::1]:443"}, host: "::1", port: 443, scope: protocol.ScopeSession},
		{args: []string{"::1"}, host: "::1", scope: protocol.ScopeSession},
		{args: []string{"--persistent", "example.com"}, host: "example.com", scope: protocol.ScopePersistent},
		{args: []string{"example.com", "-p"}, host: "example.com", scope: protocol.ScopePersistent},
		{args: []string{"-p", "example.com:443"}, wantErr: true},
		{args: nil, wantErr: true},
		{args: []string{"a", "b"}, wantErr: true},
		{args: []string{"--all", "a"}, wantErr: true},
		{args: []string{"a:99999"}, wantErr: true},
	} {
		r, err := parseRevoke(tc.args)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%q: no error", tc.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		p := r.network
		port := 0
		if p.Port != nil {
			port = int(*p.Port)
		}
		if p.Host != tc.host || port != tc.port || p.Scope != tc.scope {
			t.Errorf("%q: %+v port %d", tc.args, p, port)
		}
	}
}

func TestParseRevokeCommand(t *testing.T) {
	r, err := parseRevoke([]string{"--command", "touch", "made"})
	if err != nil || r.command == nil || r.command.Scope != protocol.ScopeSession || r.command.Command == nil || *r.command.Command != "touch made" || r.command.Prefix != nil {
		t.Errorf("session: %+v, %v", r.command, err)
	}
	r, err = parseRevoke([]string{"-p", "--command", "git", "fetch"})
	if err != nil || r.command == nil || r.command.Scope != protocol.ScopePersistent || len(r.command.Prefix) != 2 || r.command.Command != nil {
		t.Errorf("persistent: %+v, %v", r.command, err)
	}
	for _, bad := range [][]string{{"--command"}, {"a.com", "--command", "ls"}} {
		if _, err := parseRevoke(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		line    string
		name    string // "" means a turn
		nargs   int
		unknown bool
	}{
		{line: "/grants", name: "/grants"},
		{line: "  /revoke 127.0.0.1  ", name: "/revoke", nargs: 1},
		{line: "/exit", name: "/quit"},
		{line: "echo /grants"},
		{line: "/bin/sh -c true"}, // a program by its path
		{line: "/grnats", name: "/grnats", unknown: true},
		{line: ""},
	} {
		c, args, ok := parseCommand(tc.line)
		switch {
		case tc.name == "" && ok:
			t.Errorf("%q is a command %s", tc.line, c.name)
		case tc.name != "" && (!ok || c.name != tc.name || len(args) != tc.nargs):
			t.Errorf("%q: ok %v, %+v %q", tc.line, ok, c, args)
		case tc.name != "" && tc.unknown == (c.summary != ""):
			t.Errorf("%q: unknown %v, summary %q", tc.line, tc.unknown, c.summary)
		}
	}
}
