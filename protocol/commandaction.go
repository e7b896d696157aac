package protocol

// CommandAction is a best-effort reading of what a command does, for display.
type CommandAction struct {
	Read      *ReadAction      `union:"read,ReadCommandAction"`
	ListFiles *ListFilesAction `union:"listFiles,ListFilesCommandAction"`
	Search    *SearchAction    `union:"search,SearchCommandAction"`
	Unknown   *UnknownAction   `union:"unknown,UnknownCommandAction"`
}

func (CommandAction) UnionKind() UnionKind            { return TaggedUnion }
func (CommandAction) Variants() []Variant             { return taggedVariants[CommandAction]() }
func (u CommandAction) MarshalJSON() ([]byte, error)  { return marshalTagged(u) }
func (u *CommandAction) UnmarshalJSON(b []byte) error { return unmarshalTagged(b, u) }

// ReadAction: the command reads a file (cat, head, tail...).
type ReadAction struct {
	Command string `json:"command"`
	Name    string `json:"name"`
	Path    string `json:"path"`
}

// ListFilesAction: the command lists a directory (ls...).
type ListFilesAction struct {
	Command string  `json:"command"`
	Path    *string `json:"path"`
}

// SearchAction: the command searches files (grep, rg...).
type SearchAction struct {
	Command string  `json:"command"`
	Query   *string `json:"query"`
	Path    *string `json:"path"`
}

// UnknownAction: anything else.
type UnknownAction struct {
	Command string `json:"command"`
}
