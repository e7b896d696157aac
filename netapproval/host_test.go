package netapproval

import "testing"

func TestNormalizeHost(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "lowercase", in: "ExAmPlE.Com", want: "example.com"},
		{name: "trailing dot", in: "ExAmPlE.Com.", want: "example.com"},
		{name: "trailing dots", in: "example.com..", want: "example.com"},
		{name: "spaces", in: "  example.com \t", want: "example.com"},
		{name: "host:port", in: "example.com:8080", want: "example.com"},
		{name: "ipv4:port", in: "127.0.0.1:80", want: "127.0.0.1"},
		{name: "brackets", in: "[::1]", want: "::1"},
		{name: "brackets and port", in: "[::1]:443", want: "::1"},
		{name: "bare ipv6 keeps last group", in: "fe80::1", want: "fe80::1"},
		{name: "ipv6 upper", in: "FE80::AB", want: "fe80::ab"},
		{name: "zone kept", in: "fe80::1%lo0", want: "fe80::1%lo0"},
		{name: "zone case kept", in: "[FE80::1%Eth0]:22", want: "fe80::1%Eth0"},
		{name: "ipv6 kept as written", in: "0:0::1", want: "0:0::1"},
		{name: "underscore ok", in: "_srv.example.com", want: "_srv.example.com"},
		{name: "empty", in: "", wantErr: true},
		{name: "only dots", in: "...", wantErr: true},
		{name: "empty label", in: "a..b", wantErr: true},
		{name: "space inside", in: "exa mple.com", wantErr: true},
		{name: "star is not a host", in: "*.example.com", wantErr: true},
		{name: "bad ipv6", in: "[::zz]", wantErr: true},
		{name: "unclosed bracket", in: "[::1", wantErr: true},
		{name: "brackets around name", in: "[example.com]", wantErr: true},
		{name: "empty zone", in: "fe80::1%", wantErr: true},
		{name: "slash", in: "example.com/path", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeHost(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("NormalizeHost(%q) = %q, want error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestProtocolNames(t *testing.T) {
	want := map[Protocol]string{ProtocolHTTP: "http", ProtocolHTTPS: "https", ProtocolSOCKS5TCP: "socks5Tcp", ProtocolSOCKS5UDP: "socks5Udp"}
	for p, s := range want {
		if p.String() != s {
			t.Errorf("%d.String() = %q, want %q", p, p.String(), s)
		}
	}
	if got := Protocol(9).String(); got != "netapproval.Protocol(9)" {
		t.Errorf("Protocol(9).String() = %q", got)
	}
}
