package netapproval

import "fmt"

// Protocol is the ingress a proxied request arrived on. It is part of the
// approval Key: the same host and port over two protocols are two keys.
type Protocol uint8

// The zero Protocol is not a valid ingress; in a Grant it means "every
// protocol" (persisted rules are host-wide).
const (
	ProtocolHTTP      Protocol = iota + 1 // plain HTTP request in absolute form
	ProtocolHTTPS                         // HTTP CONNECT tunnel
	ProtocolSOCKS5TCP                     // SOCKS5 CONNECT
	ProtocolSOCKS5UDP                     // SOCKS5 UDP ASSOCIATE, per datagram destination
)

// protocolTags are the wire tags, indexed by Protocol. One definition: every
// other package gets the tag from String and parses with ParseProtocol.
var protocolTags = [...]string{
	ProtocolHTTP:      "http",
	ProtocolHTTPS:     "https",
	ProtocolSOCKS5TCP: "socks5Tcp",
	ProtocolSOCKS5UDP: "socks5Udp",
}

// String returns the wire tag ("http", "https", "socks5Tcp", "socks5Udp").
func (p Protocol) String() string {
	if p == 0 || int(p) >= len(protocolTags) {
		return fmt.Sprintf("Protocol(%d)", uint8(p))
	}
	return protocolTags[p]
}

// Valid reports whether p is one of the four ingress protocols.
func (p Protocol) Valid() bool { return p != 0 && int(p) < len(protocolTags) }

// ParseProtocol parses a wire tag. The proxy tag "http-connect" is an alias
// of "https"; it is mapped here, at the boundary, and nowhere else.
func ParseProtocol(s string) (Protocol, error) {
	if s == "http-connect" {
		return ProtocolHTTPS, nil
	}
	for p, tag := range protocolTags {
		if p != 0 && tag == s {
			return Protocol(p), nil
		}
	}
	return 0, fmt.Errorf("netapproval: unknown network protocol %q", s)
}

// MarshalText implements encoding.TextMarshaler with the wire tag.
func (p Protocol) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("netapproval: cannot marshal invalid protocol %d", uint8(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler via ParseProtocol.
func (p *Protocol) UnmarshalText(b []byte) error {
	v, err := ParseProtocol(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// defaultPort is the port a request implies when it names none. SOCKS5
// always carries an explicit port, so it has no default.
func (p Protocol) defaultPort() uint16 {
	switch p {
	case ProtocolHTTP:
		return 80
	case ProtocolHTTPS:
		return 443
	}
	return 0
}
