package netapproval

import "fmt"

// names spells the values of a small enum: index v holds v's spelling and
// "" marks a value that is not valid. Each enum has one table; its String,
// its parsing and the file format all go through it, so a value is spelled
// in exactly one place. (Wire tags are package protocol's; session maps
// them to these values at its edge.)
type names[T ~uint8] []string

// name returns v's spelling, or T(n) for a value outside the table.
func (n names[T]) name(v T) string {
	if n.valid(v) {
		return n[v]
	}
	return fmt.Sprintf("%T(%d)", v, uint8(v))
}

func (n names[T]) valid(v T) bool { return int(v) < len(n) && n[v] != "" }

// parse returns the value spelled s.
func (n names[T]) parse(s string) (T, bool) {
	for i, name := range n {
		if name != "" && name == s {
			return T(i), true
		}
	}
	return 0, false
}
