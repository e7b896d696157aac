package netapproval

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

// protocolNames spell the protocols in logs and in the "protocol" field of
// a 403 body (the same spelling as the JSON-RPC wire tags, which package
// protocol owns).
var protocolNames = names[Protocol]{
	ProtocolHTTP:      "http",
	ProtocolHTTPS:     "https",
	ProtocolSOCKS5TCP: "socks5Tcp",
	ProtocolSOCKS5UDP: "socks5Udp",
}

func (p Protocol) String() string { return protocolNames.name(p) }

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
