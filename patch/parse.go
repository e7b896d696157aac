package patch

import (
	"fmt"
	"strings"
)

// Markers of the format.
const (
	beginMarker    = "*** Begin Patch"
	endMarker      = "*** End Patch"
	addMarker      = "*** Add File: "
	deleteMarker   = "*** Delete File: "
	updateMarker   = "*** Update File: "
	moveMarker     = "*** Move to: "
	eofMarker      = "*** End of File"
	contextMarker  = "@@"
	contextMarkerS = "@@ "
)

// Kind is what a file operation does.
type Kind int

const (
	// Add creates a file (it must not exist).
	Add Kind = iota + 1
	// Delete removes a file.
	Delete
	// Update changes a file's lines, and moves it when MoveTo is set.
	Update
)

func (k Kind) String() string {
	switch k {
	case Add:
		return "add"
	case Delete:
		return "delete"
	case Update:
		return "update"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// FileOp is one file section of a patch.
type FileOp struct {
	Kind Kind
	// Path is the file's path as the patch names it (relative to the
	// working directory, or absolute).
	Path string
	// MoveTo is the new path of an updated file; empty when it stays.
	MoveTo string
	// Lines are the contents of an added file.
	Lines []string
	// Chunks are the changes of an updated file, in file order.
	Chunks []Chunk
}

// Chunk is one @@ section of an update: Old lines (context and removed)
// become New lines (context and added).
type Chunk struct {
	// Context is the text after "@@ ": a line that precedes the change,
	// used to find it (for example a function's signature). May be empty.
	Context string
	Old     []string
	New     []string
	// AtEOF says the chunk must match at the end of the file.
	AtEOF bool
}

// ParseError says which line of a patch is wrong and why.
type ParseError struct {
	Line int // 1-based
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("invalid patch: line %d: %s", e.Line, e.Msg) }

// Parse reads a patch. Surrounding blank lines, CRLF line ends and a
// heredoc wrapper (`apply_patch <<'EOF'` ... `EOF`, which models sometimes
// send) are tolerated.
func Parse(text string) ([]FileOp, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) >= 2 && strings.HasPrefix(lines[0], "apply_patch") && strings.Contains(lines[0], "<<") {
		lines = lines[1 : len(lines)-1] // the heredoc's first and last lines
	}
	if len(lines) == 0 || marker(lines[0]) != beginMarker {
		return nil, &ParseError{1, fmt.Sprintf("the first line must be %q", beginMarker)}
	}
	if marker(lines[len(lines)-1]) != endMarker {
		return nil, &ParseError{len(lines), fmt.Sprintf("the last line must be %q", endMarker)}
	}
	p := parser{lines: lines, i: 1}
	var ops []FileOp
	for p.i < len(lines)-1 {
		op, err := p.fileOp()
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return nil, &ParseError{1, "the patch changes no file"}
	}
	return ops, nil
}

type parser struct {
	lines []string // the patch, Begin and End markers included
	i     int      // next line
}

func (p *parser) errorf(format string, args ...any) error {
	return &ParseError{p.i + 1, fmt.Sprintf(format, args...)}
}

// last is the index of the End marker.
func (p *parser) last() int { return len(p.lines) - 1 }

func (p *parser) fileOp() (FileOp, error) {
	line := p.lines[p.i]
	switch {
	case strings.HasPrefix(line, addMarker):
		op := FileOp{Kind: Add, Path: strings.TrimSpace(line[len(addMarker):]), Lines: []string{}}
		if op.Path == "" {
			return op, p.errorf("Add File without a path")
		}
		p.i++
		for p.i < p.last() && strings.HasPrefix(p.lines[p.i], "+") {
			op.Lines = append(op.Lines, p.lines[p.i][1:])
			p.i++
		}
		return op, nil
	case strings.HasPrefix(line, deleteMarker):
		op := FileOp{Kind: Delete, Path: strings.TrimSpace(line[len(deleteMarker):])}
		if op.Path == "" {
			return op, p.errorf("Delete File without a path")
		}
		p.i++
		return op, nil
	case strings.HasPrefix(line, updateMarker):
		op := FileOp{Kind: Update, Path: strings.TrimSpace(line[len(updateMarker):])}
		if op.Path == "" {
			return op, p.errorf("Update File without a path")
		}
		p.i++
		if p.i < p.last() && strings.HasPrefix(p.lines[p.i], moveMarker) {
			op.MoveTo = strings.TrimSpace(p.lines[p.i][len(moveMarker):])
			if op.MoveTo == "" {
				return op, p.errorf("Move to without a path")
			}
			p.i++
		}
		for p.i < p.last() && !strings.HasPrefix(p.lines[p.i], "*** ") || p.i < p.last() && marker(p.lines[p.i]) == eofMarker {
			c, err := p.chunk(len(op.Chunks) == 0)
			if err != nil {
				return op, err
			}
			op.Chunks = append(op.Chunks, c)
		}
		if len(op.Chunks) == 0 && op.MoveTo == "" {
			return op, &ParseError{p.i, fmt.Sprintf("Update File %s has no changes", op.Path)}
		}
		return op, nil
	}
	return FileOp{}, p.errorf("%q is not a file operation: want \"*** Add File: \", \"*** Delete File: \" or \"*** Update File: \"", line)
}

// chunk reads one @@ section. The first chunk of a file may omit its @@
// line.
func (p *parser) chunk(first bool) (Chunk, error) {
	var c Chunk
	switch line := p.lines[p.i]; {
	case marker(line) == contextMarker:
		p.i++
	case strings.HasPrefix(line, contextMarkerS):
		c.Context = line[len(contextMarkerS):]
		p.i++
	case !first:
		return c, p.errorf("%q: want an @@ line to start the next change", line)
	}
	start := p.i
	for p.i < p.last() {
		line := p.lines[p.i]
		if marker(line) == eofMarker {
			c.AtEOF = true
			p.i++
			break
		}
		if strings.HasPrefix(line, "*** ") || strings.HasPrefix(line, contextMarker) {
			break
		}
		switch {
		case line == "":
			// A blank line is an empty context line (models drop the space).
			c.Old = append(c.Old, "")
			c.New = append(c.New, "")
		case line[0] == ' ':
			c.Old = append(c.Old, line[1:])
			c.New = append(c.New, line[1:])
		case line[0] == '-':
			c.Old = append(c.Old, line[1:])
		case line[0] == '+':
			c.New = append(c.New, line[1:])
		default:
			return c, p.errorf("%q: a change line starts with ' ', '-' or '+'", line)
		}
		p.i++
	}
	if p.i == start || len(c.Old) == 0 && len(c.New) == 0 {
		return c, p.errorf("empty change (an @@ section without lines)")
	}
	return c, nil
}

// marker is a line as compared with the markers, which models sometimes
// follow with blanks.
func marker(line string) string { return strings.TrimRight(line, " \t") }
