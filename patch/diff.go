package patch

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

// unifiedDiff renders reps on lines as unified diff hunks. The patch says
// exactly which lines change, so no diff algorithm is needed: each
// replacement is one run of "-" then "+" lines, and runs closer than
// twice the context share a hunk.
func unifiedDiff(lines []string, reps []replacement) string {
	var b strings.Builder
	shift := 0 // new line number minus old line number before the hunk
	for i := 0; i < len(reps); {
		// The hunk covers reps[i:j].
		j := i + 1
		for j < len(reps) && reps[j].start-(reps[j-1].start+reps[j-1].n) <= 2*diffContext {
			j++
		}
		first, last := reps[i], reps[j-1]
		from := max(0, first.start-diffContext)
		to := min(len(lines), last.start+last.n+diffContext)
		var body strings.Builder
		oldN, newN := 0, 0
		at := from
		for _, r := range reps[i:j] {
			for ; at < r.start; at++ {
				body.WriteString(" " + lines[at] + "\n")
				oldN++
				newN++
			}
			for _, l := range lines[r.start : r.start+r.n] {
				body.WriteString("-" + l + "\n")
				oldN++
			}
			for _, l := range r.repl {
				body.WriteString("+" + l + "\n")
				newN++
			}
			at = r.start + r.n
		}
		for ; at < to; at++ {
			body.WriteString(" " + lines[at] + "\n")
			oldN++
			newN++
		}
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkRange(from, oldN), hunkRange(from+shift, newN))
		b.WriteString(body.String())
		for _, r := range reps[i:j] {
			shift += len(r.repl) - r.n
		}
		i = j
	}
	return b.String()
}

// hunkRange is a unified diff range: 1-based start and count, with the
// start of an empty range being the line before it.
func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
