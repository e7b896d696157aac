package protocol

// InitializeParams opens a connection.
type InitializeParams struct {
	ClientInfo   ClientInfo              `json:"clientInfo"`
	Capabilities *InitializeCapabilities `json:"capabilities,omitempty"`
}

// ClientInfo names the client, for the user agent and logs.
type ClientInfo struct {
	Name    string  `json:"name"`
	Title   *string `json:"title,omitempty"`
	Version string  `json:"version"`
}

// InitializeCapabilities are the client's options for this connection.
type InitializeCapabilities struct {
	ExperimentalAPI bool `json:"experimentalApi,omitempty"`
	// OptOutNotificationMethods lists notification methods, by exact name,
	// that the server must not send on this connection. Unknown names are
	// ignored.
	OptOutNotificationMethods []string `json:"optOutNotificationMethods,omitempty"`
}

// InitializeResponse describes the server.
type InitializeResponse struct {
	UserAgent string `json:"userAgent"`
	// CodexHome is the server's home directory (config, rules, threads).
	CodexHome      string `json:"codexHome"`
	PlatformFamily string `json:"platformFamily"`
	PlatformOs     string `json:"platformOs"`
}
